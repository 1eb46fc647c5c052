/**
 * Microsoft 365 destination: one calendar of one Exchange Online mailbox, written through
 * Microsoft Graph with application permission (`Calendars.ReadWrite`), one single event
 * per consolidated occurrence (see `microsoft365/event_body.ts` for the fields).
 *
 * Graph names events itself, so there is no `hrefFor`: `href` is the event id and `etag`
 * its `@odata.etag`. Each copy carries the calsync marker (`microsoft365/marker.ts`): a
 * digest of the occurrence key, which {@link Microsoft365Destination.markerOf} offers the
 * reconciler, and the content hash. An event without it is foreign and never changed or
 * deleted. Creates carry a `transactionId` derived from calendar, key and hash, so a create
 * sent again after a lost answer returns the event the first one made ("Create event",
 * https://learn.microsoft.com/en-us/graph/api/user-post-events?view=graph-rest-1.0).
 * Writes go in `$batch` requests of up to 20, one at a time ("JSON batching",
 * https://learn.microsoft.com/en-us/graph/json-batching); updates and deletes send the
 * etag in `If-Match`, and a 412 is `precondition_failed`, after which the reconciler reads
 * the item again and decides anew.
 *
 * A copy is never a meeting, and calsync never writes an event that has become one:
 * someone who adds attendees to a copy has made it a meeting, and changing or deleting it
 * would mail them, so such an event is refused (`rejected`) and left as it is.
 *
 * Change detection uses the delta query of a calendar view over a wide window ("Get
 * incremental changes to events in a calendar view",
 * https://learn.microsoft.com/en-us/graph/delta-query-events): the destination remembers
 * what it listed and wrote (`microsoft365/listing.ts`), `changeToken()` follows the last
 * `@odata.deltaLink` (one small request when nothing changed) and `list()` answers from
 * memory after reading again only what delta reported changed. A 410 from delta means
 * the server forgot the round: the next listing reads everything. Delta cannot expand
 * extended properties, so a full listing reads the calendar's events with their marker
 * (1,000 a page). Events outside the window are listed but their later changes are not
 * seen until a full listing (an admin's full reconcile lists fresh).
 *
 * All-day items are written in the mailbox's own time zone (`mailboxSettings`, which
 * needs `MailboxSettings.Read`), else the configured `timezone`, else the master's.
 *
 * @module
 */
import type { Event, SingleValueLegacyExtendedProperty } from "@microsoft/microsoft-graph-types";
import type {
  GraphBatchRequest,
  GraphBatchResult,
  GraphClient,
} from "../../shared/graph/client.ts";
import { GraphError } from "../../shared/graph/errors.ts";
import { resolveZone } from "../../shared/timezones.ts";
import { createBody, eventBody, graphZoneName } from "./microsoft365/event_body.ts";
import { translated } from "./microsoft365/errors.ts";
import { type DeltaEntry, Listing, type SeenItem } from "./microsoft365/listing.ts";
import { MARKER_EXPAND, markerOf, readMarker } from "./microsoft365/marker.ts";
import {
  type BatchWrites,
  type Destination,
  DestinationError,
  type DestinationItem,
  type ItemResult,
  type RemoteItem,
  type RemoveRequest,
  type UpdateRequest,
} from "./types.ts";

/** Requests of one `$batch`: Graph's limit. */
export const GRAPH_BATCH_SIZE = 20;

/** Events a listing or delta page asks for: the most Outlook collections give. */
const PAGE_SIZE = 1000;

/**
 * How far the delta window reaches back and ahead of the moment its round starts: beyond
 * the default retention (400 days) and any sync window agents are likely to use.
 */
const DELTA_PAST_DAYS = 731;
const DELTA_FUTURE_DAYS = 1827;

const DAY_MS = 86_400_000;

/** What a listing, read or delta page asks of an event. */
const ITEM_SELECT = "id,attendees";
const DELTA_SELECT = "id,seriesMasterId";

/** How the destination's settings are named in messages. */
export interface Microsoft365SettingNames {
  /** The mailbox's setting, such as `DESTINATIONS_FILE d.json: [0].mailbox`. */
  mailbox: string;
  /** The calendar name's setting. */
  calendarName: string;
}

/** How to reach the calendar. */
export interface Microsoft365DestinationOptions {
  /** Configured id of the destination. */
  id: string;
  /** A Graph client for the tenant, asking `Calendars.ReadWrite` in its messages. */
  client: GraphClient;
  /** The mailbox's user principal name. */
  mailbox: string;
  /** A calendar of the mailbox by name; default its default calendar. */
  calendarName?: string | null;
  /** IANA zone of all-day items when the mailbox's settings cannot be read. */
  timezone?: string | null;
  /** How messages name the settings. */
  settingNames: Microsoft365SettingNames;
  /** The Graph host, for {@link Destination.displayUrl}. */
  graphUrl: string;
  /** Clock of the delta window; default the real one. */
  now?: () => Date;
}

/** An event as Graph answers it, as far as the destination reads it. */
type GraphEvent = Event & {
  "@odata.etag"?: string;
  "@removed"?: { reason?: string };
  singleValueExtendedProperties?: SingleValueLegacyExtendedProperty[];
};

/** An encoded query value, spaces as `%20` (Graph reads `+` literally in some places). */
const q = (value: string) => encodeURIComponent(value);

/** The item an event as read (with the marker expanded) stands for. */
function seenOf(event: GraphEvent): SeenItem {
  const marker = readMarker(event.singleValueExtendedProperties);
  return {
    href: event.id!,
    etag: event["@odata.etag"] ?? null,
    key: marker?.id ?? null,
    hash: marker?.hash ?? null,
    meeting: (event.attendees ?? []).length > 0,
  };
}

/** A delta page entry. */
function deltaEntryOf(event: GraphEvent): DeltaEntry {
  return {
    id: event.id!,
    etag: event["@odata.etag"] ?? null,
    seriesMasterId: event.seriesMasterId ?? null,
    removed: event["@removed"] !== undefined,
  };
}

/** Whether a read answered that nothing is at the id (gone, or no id of this mailbox). */
function isGone(status: number, body: unknown): boolean {
  const code = (body as { error?: { code?: string } } | null)?.error?.code;
  return status === 404 || (status === 400 && code === "ErrorInvalidIdMalformed");
}

function succeeded<T>(value: T): ItemResult<T> {
  return { ok: true, value };
}

function failed<T>(error: DestinationError): ItemResult<T> {
  return { ok: false, error };
}

/** The value of a single write, or its error thrown. */
function unwrap<T>(result: ItemResult<T>): T {
  if (!result.ok) throw result.error;
  return result.value;
}

/** `list` in pieces of at most `size`. */
function chunks<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/** The Microsoft 365 destination; see the module comment. */
class Microsoft365Destination implements Destination {
  readonly type = "microsoft365";
  readonly displayUrl: string;
  readonly batch: BatchWrites;
  readonly #client: GraphClient;
  readonly #user: string;
  readonly #calendar: string;
  readonly #allDayZone: string;
  readonly #now: () => Date;
  readonly #listing = new Listing();
  /** Tells this process's tokens from those of an earlier one, whose memory is gone. */
  readonly #epoch = crypto.randomUUID().slice(0, 8);
  #deltaLink: string | null = null;
  /** The `$batch` in flight, which the next one waits for. */
  #inFlight: Promise<unknown> = Promise.resolve();

  constructor(
    readonly id: string,
    client: GraphClient,
    user: string,
    calendar: string,
    allDayZone: string,
    displayUrl: string,
    now: () => Date,
  ) {
    this.#client = client;
    this.#user = user;
    this.#calendar = calendar;
    this.#allDayZone = allDayZone;
    this.displayUrl = displayUrl;
    this.#now = now;
    this.batch = {
      batchSize: GRAPH_BATCH_SIZE,
      createBatch: (items) => translated(() => this.#createBatch(items)),
      updateBatch: (requests) => translated(() => this.#updateBatch(requests)),
      removeBatch: (requests) => translated(() => this.#removeBatch(requests)),
    };
  }

  markerOf(key: string): string {
    return markerOf(key);
  }

  changeToken(): Promise<string | null> {
    return translated(async () => {
      await this.#followDelta();
      return `${this.#epoch}:${this.#listing.version}`;
    });
  }

  list(options: { fresh?: boolean } = {}): Promise<RemoteItem[]> {
    return translated(async () => {
      if (options.fresh || !this.#listing.complete) {
        // The delta round starts before the listing, so whatever changes while the
        // listing is read is reported by the round's next request.
        if (this.#deltaLink === null) await this.#followDelta();
        await this.#readAll();
      } else {
        await this.#followDelta();
        await this.#read(this.#listing.dirty());
        // A 410 on the way made the memory go: read everything after all.
        if (!this.#listing.complete) await this.#readAll();
      }
      return this.#listing.items();
    });
  }

  get(href: string): Promise<RemoteItem | null> {
    return translated(async () => {
      const [found] = await this.#read([href]);
      return found === null ? null : this.#remote(found);
    });
  }

  getMany(hrefs: readonly string[]): Promise<RemoteItem[]> {
    return translated(async () =>
      (await this.#read(hrefs)).flatMap((item) => (item === null ? [] : [this.#remote(item)]))
    );
  }

  async create(item: DestinationItem): Promise<{ href: string; etag: string | null }> {
    return unwrap((await this.batch.createBatch([item]))[0]);
  }

  async update(
    href: string,
    etag: string | null,
    item: DestinationItem,
  ): Promise<{ etag: string | null }> {
    return unwrap((await this.batch.updateBatch([{ href, etag, item }]))[0]);
  }

  async remove(href: string, etag: string | null): Promise<void> {
    unwrap((await this.batch.removeBatch([{ href, etag }]))[0]);
  }

  #remote({ href, etag, key, hash }: SeenItem): RemoteItem {
    return { href, etag, key, hash };
  }

  #eventUrl(href: string, query = ""): string {
    return `${this.#user}/events/${encodeURIComponent(href)}${query}`;
  }

  /** Follows the delta round (starting one when there is none), noting what it reports. */
  async #followDelta(): Promise<void> {
    const initial = this.#deltaLink === null;
    const start = this.#deltaLink ?? this.#newDeltaRound();
    const prefer = { prefer: `odata.maxpagesize=${PAGE_SIZE}` };
    try {
      for await (const page of this.#client.pages<GraphEvent>(start, prefer)) {
        // The first round lists the whole window without markers: it only sets the base.
        if (!initial) this.#listing.apply(page.value.map(deltaEntryOf));
        if (page.deltaLink !== null) this.#deltaLink = page.deltaLink;
      }
    } catch (error) {
      // 410 Gone: the server no longer knows the round ("Use delta query", the resync
      // path); a 404 on a link that worked before is read the same way, as the agent's
      // source does. Start again from nothing, once.
      const forgotten = error instanceof GraphError && [404, 410].includes(error.status);
      if (!forgotten || initial) throw error;
      this.#deltaLink = null;
      this.#listing.forget();
      await this.#followDelta();
    }
  }

  /** The first request of a delta round over the window around now. */
  #newDeltaRound(): string {
    const now = this.#now().getTime();
    const from = new Date(now - DELTA_PAST_DAYS * DAY_MS).toISOString().slice(0, 19);
    const to = new Date(now + DELTA_FUTURE_DAYS * DAY_MS).toISOString().slice(0, 19);
    return `${this.#calendar}/calendarView/delta?startDateTime=${q(`${from}Z`)}` +
      `&endDateTime=${q(`${to}Z`)}&$select=${DELTA_SELECT}`;
  }

  /** Reads every event of the calendar with its marker, replacing what is remembered. */
  async #readAll(): Promise<void> {
    const url = `${this.#calendar}/events?$select=${ITEM_SELECT}&$expand=${q(MARKER_EXPAND)}` +
      `&$top=${PAGE_SIZE}`;
    const items: SeenItem[] = [];
    for await (const page of this.#client.pages<GraphEvent>(url)) {
      items.push(...page.value.map(seenOf));
    }
    this.#listing.replace(items);
  }

  /**
   * The events at `hrefs` with their marker, null where none is, in batches; what is
   * there now is noted.
   */
  async #read(hrefs: readonly string[]): Promise<(SeenItem | null)[]> {
    const found: (SeenItem | null)[] = [];
    for (const part of chunks(hrefs, GRAPH_BATCH_SIZE)) found.push(...await this.#readBatch(part));
    return found;
  }

  /** {@link #read} of at most one batch. */
  async #readBatch(hrefs: readonly string[]): Promise<(SeenItem | null)[]> {
    const query = `?$select=${ITEM_SELECT}&$expand=${q(MARKER_EXPAND)}`;
    const requests = hrefs.map((href, i) => ({
      id: String(i),
      method: "GET",
      url: this.#eventUrl(href, query),
    }));
    const results = await this.#batch(requests);
    return results.map((result, i) => {
      const href = hrefs[i];
      if (isGone(result.status, result.body)) {
        this.#listing.noteRead(href, null);
        return null;
      }
      if (result.status !== 200) throw this.#client.errorOf(result, requests[i].url);
      const item = seenOf(result.body as GraphEvent);
      this.#listing.noteRead(href, item);
      return item;
    });
  }

  /**
   * One `$batch` at a time: Exchange Online allows an app 4 concurrent requests per mailbox
   * ("Outlook service limits", https://learn.microsoft.com/en-us/graph/throttling-limits)
   * and may run a batch's requests in parallel, so several batches at once (the reconciler
   * writes up to 4 groups concurrently) would mostly earn 429s.
   */
  #batch(requests: GraphBatchRequest[]): Promise<GraphBatchResult[]> {
    const run = this.#inFlight.then(() => this.#client.batch(requests));
    this.#inFlight = run.catch(() => {});
    return run;
  }

  /** The error of a failed write result, in the destination's terms. */
  #writeError(result: GraphBatchResult, url: string): DestinationError {
    const error = this.#client.errorOf(result, url);
    return new DestinationError(error.kind, error.message, error.retryAfterMs);
  }

  async #createBatch(
    items: DestinationItem[],
  ): Promise<ItemResult<{ href: string; etag: string | null }>[]> {
    const requests = items.map((item, i) => ({
      id: String(i),
      method: "POST",
      url: `${this.#calendar}/events`,
      body: createBody(item, this.#allDayZone, this.#calendar),
    }));
    const results = await this.#batch(requests);
    return results.map((result, i) => {
      if (result.status !== 201 && result.status !== 200) {
        return failed(this.#writeError(result, requests[i].url));
      }
      const event = result.body as GraphEvent;
      const written = this.#written(event, items[i]);
      return succeeded({ href: written.href, etag: written.etag });
    });
  }

  /** Notes an event calsync just wrote for `item`, as Graph answered it. */
  #written(event: GraphEvent, item: DestinationItem): SeenItem {
    const seen: SeenItem = {
      href: event.id!,
      etag: event["@odata.etag"] ?? null,
      key: markerOf(item.key),
      hash: item.hash,
      meeting: false,
    };
    this.#listing.noteWrite(seen.href, seen);
    return seen;
  }

  /**
   * For each request, the etag to send in `If-Match`, or why the item must not be written.
   * An item last seen by this process at exactly `etag`, owned and no meeting, is written
   * at once: `If-Match` makes sure it is still that item. Any other is read first (in one
   * batch): gone (`gone`), foreign, a meeting, or changed since `etag` are refused.
   */
  async #checked(
    requests: readonly { href: string; etag: string | null }[],
    action: "update" | "delete",
  ): Promise<(string | "gone" | DestinationError)[]> {
    const verdicts: (string | "gone" | DestinationError | null)[] = requests.map((r) => {
      const seen = this.#listing.seen(r.href);
      return r.etag !== null && seen?.etag === r.etag && seen.key !== null && !seen.meeting
        ? r.etag
        : null;
    });
    const unsure = verdicts.flatMap((v, i) => (v === null ? [i] : []));
    if (unsure.length > 0) {
      const current = await this.#read(unsure.map((i) => requests[i].href));
      unsure.forEach((index, j) => {
        verdicts[index] = this.#refusal(requests[index], current[j], action);
      });
    }
    return verdicts as (string | "gone" | DestinationError)[];
  }

  #refusal(
    request: { href: string; etag: string | null },
    current: SeenItem | null,
    action: "update" | "delete",
  ): string | "gone" | DestinationError {
    if (current === null) return "gone";
    if (current.key === null) {
      return new DestinationError(
        "rejected",
        `${request.href} was not written by calsync; refusing to ${action} it`,
      );
    }
    if (current.meeting) {
      return new DestinationError(
        "rejected",
        `${request.href} has attendees (someone made calsync's copy a meeting); refusing to ` +
          `${action} it, since that would mail them: remove the attendees in Outlook or ` +
          "delete the event there",
      );
    }
    if (request.etag !== null && current.etag !== request.etag) {
      return new DestinationError(
        "precondition_failed",
        `${request.href} changed since ${request.etag}`,
      );
    }
    return current.etag ?? "*";
  }

  async #updateBatch(requests: UpdateRequest[]): Promise<ItemResult<{ etag: string | null }>[]> {
    const verdicts = await this.#checked(requests, "update");
    const results: ItemResult<{ etag: string | null }>[] = [];
    const sending: { index: number; request: GraphBatchRequest }[] = [];
    verdicts.forEach((verdict, index) => {
      const { href, item } = requests[index];
      if (verdict instanceof DestinationError) results[index] = failed(verdict);
      else if (verdict === "gone") {
        results[index] = failed(
          new DestinationError("precondition_failed", `${href}: the event is gone`),
        );
      } else {
        sending.push({
          index,
          request: {
            id: String(index),
            method: "PATCH",
            url: this.#eventUrl(href),
            body: eventBody(item, this.#allDayZone),
            headers: { "if-match": verdict },
          },
        });
      }
    });
    if (sending.length === 0) return results;
    const answers = await this.#batch(sending.map((s) => s.request));
    answers.forEach((result, i) => {
      const { index, request } = sending[i];
      if (result.status === 200) {
        const written = this.#written(result.body as GraphEvent, requests[index].item);
        results[index] = succeeded({ etag: written.etag });
      } else if (isGone(result.status, result.body)) {
        results[index] = failed(
          new DestinationError("precondition_failed", `${request.url}: the event is gone`),
        );
      } else results[index] = failed(this.#writeError(result, request.url));
    });
    return results;
  }

  async #removeBatch(requests: RemoveRequest[]): Promise<ItemResult<void>[]> {
    const verdicts = await this.#checked(requests, "delete");
    const results: ItemResult<void>[] = [];
    const sending: { index: number; request: GraphBatchRequest }[] = [];
    verdicts.forEach((verdict, index) => {
      if (verdict instanceof DestinationError) results[index] = failed(verdict);
      else if (verdict === "gone") results[index] = succeeded(undefined);
      else {
        sending.push({
          index,
          request: {
            id: String(index),
            method: "DELETE",
            url: this.#eventUrl(requests[index].href),
            headers: { "if-match": verdict },
          },
        });
      }
    });
    if (sending.length === 0) return results;
    const answers = await this.#batch(sending.map((s) => s.request));
    answers.forEach((result, i) => {
      const { index, request } = sending[i];
      if (result.status === 204 || result.status === 200 || isGone(result.status, result.body)) {
        this.#listing.noteWrite(requests[index].href, null);
        results[index] = succeeded(undefined);
      } else results[index] = failed(this.#writeError(result, request.url));
    });
    return results;
  }
}

/** The mailbox's time zone as Graph names it (Windows or IANA), or null when unreadable. */
async function mailboxZoneName(client: GraphClient, user: string): Promise<string | null> {
  try {
    const { body } = await client.request<{ value?: string }>(
      "GET",
      `${user}/mailboxSettings/timeZone`,
    );
    return typeof body?.value === "string" && body.value !== "" ? body.value : null;
  } catch (error) {
    // Without MailboxSettings.Read Graph answers 403; a blocked mailbox, a wrong secret or
    // a missing user still fail the first calendar request with their own message.
    if (error instanceof GraphError && error.status === 403) return null;
    throw error;
  }
}

/**
 * The Graph zone name of all-day items: the mailbox's own zone, else `configured` (IANA),
 * else the master's.
 */
async function allDayZoneOf(
  client: GraphClient,
  user: string,
  configured: string | null,
): Promise<string> {
  const mailbox = await mailboxZoneName(client, user);
  const iana = mailbox === null ? undefined : resolveZone(mailbox);
  if (iana !== undefined) return graphZoneName(iana);
  return graphZoneName(configured || Intl.DateTimeFormat().resolvedOptions().timeZone);
}

/** The path of the calendar named `name` (or of the default calendar). */
async function calendarPath(
  client: GraphClient,
  user: string,
  name: string | null,
  names: Microsoft365SettingNames,
  mailbox: string,
): Promise<string> {
  if (!name) return `${user}/calendar`;
  const calendars: { id?: string; name?: string }[] = [];
  for await (
    const page of client.pages<{ id?: string; name?: string }>(
      `${user}/calendars?$select=id,name&$top=${PAGE_SIZE}`,
    )
  ) calendars.push(...page.value);
  const exact = calendars.filter((c) => c.name === name);
  const folded = calendars.filter((c) => c.name?.toLowerCase() === name.toLowerCase());
  const found = exact[0] ?? (folded.length === 1 ? folded[0] : undefined);
  if (found?.id) return `${user}/calendars/${encodeURIComponent(found.id)}`;
  throw new DestinationError(
    "not_found",
    `${names.calendarName}: the mailbox ${mailbox} has no calendar named "${name}" (it has ` +
      `${calendars.map((c) => `"${c.name}"`).join(", ") || "none"}): create it in Outlook, ` +
      `or leave ${names.calendarName} empty for the default calendar`,
  );
}

/** Where the calendar is, for status and logs: the mailbox's calendar URL in Graph. */
export function microsoft365DisplayUrl(
  graphUrl: string,
  mailbox: string,
  calendarName?: string | null,
): string {
  const base = `${graphUrl.replace(/\/+$/, "")}/v1.0/users/${encodeURIComponent(mailbox)}/calendar`;
  return calendarName ? `${base}#${encodeURIComponent(calendarName)}` : base;
}

/**
 * Opens the calendar and returns it as a {@link Destination} with batch writes: reads the
 * mailbox's time zone and, with a calendar name, finds that calendar. Fails with a
 * {@link DestinationError} naming the fix (a refused secret, a missing user, a calendar
 * that is not there).
 */
export async function createMicrosoft365Destination(
  options: Microsoft365DestinationOptions,
): Promise<Destination> {
  const { client, mailbox } = options;
  const user = `/users/${encodeURIComponent(mailbox)}`;
  return await translated(async () => {
    const zone = await allDayZoneOf(client, user, options.timezone ?? null);
    const calendar = await calendarPath(
      client,
      user,
      options.calendarName ?? null,
      options.settingNames,
      mailbox,
    );
    const display = microsoft365DisplayUrl(options.graphUrl, mailbox, options.calendarName);
    return new Microsoft365Destination(
      options.id,
      client,
      user,
      calendar,
      zone,
      display,
      options.now ?? (() => new Date()),
    );
  });
}
