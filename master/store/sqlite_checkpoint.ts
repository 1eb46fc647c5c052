/**
 * Checkpoints of a SQLite database in WAL mode, off the request path. SQLite by default
 * checkpoints inside the COMMIT that pushes the log past 1,000 pages: that commit then
 * copies the log into the database and syncs the file, which under load puts tens of
 * milliseconds into one request in every few dozen. Here the writer's connection never
 * checkpoints (`wal_autocheckpoint = 0`); a worker thread with a connection of its own
 * does it once writes pause for half a second, and at least every 30 seconds under
 * steady writes, whose syncs would otherwise stall the writer's own file writes. Should
 * the worker fail, the writer's connection takes automatic checkpoints again, so the log
 * never grows without bound.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import type { CheckpointAnswer, CheckpointRequest } from "./sqlite_checkpoint_worker.ts";

/** How often the need for a checkpoint is looked at. */
const TICK_MS = 250;

/** A checkpoint waits until no write came for this long... */
const QUIET_MS = 500;

/** ...or until this long passed since the last one. */
const MAX_GAP_MS = 30_000;

/** SQLite's own threshold in pages, restored when the worker cannot checkpoint. */
const AUTOCHECKPOINT_PAGES = 1000;

/** Checkpoints the database of `db` (at `path`) from a worker; see the module comment. */
export class Checkpointer {
  #worker: Worker | null;
  #timer: ReturnType<typeof setInterval>;
  #dirty = false;
  #pending = false;
  #lastWrite = 0;
  #lastCheckpoint = performance.now();
  /** Why the worker stopped checkpointing, or null while it works. */
  failure: string | null = null;

  constructor(readonly db: DatabaseSync, readonly path: string) {
    db.exec("PRAGMA wal_autocheckpoint = 0");
    this.#worker = new Worker(new URL("./sqlite_checkpoint_worker.ts", import.meta.url), {
      type: "module",
    });
    this.#worker.onmessage = ({ data }: MessageEvent<CheckpointAnswer>) => {
      this.#pending = false;
      if (!data.ok) this.#fail(data.message);
    };
    this.#worker.onerror = (event) => {
      event.preventDefault();
      this.#fail(event.message);
    };
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
  }

  /** Notes a write, to be checkpointed once writes pause. */
  wrote(): void {
    this.#dirty = true;
    this.#lastWrite = performance.now();
  }

  #tick(): void {
    if (!this.#dirty || this.#pending || this.#worker === null) return;
    const now = performance.now();
    if (now - this.#lastWrite < QUIET_MS && now - this.#lastCheckpoint < MAX_GAP_MS) return;
    this.#dirty = false;
    this.#lastCheckpoint = now;
    this.#pending = true;
    this.#worker.postMessage({ path: this.path } satisfies CheckpointRequest);
  }

  #fail(message: string): void {
    this.failure = message;
    this.stop();
    if (this.db.isOpen) this.db.exec(`PRAGMA wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
  }

  /** Stops the worker; the writer's connection checkpoints as it closes. */
  stop(): void {
    clearInterval(this.#timer);
    this.#worker?.terminate();
    this.#worker = null;
  }
}
