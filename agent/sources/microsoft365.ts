/**
 * Microsoft 365 source: one calendar of an Exchange Online mailbox, read through Microsoft
 * Graph with application permission (`Calendars.Read`) of an Entra app registration.
 *
 * Config: `{"type": "microsoft365", "name": "Office", "tenant_id": "…", "client_id": "…",
 * "client_secret": "…", "mailbox": "ann@contoso.com"}` (or `certificate_file`, a PEM file
 * with the private key and the certificate, relative to the config file), optional
 * `calendar_name` (default the mailbox's default calendar), `include_body` (default false),
 * `timeout_seconds` (default 60), and `authority`/`graph_url` for a national cloud.
 *
 * The calendar is read with the delta query of its calendarView over the sync window, in
 * UTC ("Get incremental changes to events in a calendar view",
 * https://learn.microsoft.com/en-us/graph/delta-query-events): the first pass pages
 * through every occurrence and keeps the `@odata.deltaLink`; later passes of the same
 * window ask only for what changed, so an unchanged calendar costs one small request. The
 * link, the events it produced and the token live in this source instance, in memory: a
 * restarted agent, a moved window or a 410 Gone start a full read again.
 *
 * @module
 */
import { IncludeBody, timeoutSeconds } from "../source_settings.ts";
import { envSecret } from "../../shared/env_secret.ts";
import { resolve } from "node:path";
import type { Event } from "@microsoft/microsoft-graph-types";
import { z } from "zod";
import { BATCH_LIMIT, createGraphClient, type GraphClient } from "../../shared/graph/client.ts";
import { GraphError } from "../../shared/graph/errors.ts";
import { readGraphEvent } from "../../shared/graph/occurrence.ts";
import { GraphAppSettings } from "../../shared/graph/settings.ts";
import { type Occurrence, occurrenceKey, overlaps, type TimeWindow } from "../../shared/model.ts";
import { type ReadWarning, readWarning } from "../../shared/warnings.ts";
import type { FetchLike } from "../http.ts";
import type { SourceContext, SourceReading, SourceType } from "./mod.ts";

const UPN_HINT = "expected the mailbox's user principal name such as ann@contoso.com";

/** The keys of a `microsoft365` source. */
export const Microsoft365Settings = GraphAppSettings.safeExtend({
  // As the exchange source's password: the config file need not hold the secret.
  client_secret: envSecret(
    "expected the client secret's Value (not its Secret ID) as a string, or env:NAME",
  ).default(""),
  mailbox: z.string({ error: UPN_HINT }).regex(/^[^@\s/]+@[^@\s/]+$/, { error: UPN_HINT }),
  calendar_name: z.string({ error: "expected a calendar's name" }).min(1).nullable()
    .default(null),
  include_body: IncludeBody,
  timeout_seconds: timeoutSeconds(60),
});

/** Validated settings of a `microsoft365` source. */
export type Microsoft365Settings = z.output<typeof Microsoft365Settings>;

/** What may be injected, for tests. */
export interface Microsoft365SourceOptions {
  /** Waits between throttled tries; default real timers. */
  sleep?: (ms: number) => Promise<void>;
  /** Events per delta page (`Prefer: odata.maxpagesize`); default 100. */
  pageSize?: number;
  /** The clock of the refusal back-off; default `Date.now`. */
  now?: () => number;
}

/**
 * How long refused credentials are not offered again with the same settings. Entra may
 * lock or flag an app that keeps presenting a bad secret; an admin fixing the config
 * changes the settings, which ends the wait at once.
 */
export const REFUSAL_BACKOFF_MS = 60 * 60_000;

/** What one configured source keeps between passes. */
interface SourceState {
  client: GraphClient;
  /** The calendar's path below `/users/{mailbox}`, once found. */
  calendarPath: string | null;
  /** The window the delta link tracks. */
  window: TimeWindow | null;
  deltaLink: string | null;
  /** The events of the view by Graph id, as the delta rounds left them. */
  events: Map<string, Event>;
  /** Series master id → its iCalUId (a series keeps its UID for life). */
  seriesUids: Map<string, string>;
  /** Entra's refusal of these credentials, and when it came. */
  refused: { error: GraphError; atMs: number } | null;
}

/** A removed entry of a delta round. */
type DeltaEntry = Event & { "@removed"?: { reason?: string } };

const userPath = (mailbox: string) => `/users/${encodeURIComponent(mailbox)}`;

/** The client's `fetch` on top of the agent's. */
function graphFetch(fetchLike: FetchLike): typeof fetch {
  return (input, init) => fetchLike(new Request(input, init));
}

/** The path of the calendar to read: the default one, or the one named `name`. */
async function findCalendar(client: GraphClient, s: Microsoft365Settings): Promise<string> {
  if (s.calendar_name === null) return "/calendar";
  const calendars: { id: string; name: string }[] = [];
  for await (
    const page of client.pages<{ id: string; name: string }>(
      `${userPath(s.mailbox)}/calendars?$select=id,name`,
    )
  ) calendars.push(...page.value);
  const name = s.calendar_name;
  const exact = calendars.filter((c) => c.name === name);
  const folded = calendars.filter((c) => c.name.toLowerCase() === name.toLowerCase());
  const found = exact[0] ?? (folded.length === 1 ? folded[0] : undefined);
  if (found) return `/calendars/${encodeURIComponent(found.id)}`;
  const names = [...new Set(calendars.map((c) => `"${c.name}"`))].sort().join(", ");
  throw new Error(
    `no calendar named "${name}" in ${s.mailbox}; calendar_name may be one of: ${
      names || "(none)"
    }`,
  );
}

/** The events of one delta round applied to `events` (a copy is changed, not the original). */
async function deltaRound(
  client: GraphClient,
  start: string,
  events: Map<string, Event>,
  headers: Record<string, string>,
): Promise<{ events: Map<string, Event>; deltaLink: string }> {
  const next = new Map(events);
  let deltaLink: string | null = null;
  for await (const page of client.pages<DeltaEntry>(start, headers)) {
    for (const entry of page.value) {
      if (!entry.id) continue;
      if (entry["@removed"]) next.delete(entry.id);
      else next.set(entry.id, entry);
    }
    deltaLink = page.deltaLink ?? deltaLink;
  }
  if (deltaLink === null) {
    throw new GraphError(
      502,
      "NoDeltaLink",
      "server",
      "Microsoft Graph ended the calendar's delta pages without a deltaLink",
    );
  }
  return { events: next, deltaLink };
}

/** Looks up the iCalUId of series masters not yet known, {@link BATCH_LIMIT} per `$batch`. */
async function learnSeriesUids(
  client: GraphClient,
  mailbox: string,
  state: SourceState,
  warnings: ReadWarning[],
): Promise<void> {
  const wanted = new Set<string>();
  for (const event of state.events.values()) {
    const master = event.seriesMasterId;
    if (master && !state.seriesUids.has(master)) wanted.add(master);
  }
  const ids = [...wanted];
  for (let i = 0; i < ids.length; i += BATCH_LIMIT) {
    const chunk = ids.slice(i, i + BATCH_LIMIT);
    const urls = chunk.map((id) =>
      `${userPath(mailbox)}/events/${encodeURIComponent(id)}?$select=iCalUId`
    );
    const results = await client.batch(
      chunk.map((_, j) => ({ id: String(j), method: "GET", url: urls[j] })),
    );
    results.forEach((result, j) => {
      const uid = (result.body as Event | null)?.iCalUId;
      if (result.status === 200 && uid) {
        state.seriesUids.set(chunk[j], uid);
      } else if (result.status === 404) {
        // The series went between the view and this look-up: its occurrences keep their own UIDs.
        warnings.push(
          readWarning(
            "missing-uid",
            `series ${chunk[j]}: not found; its occurrences keep their own iCalUId`,
          ),
        );
      } else {
        throw client.errorOf(result, urls[j]);
      }
    });
  }
}

/** The occurrences of the view's events inside `window`. */
function occurrencesOf(
  state: SourceState,
  s: Microsoft365Settings,
  window: TimeWindow,
  warnings: ReadWarning[],
): Occurrence[] {
  const byKey = new Map<string, Occurrence>();
  for (const event of state.events.values()) {
    // A series master shows through its occurrences, which the view lists on their own.
    if (event.type === "seriesMaster") continue;
    try {
      const read = readGraphEvent(event, {
        seriesUid: event.seriesMasterId ? state.seriesUids.get(event.seriesMasterId) ?? null : null,
        includeBody: s.include_body,
      });
      warnings.push(...read.warnings);
      const occurrence = read.occurrence;
      if (occurrence === null || !overlaps(occurrence, window)) continue;
      const key = occurrenceKey(occurrence);
      if (byKey.has(key)) {
        warnings.push(
          readWarning("duplicate-event", `${event.id}: a second event for ${key}; the first kept`),
        );
        continue;
      }
      byKey.set(key, occurrence);
    } catch (error) {
      warnings.push(
        readWarning("event-skipped", `${event.id}: skipped: ${(error as Error).message}`),
      );
    }
  }
  return [...byKey.values()];
}

/** The body of events only when it is used, so the kept events stay small. */
function trimmed(events: Map<string, Event>, includeBody: boolean): Map<string, Event> {
  if (includeBody) return events;
  for (const event of events.values()) {
    delete event.body;
    delete event.bodyPreview;
  }
  return events;
}

/**
 * A `microsoft365` source type with its own memory of delta links; the agent uses
 * {@link microsoft365Source}, tests make their own.
 */
export function createMicrosoft365Source(
  options: Microsoft365SourceOptions = {},
): SourceType<Microsoft365Settings> {
  const states = new Map<string, SourceState>();
  const pageSize = options.pageSize ?? 100;
  const now = options.now ?? Date.now;

  async function stateFor(s: Microsoft365Settings, context: SourceContext): Promise<SourceState> {
    const certificatePem = s.certificate_file === ""
      ? ""
      : await readCertificate(resolve(context.configDir, s.certificate_file));
    // Any change of what is read or how: a new client, token and delta link.
    const key = JSON.stringify([s, certificatePem]);
    let state = states.get(key);
    if (!state) {
      state = {
        client: createGraphClient({
          tenantId: s.tenant_id,
          clientId: s.client_id,
          clientSecret: s.client_secret,
          certificatePem,
          authority: s.authority,
          graphUrl: s.graph_url,
          fetch: graphFetch(context.fetch),
          credentialsSetting: s.client_secret === "" ? "certificate_file" : "client_secret",
          permission: "Calendars.Read",
          timeoutMs: s.timeout_seconds * 1000,
          sleep: options.sleep,
        }),
        calendarPath: null,
        window: null,
        deltaLink: null,
        events: new Map(),
        seriesUids: new Map(),
        refused: null,
      };
      states.set(key, state);
    }
    return state;
  }

  async function readCalendar(
    s: Microsoft365Settings,
    state: SourceState,
    window: TimeWindow,
  ): Promise<void> {
    const headers = {
      Prefer: `outlook.timezone="UTC", odata.maxpagesize=${pageSize}, ` +
        `outlook.body-content-type="text"`,
    };
    const sameWindow = state.window?.start === window.start && state.window?.end === window.end;
    if (sameWindow && state.deltaLink !== null) {
      try {
        const round = await deltaRound(state.client, state.deltaLink, state.events, headers);
        state.events = trimmed(round.events, s.include_body);
        state.deltaLink = round.deltaLink;
        return;
      } catch (error) {
        // 410 Gone: the server forgot the round; the documented remedy is a full read. A
        // calendar gone (404) is looked up again by that full read.
        const gone = error instanceof GraphError && (error.status === 410 || error.status === 404);
        if (!gone) throw error;
      }
    }
    state.deltaLink = null;
    state.window = null;
    state.calendarPath ??= await findCalendar(state.client, s);
    const query = new URLSearchParams({ startDateTime: window.start, endDateTime: window.end });
    const first = `${userPath(s.mailbox)}${state.calendarPath}/calendarView/delta?${query}`;
    let round: Awaited<ReturnType<typeof deltaRound>>;
    try {
      round = await deltaRound(state.client, first, new Map(), headers);
    } catch (error) {
      // A calendar found by name may have been deleted or replaced: find it again next time.
      if (error instanceof GraphError && error.kind === "not_found") state.calendarPath = null;
      throw error;
    }
    state.events = trimmed(round.events, s.include_body);
    state.deltaLink = round.deltaLink;
    state.window = window;
  }

  return {
    type: "microsoft365",
    settings: Microsoft365Settings,
    describe: (s) =>
      `Microsoft 365 ${s.mailbox}${s.calendar_name ? ` "${s.calendar_name}"` : ""}` +
      (s.graph_url === "https://graph.microsoft.com" ? "" : ` (${s.graph_url})`),
    async read(s, context): Promise<SourceReading> {
      const state = await stateFor(s, context);
      if (state.refused !== null && now() - state.refused.atMs < REFUSAL_BACKOFF_MS) {
        throw new GraphError(
          state.refused.error.status,
          state.refused.error.code,
          state.refused.error.kind,
          `${state.refused.error.message}; not asked again for an hour or until the settings change`,
        );
      }
      try {
        await readCalendar(s, state, context.window);
      } catch (error) {
        const credentials = error instanceof GraphError && error.kind === "unauthorized" &&
          error.code.startsWith("AADSTS");
        if (credentials) state.refused = { error, atMs: now() };
        throw error;
      }
      state.refused = null;
      const warnings: ReadWarning[] = [];
      await learnSeriesUids(state.client, s.mailbox, state, warnings);
      return { occurrences: occurrencesOf(state, s, context.window, warnings), warnings };
    },
  };
}

/** The PEM text of `path`, with an error naming the setting when it cannot be read. */
async function readCertificate(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    throw new Error(
      `certificate_file: cannot read ${path} (${(error as Error).message}); it should be ` +
        "the PEM file with the private key and the certificate uploaded to the app registration",
    );
  }
}

/** Reads a calendar of a Microsoft 365 mailbox through Microsoft Graph. */
export const microsoft365Source: SourceType<Microsoft365Settings> = createMicrosoft365Source();
