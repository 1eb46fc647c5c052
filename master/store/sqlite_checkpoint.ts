/**
 * Checkpoints of a SQLite database in WAL mode, kept out of busy moments. SQLite by
 * default checkpoints inside the COMMIT that pushes the log past 1,000 pages: that commit
 * then copies the log into the database and syncs the file, which under a burst of
 * snapshots puts tens of milliseconds into one request in every few dozen. Here the
 * connection checkpoints when writes pause for half a second instead, when no request
 * waits on a write. Should writes go on for 30 seconds without a pause, SQLite's own
 * checkpoints resume until the next pause, so the log never grows without bound. (A
 * worker thread with its own connection was tried first; it kept some 40 MiB of memory
 * after a large upload and saved nothing a pause does not.)
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";

/** How often the need for a checkpoint is looked at. */
const TICK_MS = 250;

/** A checkpoint waits until no write came for this long. */
export const QUIET_MS = 500;

/** Writes without a pause this long hand checkpoints back to SQLite until the next pause. */
export const MAX_GAP_MS = 30_000;

/** SQLite's own threshold in pages, while it checkpoints by itself. */
const AUTOCHECKPOINT_PAGES = 1000;

/** What a checkpointer may be given, for tests: a clock and no timer of its own. */
export type CheckpointerOptions = { now?: () => number; timer?: boolean };

/** Checkpoints the database of `db` when writes pause; see the module comment. */
export class Checkpointer {
  #timer: ReturnType<typeof setInterval> | null = null;
  #now: () => number;
  #dirty = false;
  #lastWrite = 0;
  #lastCheckpoint: number;
  #sqliteCheckpoints = false;
  /** Why the last checkpoint failed, or null. */
  failure: string | null = null;

  constructor(readonly db: DatabaseSync, options: CheckpointerOptions = {}) {
    this.#now = options.now ?? (() => performance.now());
    this.#lastCheckpoint = this.#now();
    db.exec("PRAGMA wal_autocheckpoint = 0");
    if (options.timer !== false) this.#timer = setInterval(() => this.tick(), TICK_MS);
  }

  /** Notes a write; after `MAX_GAP_MS` of writes without a pause, SQLite checkpoints again. */
  wrote(): void {
    this.#dirty = true;
    this.#lastWrite = this.#now();
    if (!this.#sqliteCheckpoints && this.#lastWrite - this.#lastCheckpoint >= MAX_GAP_MS) {
      this.#autocheckpoint(AUTOCHECKPOINT_PAGES);
    }
  }

  /** Checkpoints if writes paused; the timer calls it, tests may too. */
  tick(): void {
    if (!this.#dirty || this.#now() - this.#lastWrite < QUIET_MS || !this.db.isOpen) return;
    this.#dirty = false;
    this.#lastCheckpoint = this.#now();
    try {
      this.db.exec("PRAGMA wal_checkpoint(PASSIVE)");
      this.failure = null;
    } catch (err) {
      // A full disk, say: writes will say so themselves; SQLite tries again by itself.
      this.failure = err instanceof Error ? err.message : String(err);
      this.#autocheckpoint(AUTOCHECKPOINT_PAGES);
      return;
    }
    if (this.#sqliteCheckpoints) this.#autocheckpoint(0);
  }

  #autocheckpoint(pages: number): void {
    if (!this.db.isOpen) return;
    this.db.exec(`PRAGMA wal_autocheckpoint = ${pages}`);
    this.#sqliteCheckpoints = pages > 0;
  }

  /** Stops the timer; the connection checkpoints as it closes. */
  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }
}
