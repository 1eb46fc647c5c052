/**
 * The store interface: everything the master keeps. SQLite (embedded, the default) and
 * Redis (several masters) implement it, and one contract test suite runs against both.
 *
 * @module
 */
import type {
  Heartbeat,
  Registration,
  SnapshotResult,
  SourceSettings,
} from "../../shared/protocol.ts";
import type { PreparedSnapshot } from "../snapshots/plan.ts";
import type { SnapshotStaging } from "./staging.ts";
import type { StoredEvent } from "../../shared/protocol.ts";
import { toInstant } from "../../shared/time.ts";
import type { WarningSummary } from "../../shared/warnings.ts";
import type { ActivityEntry, ActivityQuery, ActivityRetention } from "./activity.ts";

/** A source of an agent as the store keeps it. */
export type SourceRecord = {
  source_id: string;
  name: string;
  type: string;
  event_count: number;
  last_snapshot_at: string | null;
  last_generated_at: string | null;
  last_error: string | null;
  /** How the source's events appear in destinations, as its last snapshot said. */
  settings: SourceSettings;
  /** What the agent repaired or skipped reading the last applied snapshot. */
  warnings: WarningSummary;
};

/** An agent as the store keeps it; `token_hash` is null after an admin reset. */
export type AgentRecord = {
  agent_id: string;
  agent_name: string;
  environment: string;
  version: string;
  token_hash: string | null;
  sync_interval_minutes: number | null;
  created_at: string;
  last_seen: string | null;
  sources: SourceRecord[];
};

/** Filters of an event listing: occurrences overlapping `[start, end)`. */
export type EventQuery = {
  start: string;
  end: string;
  agent_id?: string;
  source_id?: string;
};

/**
 * An occurrence's place in the order every event listing keeps: by start (epoch ms), then
 * agent, source and occurrence key, a total order. A page ends at one; the next page
 * starts after it, so occurrences added meanwhile never repeat or hide those already read.
 */
export type EventPosition = { start_ms: number; agent_id: string; source_id: string; key: string };

/** Which page of an event listing to read: at most `limit` occurrences after `after`. */
export type EventPageRequest = {
  /** At least 1; the store reads only this many (and one more, to know if more follow). */
  limit: number;
  /** The `next` of the page before; null for the first page. */
  after: EventPosition | null;
};

/** One page of an event listing. */
export type EventPage = {
  events: StoredEvent[];
  /** The position of the page's last occurrence when more follow; null on the last page. */
  next: EventPosition | null;
};

/** What applying a snapshot did: the API's counts, and whether anything changed at all. */
export type AppliedSnapshot = {
  result: SnapshotResult;
  /** Occurrences or source settings changed, so destinations need reconciling. */
  changed: boolean;
};

/** What the store remembers of one item calsync wrote to a destination. */
export type DestinationEntry = {
  /** The occurrence key the item was written for. */
  key: string;
  href: string;
  etag: string | null;
  /**
   * Content hash of what was written; null for an intent: a create was about to be sent
   * to `href` (empty where the server names items), and whether it landed is unknown
   * until the next run looks.
   */
  hash: string | null;
  /**
   * When the occurrence the item was written for ends, in epoch milliseconds; absent or
   * null when unknown (entries written before calsync kept it). An item that ended before
   * the retention horizon is never deleted for being no longer desired: its occurrence
   * may have been pruned from the store, which is not a delete by its source.
   */
  end_ms?: number | null;
};

/**
 * A destination that refused calsync's credentials, kept so that no master asks it again
 * with the same settings before `blocked_until` (a server such as mailcow's SOGo locks the
 * account after a few failed logins).
 */
export type AuthRefusal = {
  /** Instants of refused logins in the last 15 minutes, oldest first. */
  failures: string[];
  /** No login is tried before this instant unless the settings change or an admin retries. */
  blocked_until: string;
  /** Digest of the settings that were refused; other settings lift the block. */
  settings: string;
  /** What the server said, and the setting to fix. */
  message: string;
};

/** What the store remembers of a destination as a whole. */
export type DestinationState = {
  /** The destination's change token after calsync's last reconcile. */
  change_token: string | null;
  last_reconcile_at: string | null;
  last_error: string | null;
  /** Operations the last reconcile could not complete. */
  pending: number;
  /** The calendar discovery resolved the configured URL to; null before it connected. */
  calendar_url: string | null;
  /** Set while the destination's credentials stand refused. */
  auth_refusal: AuthRefusal | null;
};

/** A destination's state before anything is known of it. */
export const EMPTY_DESTINATION_STATE: DestinationState = {
  change_token: null,
  last_reconcile_at: null,
  last_error: null,
  pending: 0,
  calendar_url: null,
  auth_refusal: null,
};

/**
 * What a credential lets its bearer do: `feed` reads the ICS feed, `read` reads events
 * through the API, `session` is a sign-in to the management page.
 */
export type CredentialKind = "feed" | "read" | "session";

/** A secret the admin issued (feed, read token) or a sign-in session; stored hashed. */
export type CredentialRecord = {
  credential_id: string;
  kind: CredentialKind;
  name: string;
  token_hash: string;
  /** An ISO instant; also the moment `createCredential` prunes expired credentials at. */
  created_at: string;
  /** The ISO instant from which on the credential no longer works; null: never expires. */
  expires_at: string | null;
};

/** Totals over the whole store. */
export type StoreTotals = { agents: number; sources: number; events: number };

/**
 * How big the store is: its occurrences, and its bytes as the backend measures them
 * (`sqlite_file`: the database's pages, `redis_used_memory`: Redis's `used_memory`, the
 * whole server's, which may hold other programs' keys too).
 */
export type StoreSize = {
  occurrences: number;
  bytes: number;
  measure: "sqlite_file" | "redis_used_memory";
};

/**
 * `event` with the instant its occurrence was last changed in the store, from epoch
 * milliseconds; left without one while unknown (stored before the store kept it).
 */
export function withChangedAt(event: StoredEvent, changedMs: number | null): StoredEvent {
  if (changedMs !== null) event.changed_at = toInstant(new Date(changedMs));
  return event;
}

/** Raised by `applySnapshot` when the snapshot cannot be applied; nothing was changed. */
export class SnapshotRejected extends Error {
  /** `code` is the API error code: `unknown_source` or `stale_snapshot`. */
  constructor(readonly code: "unknown_source" | "stale_snapshot", message: string) {
    super(message);
    this.name = "SnapshotRejected";
  }
}

/** Everything the master persists. All methods are atomic. */
export interface Store {
  /** A short name of the backend, shown in `/health`. */
  readonly backend: string;
  /** Throws when the store cannot be used. */
  ping(): Promise<void>;
  /** Releases the store; no method may be called afterwards. */
  close(): Promise<void>;

  /** The agent with its sources, or null. */
  getAgent(agentId: string): Promise<AgentRecord | null>;
  /** The id of the agent whose token hashes to `tokenHash`, or null. */
  findAgentIdByTokenHash(tokenHash: string): Promise<string | null>;
  /** All agents with their sources, sorted by id. */
  listAgents(): Promise<AgentRecord[]>;
  /**
   * Creates the agent or updates its name, environment, version and declared sources
   * (sources it no longer declares are kept), and sets its token hash.
   */
  registerAgent(registration: Registration, tokenHash: string, now: string): Promise<void>;
  /** Clears the agent's token so that it may enrol again; false when unknown. */
  resetAgentToken(agentId: string): Promise<boolean>;
  /** Records that the agent is alive, with its per-source errors. */
  recordHeartbeat(agentId: string, heartbeat: Heartbeat, now: string): Promise<void>;
  /** Deletes the source and all its occurrences; false when unknown. */
  removeSource(agentId: string, sourceId: string): Promise<boolean>;
  /** Deletes the agent, its sources and their occurrences; false when unknown. */
  removeAgent(agentId: string): Promise<boolean>;

  /**
   * Replaces the source's occurrences inside the snapshot window with the snapshot's
   * events (occurrences outside the window stay) and stores its settings and warnings.
   * Throws `SnapshotRejected`.
   */
  applySnapshot(
    agentId: string,
    sourceId: string,
    snapshot: PreparedSnapshot,
    now: string,
  ): Promise<AppliedSnapshot>;
  /**
   * Begins receiving a snapshot of the source in parts: rows are staged as they arrive
   * and applied at once, as `applySnapshot` applies a whole one.
   */
  stageSnapshot(agentId: string, sourceId: string): SnapshotStaging;
  /** The content hashes of every occurrence the source holds (empty when unknown). */
  knownHashes(agentId: string, sourceId: string): Promise<Set<string>>;
  /**
   * Occurrences overlapping the query range, sorted by start, then agent, source and
   * occurrence key (the order of `EventPosition`).
   */
  listEvents(query: EventQuery): Promise<StoredEvent[]>;
  /**
   * One page of `listEvents(query)`: the first `page.limit` occurrences after
   * `page.after`, in the same order. Reads that page from the backend, not the whole
   * listing.
   */
  listEventPage(query: EventQuery, page: EventPageRequest): Promise<EventPage>;
  /** Counts of agents, sources and occurrences. */
  totals(): Promise<StoreTotals>;
  /** How many occurrences the store holds and how many bytes it takes. */
  size(): Promise<StoreSize>;
  /**
   * Deletes at most `batchSize` occurrences, of any source, that ended before `instant`
   * (ISO), in one transaction, and answers how many; fewer than `batchSize` means none
   * is left. Destination entries of their keys that lack `end_ms` get it first, so that
   * the reconciler keeps the copies: pruning leaves destinations alone. Sources'
   * `event_count` drops by what went.
   */
  pruneOccurrencesEndedBefore(instant: string, batchSize: number): Promise<number>;

  /** The ids of every destination the store knows anything of, sorted. */
  destinationIds(): Promise<string[]>;
  /** Every item calsync remembers writing to the destination. */
  destinationEntries(destinationId: string): Promise<DestinationEntry[]>;
  /** Records an item written to the destination (replacing what was known of its key). */
  saveDestinationEntry(destinationId: string, entry: DestinationEntry): Promise<void>;
  /** Forgets an item of the destination. */
  deleteDestinationEntry(destinationId: string, key: string): Promise<void>;
  /** What is known of the destination as a whole; null before its first reconcile. */
  destinationState(destinationId: string): Promise<DestinationState | null>;
  /** Replaces what is known of the destination as a whole. */
  saveDestinationState(destinationId: string, state: DestinationState): Promise<void>;

  /**
   * Stores a new credential (throws when its id is taken for its kind). Credentials that
   * expired by the new one's `created_at` are pruned along the way, so sessions do not
   * pile up.
   */
  createCredential(credential: CredentialRecord): Promise<void>;
  /** The credentials of one kind, oldest first, leaving out those expired at `now` (ISO). */
  listCredentials(kind: CredentialKind, now: string): Promise<CredentialRecord[]>;
  /** The credential of `kind` unexpired at `now` whose token hashes to `tokenHash`, or null. */
  findCredential(
    kind: CredentialKind,
    tokenHash: string,
    now: string,
  ): Promise<CredentialRecord | null>;
  /**
   * Deletes a credential of `kind`; false when there was none. One that expired may count
   * either way: Redis drops it at once, SQLite when the next credential is created.
   */
  deleteCredential(kind: CredentialKind, credentialId: string): Promise<boolean>;

  /**
   * Takes the lease `name` for `owner` for `ttlMs`, or renews it when `owner` holds it.
   * Answers its fencing token, which grows every time the lease changes hands, or null
   * while another owner holds it: with several masters on one store, the holder of a
   * destination's lease is its only writer (ARCHITECTURE.md, invariant 7).
   */
  acquireLease(name: string, owner: string, ttlMs: number): Promise<number | null>;
  /** Gives the lease up, if `owner` holds it. */
  releaseLease(name: string, owner: string): Promise<void>;
  /**
   * How many milliseconds the lease `name` lasts unless renewed, or null when nobody
   * holds it: a master kept out by another's lease tries again when it can expire.
   */
  leaseRemainingMs(name: string): Promise<number | null>;
  /**
   * Tells every master sharing the store that occurrences or source settings changed, so
   * whichever holds a destination's lease reconciles it; `origin` names the announcing
   * master. Does nothing where one master owns the store.
   */
  announceChange(origin: string): Promise<void>;
  /**
   * Calls `listener` with the origin of every change a master announces, and with null
   * when the connection to the store came back, as an announcement may have been missed
   * meanwhile. Answers the function that stops listening.
   */
  watchChanges(listener: (origin: string | null) => void): () => void;

  /**
   * Appends an entry to the activity log and prunes its destination's entries: those that
   * started more than `retention.max_age_ms` before `entry` and all but the newest
   * `retention.max_entries`. Costs a bounded number of index steps, however full the log.
   */
  recordActivity(entry: ActivityEntry, retention: ActivityRetention): Promise<void>;
  /**
   * The newest `query.limit` entries of the activity log started at or after
   * `query.since`, of one destination or all, newest first (ties by id, descending).
   */
  listActivity(query: ActivityQuery): Promise<ActivityEntry[]>;
}
