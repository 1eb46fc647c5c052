/**
 * The worker of `sqlite_checkpoint.ts`: its own connection to the database file, which
 * copies the write-ahead log back into the database whenever asked, on a thread of its
 * own. Each request is answered with `{ok: true, busy}` or `{ok: false, message}`.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";

/** Asks for one passive checkpoint of the database at `path`. */
export type CheckpointRequest = { path: string };

/** How a checkpoint went; `busy` when a writer kept it from finishing (it resumes next time). */
export type CheckpointAnswer = { ok: true; busy: boolean } | { ok: false; message: string };

// The worker global scope; typed here so the module checks without the worker lib.
const scope = self as unknown as {
  onmessage: ((event: MessageEvent<CheckpointRequest>) => void) | null;
  postMessage(answer: CheckpointAnswer): void;
};

let db: DatabaseSync | null = null;

scope.onmessage = ({ data }) => {
  try {
    if (db === null) {
      db = new DatabaseSync(data.path);
      // The writer's durability, and no waiting: a passive checkpoint never blocks it.
      db.exec("PRAGMA synchronous = NORMAL");
      db.exec("PRAGMA busy_timeout = 0");
    }
    const { busy } = db.prepare("PRAGMA wal_checkpoint(PASSIVE)").get() as { busy: number };
    scope.postMessage({ ok: true, busy: busy !== 0 });
  } catch (err) {
    scope.postMessage({ ok: false, message: err instanceof Error ? err.message : String(err) });
  }
};
