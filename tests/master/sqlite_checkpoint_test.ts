/**
 * The SQLite log is checkpointed by a worker thread, not inside the COMMIT of a request.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { SqliteStore } from "../../master/store/sqlite.ts";
import { Checkpointer } from "../../master/store/sqlite_checkpoint.ts";
import { prepareSnapshot } from "../../master/snapshots/prepare.ts";
import { registerAgent } from "./store_contract.ts";
import { until } from "../helpers/poll.ts";

Deno.test("sqlite store: writes reach the database file through the worker's checkpoints", async () => {
  const dir = await Deno.makeTempDir();
  const store = await SqliteStore.open(dir);
  try {
    await registerAgent(store, "pc1");
    const events = Array.from({ length: 3000 }, (_, i) => ({
      uid: `e${i}`,
      start: "2026-03-02T09:00:00Z",
      end: "2026-03-02T10:00:00Z",
      description: "Agenda: figures, risks, next steps. ".repeat(30),
    }));
    const snapshot = prepareSnapshot({
      window: { start: "2026-03-01T00:00:00Z", end: "2026-04-01T00:00:00Z" },
      generated_at: "2026-03-01T12:00:00Z",
      events,
    });
    await store.applySnapshot("pc1", "main", snapshot, "2026-03-01T12:00:00Z");
    // The writer's connection never checkpoints, so only the worker can bring the
    // occurrences (3 MB and more) from the log into the database file.
    await until(
      "the database file holds the occurrences",
      60_000,
      async () => (await Deno.stat(`${dir}/calsync.db`)).size > 3_000_000,
    );
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite checkpoints: a worker that cannot checkpoint hands them back to the writer", async () => {
  const db = new DatabaseSync(":memory:");
  const checkpointer = new Checkpointer(db, "/nonexistent/calsync/calsync.db");
  try {
    const autocheckpoint = () =>
      (db.prepare("PRAGMA wal_autocheckpoint").get() as { wal_autocheckpoint: number })
        .wal_autocheckpoint;
    assert.equal(autocheckpoint(), 0);
    checkpointer.wrote();
    await until("the worker reports its failure", 60_000, () => checkpointer.failure !== null);
    assert.match(checkpointer.failure!, /unable to open|no such file|cannot open/i);
    assert.equal(autocheckpoint(), 1000);
  } finally {
    checkpointer.stop();
    db.close();
  }
});
