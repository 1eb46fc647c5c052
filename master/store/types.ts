/**
 * The store interface: everything the master keeps. SQLite (embedded, the default) and
 * Redis (several masters) implement it, and one contract test suite runs against both.
 *
 * @module
 */
import type { Heartbeat, Registration, SnapshotResult } from "../../shared/protocol.ts";
import type { PreparedSnapshot } from "../snapshots/plan.ts";
import type { StoredEvent } from "../../shared/protocol.ts";

/** A source of an agent as the store keeps it. */
export type SourceRecord = {
  source_id: string;
  name: string;
  type: string;
  event_count: number;
  last_snapshot_at: string | null;
  last_generated_at: string | null;
  last_error: string | null;
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

/** Totals over the whole store. */
export type StoreTotals = { agents: number; sources: number; events: number };

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

  /**
   * Replaces the source's occurrences inside the snapshot window with the snapshot's
   * events; occurrences outside the window stay. Throws `SnapshotRejected`.
   */
  applySnapshot(
    agentId: string,
    sourceId: string,
    snapshot: PreparedSnapshot,
    now: string,
  ): Promise<SnapshotResult>;
  /** The content hashes of every occurrence the source holds (empty when unknown). */
  knownHashes(agentId: string, sourceId: string): Promise<Set<string>>;
  /** Occurrences overlapping the query range, sorted by start, then uid. */
  listEvents(query: EventQuery): Promise<StoredEvent[]>;
  /** Counts of agents, sources and occurrences. */
  totals(): Promise<StoreTotals>;
}
