/**
 * Receiving a snapshot in parts: its rows are staged chunk by chunk as the body arrives,
 * then applied in one atomic step. A snapshot of 100,000 occurrences thus never sits in
 * the master's memory whole; readers see the source as it was until the apply.
 *
 * @module
 */
import type {
  HeldOccurrence,
  OccurrenceRow,
  PreparedSnapshot,
  SnapshotHeader,
} from "../snapshots/plan.ts";
import type { AppliedSnapshot } from "./types.ts";

/**
 * How many rows a staging keeps in memory before it moves them to the store: a snapshot
 * this small is applied straight from memory, a larger one from the store's staging area.
 */
export const STAGE_IN_MEMORY = 1000;

/** How rows are staged. */
export type StageOptions = {
  /**
   * Keep the rows in memory whatever their number: the caller holds the whole body
   * parsed anyway, so moving them to the store would only cost the writes.
   */
  inMemory?: boolean;
};

/** A snapshot of one source being received. */
export interface SnapshotStaging {
  /**
   * Stages rows; readers see none of them yet. Keys must be unique across calls for
   * `apply`; a key staged twice is not refused here, so that a snapshot naming one twice
   * is refused by its checks and discarded.
   */
  add(rows: readonly OccurrenceRow[], options?: StageOptions): Promise<void>;
  /**
   * Notes occurrences the source already holds as they are (their content hash is one it
   * holds): they count and stay, but are never written, so their JSON is not staged.
   */
  keep(rows: readonly HeldOccurrence[]): void;
  /**
   * Replaces the source's occurrences inside `header.window` by the staged rows and
   * stores the header's settings and warnings, atomically, as `Store.applySnapshot`
   * does; throws `SnapshotRejected`. Ends the staging.
   */
  apply(header: SnapshotHeader, now: string): Promise<AppliedSnapshot>;
  /** Drops whatever is staged; does nothing after `apply` or a `discard`. */
  discard(): Promise<void>;
}

/** A staged row: in memory with its JSON, or read back from the store without it. */
export type StagedRow = OccurrenceRow | HeldOccurrence;

/** Whether a staged row still holds its JSON (it was never moved to the store). */
export function inMemory(row: StagedRow): row is OccurrenceRow {
  return "data" in row;
}

/**
 * The rows of a staging still in memory. Rows moved to the store leave nothing behind
 * here, not even their keys: what a staging holds while a large body streams in is what
 * the garbage collector lets the heap grow by several times over, so the apply reads
 * their keys and hashes back from the store instead. Both stores' stagings build on it.
 */
export class StagedRows {
  #memory: OccurrenceRow[] = [];
  #kept: HeldOccurrence[] = [];
  #spilled = false;

  /** Notes rows held unchanged; see `SnapshotStaging.keep`. */
  keep(rows: readonly HeldOccurrence[]): void {
    for (const { key, hash, start_ms, end_ms } of rows) {
      this.#kept.push({ key, hash, start_ms, end_ms });
    }
  }

  /**
   * Adds rows; when more than `STAGE_IN_MEMORY` are in memory, hands them to `spill`
   * (which writes them to the store), unless `options.inMemory`.
   */
  async add(
    rows: readonly OccurrenceRow[],
    spill: (rows: OccurrenceRow[]) => Promise<void>,
    options: StageOptions = {},
  ): Promise<void> {
    for (const row of rows) this.#memory.push(row);
    if (options.inMemory) return;
    // Once rows are in the store, the rest follow at once: held longer, their JSON would
    // outlive young-generation collections and pile up until a full one.
    if (this.#memory.length <= STAGE_IN_MEMORY && !this.#spilled) return;
    const moving = this.#memory;
    this.#memory = [];
    this.#spilled = true;
    await spill(moving);
  }

  /** Whether any row was moved to the store. */
  get spilled(): boolean {
    return this.#spilled;
  }

  /** The rows not moved to the store: those still in memory, and those kept as held. */
  get inMemory(): readonly StagedRow[] {
    return [...this.#kept, ...this.#memory];
  }

  /** Forgets every row. */
  clear(): void {
    this.#memory = [];
    this.#kept = [];
    this.#spilled = false;
  }
}

/**
 * Applies a snapshot held whole through a staging, which is discarded in every case. Its
 * rows are in memory already, so they stay there rather than being written twice.
 */
export async function applyPrepared(
  staging: SnapshotStaging,
  snapshot: PreparedSnapshot,
  now: string,
): Promise<AppliedSnapshot> {
  try {
    await staging.add(snapshot.rows, { inMemory: true });
    return await staging.apply(snapshot, now);
  } finally {
    await staging.discard();
  }
}
