/**
 * The agent ⇄ master protocol and the documents the master serves, as zod schemas.
 *
 * @module
 */
import { z } from "zod";
import { Occurrence, occurrenceBounds, occurrenceKey, TimeWindow } from "./model.ts";
import { Instant, toMillis } from "./time.ts";
import { noWarnings, WarningSummary } from "./warnings.ts";

const ID_HINT =
  "1-64 characters: letters, digits, '.', '_' or '-', starting with a letter or digit";

/** An identifier safe in URLs and file names: agent ids and source ids. */
export const Identifier = z
  .string({ error: `expected a string of ${ID_HINT}` })
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, { error: `expected ${ID_HINT}` });

/** A source as an agent declares it when registering. */
export const SourceDeclaration = z.object({
  source_id: Identifier,
  name: z.string().min(1).max(256),
  type: z.string().min(1).max(64),
});
/** A declared source. */
export type SourceDeclaration = z.output<typeof SourceDeclaration>;

/** `POST /api/agents/register` body. */
export const Registration = z.object({
  agent_id: Identifier,
  agent_name: z.string().min(1).max(256),
  environment: z.string().max(256).default(""),
  version: z.string().max(64).default(""),
  sources: z.array(SourceDeclaration).max(256).default([]).superRefine((sources, ctx) => {
    const seen = new Set<string>();
    sources.forEach((s, i) => {
      if (seen.has(s.source_id)) {
        ctx.addIssue({
          code: "custom",
          path: [i, "source_id"],
          message: `source_id '${s.source_id}' appears twice; give each source its own id`,
        });
      }
      seen.add(s.source_id);
    });
  }),
});
/** A validated registration. */
export type Registration = z.output<typeof Registration>;

/**
 * Answer to a registration: the agent's own token, to send as `Bearer` from now on, and
 * for each of its sources the `generated_at` of the last snapshot the master applied
 * (null: none), so an agent notices a master that lost or restored its data.
 */
export const RegistrationResult = z.object({
  agent_id: Identifier,
  token: z.string(),
  sources: z
    .array(z.object({ source_id: z.string(), last_generated_at: z.string().nullable() }))
    .default([]),
});
/** A registration answer. */
export type RegistrationResult = z.output<typeof RegistrationResult>;

/** `POST /api/agents/{agent_id}/heartbeat` body. */
export const Heartbeat = z.object({
  version: z.string().max(64).optional(),
  sync_interval_minutes: z.number().positive().max(1440).optional(),
  sources: z
    .array(z.object({ source_id: Identifier, last_error: z.string().max(4096).nullable() }))
    .max(256)
    .default([]),
});
/** A validated heartbeat. */
export type Heartbeat = z.output<typeof Heartbeat>;

/** A problem found in a snapshot: the JSON path of the offending field and what is wrong. */
export type SnapshotIssue = { path: (string | number)[]; message: string };

/**
 * Checks a snapshot's events taken together, one at a time as they arrive, in bounded
 * memory per event: an occurrence that appears twice, or one that lies outside the window
 * (the master could not tell its deletion from its absence). The window may be known only
 * after the events, so bounds are kept until `issues` is asked.
 */
export class SnapshotEventChecker {
  #first = new Map<string, number>();
  #duplicates: [index: number, first: number][] = [];
  #bounds = new Float64Array(1024);
  #count = 0;

  /** Notes the event at `index` (indexes grow by one from 0) by its key and bounds. */
  add(key: string, startMs: number, endMs: number): void {
    const index = this.#count++;
    const first = this.#first.get(key);
    if (first === undefined) this.#first.set(key, index);
    else this.#duplicates.push([index, first]);
    if (2 * this.#count > this.#bounds.length) {
      const grown = new Float64Array(this.#bounds.length * 2);
      grown.set(this.#bounds);
      this.#bounds = grown;
    }
    this.#bounds[2 * index] = startMs;
    this.#bounds[2 * index + 1] = endMs;
  }

  /** What is wrong with the events noted so far against `window`, in event order. */
  issues(window: TimeWindow): SnapshotIssue[] {
    const issues: SnapshotIssue[] = [];
    const duplicates = new Map(this.#duplicates);
    const [winStart, winEnd] = [toMillis(window.start), toMillis(window.end)];
    for (let i = 0; i < this.#count; i++) {
      const first = duplicates.get(i);
      if (first !== undefined) {
        issues.push({
          path: ["events", i, "uid"],
          message:
            `same uid and recurrence_id as events[${first}]; each occurrence must appear once`,
        });
      }
      if (!(this.#bounds[2 * i] < winEnd && this.#bounds[2 * i + 1] > winStart)) {
        issues.push({
          path: ["events", i, "start"],
          message: "the event lies outside the snapshot window; send only events inside it",
        });
      }
    }
    return issues;
  }
}

/**
 * What is wrong with a snapshot's events taken together (see `SnapshotEventChecker`).
 * Empty when the events are fine.
 */
export function snapshotEventIssues(
  events: readonly Pick<Occurrence, "uid" | "recurrence_id" | "start" | "end">[],
  window: TimeWindow,
): SnapshotIssue[] {
  const checker = new SnapshotEventChecker();
  for (const e of events) checker.add(occurrenceKey(e), ...occurrenceBounds(e));
  return checker.issues(window);
}

/**
 * How a source's events appear in the destinations, set per source in the agent's config
 * and sent with every snapshot. `privacy`: `full` copies everything, `title` keeps title
 * and time only, `busy` shows "Busy" and the time. `label` prefixes titles as
 * `[label] `; `category` is added to the categories. The filters leave events out.
 */
export const SourceSettings = z.object({
  privacy: z.enum(["full", "title", "busy"]).default("full"),
  label: z.string().max(128).default(""),
  category: z.string().max(128).default(""),
  skip_free: z.boolean().default(false),
  skip_private: z.boolean().default(false),
  skip_declined: z.boolean().default(false),
  categories_include: z.array(z.string().max(256)).max(64).default([]),
  categories_exclude: z.array(z.string().max(256)).max(64).default([]),
});
/** Validated source settings. */
export type SourceSettings = z.output<typeof SourceSettings>;
/** Source settings as written in a config (defaults may be left out). */
export type SourceSettingsInput = z.input<typeof SourceSettings>;

/** The fields of a snapshot around its events. */
export const SnapshotEnvelope = z.object({
  window: TimeWindow,
  generated_at: Instant,
  settings: SourceSettings.prefault({}),
  /**
   * What the agent repaired or skipped while reading the source, counted per reason with
   * the first few as samples. Agents before warnings leave it out: no warnings.
   */
  warnings: WarningSummary.default(noWarnings),
  events: z.array(z.unknown()).max(200_000),
});

/**
 * `PUT /api/agents/{agent_id}/sources/{source_id}/snapshot` body: every occurrence of one
 * source that overlaps `window`. Keys are unique and every event overlaps the window.
 */
export const Snapshot = SnapshotEnvelope.extend({ events: z.array(Occurrence).max(200_000) })
  .superRefine((snap, ctx) => {
    for (const issue of snapshotEventIssues(snap.events, snap.window)) {
      ctx.addIssue({ code: "custom", ...issue });
    }
  });
/** A validated snapshot. */
export type Snapshot = z.output<typeof Snapshot>;
/** A snapshot as an agent writes it. */
export type SnapshotInput = z.input<typeof Snapshot>;

/** What applying a snapshot changed. */
export const SnapshotResult = z.object({
  added: z.number().int(),
  updated: z.number().int(),
  removed: z.number().int(),
  unchanged: z.number().int(),
});
/** Counts of a snapshot application. */
export type SnapshotResult = z.output<typeof SnapshotResult>;

/** A source as `/api/sync/status` reports it. */
export const SourceStatus = z.object({
  source_id: z.string(),
  name: z.string(),
  type: z.string(),
  event_count: z.number().int(),
  last_snapshot_at: z.string().nullable(),
  last_error: z.string().nullable(),
  /** What the agent repaired or skipped in the last accepted snapshot. */
  warnings: WarningSummary,
});
/** A source's status. */
export type SourceStatus = z.output<typeof SourceStatus>;

/** An agent as `/api/sync/status` reports it. */
export const AgentStatus = z.object({
  agent_id: z.string(),
  agent_name: z.string(),
  environment: z.string(),
  version: z.string(),
  last_seen: z.string().nullable(),
  online: z.boolean(),
  sources: z.array(SourceStatus),
});
/** An agent's status. */
export type AgentStatus = z.output<typeof AgentStatus>;

/** A destination as `/api/sync/status` reports it. */
export const DestinationStatus = z.object({
  id: z.string(),
  type: z.string(),
  /** The calendar discovery resolved to once connected, else the URL as configured. */
  url: z.string(),
  /** The URL as configured. */
  configured_url: z.string(),
  /**
   * While the server refuses calsync's credentials: no login is tried before this
   * instant unless the settings change or an admin retries. Null otherwise.
   */
  refused_until: z.string().nullable(),
  last_reconcile_at: z.string().nullable(),
  item_count: z.number().int(),
  pending: z.number().int(),
  last_error: z.string().nullable(),
});

/**
 * How big the master's store is: its occurrences and its bytes, as `measure` says they
 * were taken: `sqlite_file` the SQLite database's pages, `redis_used_memory` Redis's
 * `used_memory` (the whole server's, other programs' keys included).
 */
export const StoreSizeStatus = z.object({
  backend: z.string(),
  occurrences: z.number().int(),
  bytes: z.number().int(),
  measure: z.enum(["sqlite_file", "redis_used_memory"]),
});

/** `GET /api/sync/status` document. */
export const SyncStatus = z.object({
  agents: z.array(AgentStatus),
  totals: z.object({
    agents: z.number().int(),
    sources: z.number().int(),
    events: z.number().int(),
  }),
  destinations: z.array(DestinationStatus),
  /** The store's size; masters before it was reported leave it out. */
  store: StoreSizeStatus.optional(),
});
/** The sync status document. */
export type SyncStatus = z.output<typeof SyncStatus>;

/** `GET /api/agents` document: every agent, sorted by id, as `/api/sync/status` lists them. */
export const AgentList = z.object({ agents: z.array(AgentStatus) });
/** The agent list. */
export type AgentList = z.output<typeof AgentList>;

/**
 * Answer to `DELETE /api/admin/agents/{agent_id}`: the agent, its sources and their
 * events are gone from the master, and leave the destinations at the next reconcile.
 */
export const AgentRemoved = z.object({ agent_id: z.string(), removed: z.literal(true) });
/** An agent removal answer. */
export type AgentRemoved = z.output<typeof AgentRemoved>;

/**
 * Answer to `DELETE /api/admin/agents/{agent_id}/sources/{source_id}`: the source and its
 * events are gone from the master, and leave the destinations at the next reconcile.
 */
export const SourceRemoved = z.object({
  agent_id: z.string(),
  source_id: z.string(),
  removed: z.literal(true),
});
/** A source removal answer. */
export type SourceRemoved = z.output<typeof SourceRemoved>;

/** The name of a feed or read token, saying who uses it. */
export const TokenName = z.string().min(1).max(256);

/** `POST /api/admin/read-tokens` body: a name that says who uses the token. */
export const NewReadToken = z.object({ name: TokenName });
/** A validated read token request. */
export type NewReadToken = z.output<typeof NewReadToken>;

/**
 * A read token as `GET /api/admin/read-tokens` lists it. A read token lets a web app call
 * `GET /api/events` and nothing else.
 */
export const ReadToken = z.object({
  token_id: z.string(),
  name: z.string(),
  created_at: z.string(),
});
/** A listed read token. */
export type ReadToken = z.output<typeof ReadToken>;

/** Answer to `POST /api/admin/read-tokens`: the token itself is shown this once only. */
export const ReadTokenCreated = ReadToken.extend({ token: z.string() });
/** A created read token. */
export type ReadTokenCreated = z.output<typeof ReadTokenCreated>;

/** `GET /api/admin/read-tokens` document: every read token, oldest first, without secrets. */
export const ReadTokenList = z.object({ tokens: z.array(ReadToken) });
/** The read token list. */
export type ReadTokenList = z.output<typeof ReadTokenList>;

/**
 * An occurrence as `GET /api/events` returns it, with where it came from and when the
 * master last stored a change of it (absent for occurrences stored before masters kept
 * that).
 */
export const StoredEvent = Occurrence.and(
  z.object({ agent_id: z.string(), source_id: z.string(), changed_at: Instant.optional() }),
);
/** A stored occurrence with its agent and source. */
export type StoredEvent = Occurrence & {
  agent_id: string;
  source_id: string;
  changed_at?: string;
};

/** `GET /health` document. */
export const Health = z.object({
  status: z.enum(["ok", "error"]),
  version: z.string(),
  uptime_s: z.number(),
  store: z.object({ backend: z.string(), ok: z.boolean(), error: z.string().optional() }),
});

/** The body of every error answer: `field` is the JSON path of the bad input, if any. */
export const ApiError = z.object({
  error: z.object({ code: z.string(), message: z.string(), field: z.string().nullable() }),
});
/** An error answer. */
export type ApiError = z.output<typeof ApiError>;
