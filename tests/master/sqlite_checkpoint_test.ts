/**
 * The SQLite log is checkpointed when writes pause, not inside the COMMIT of a request;
 * under writes without a pause, SQLite's own checkpoints take over.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { SqliteStore } from "../../master/store/sqlite.ts";
import { Checkpointer, MAX_GAP_MS, QUIET_MS } from "../../master/store/sqlite_checkpoint.ts";
import { prepareSnapshot } from "../../master/snapshots/prepare.ts";
import { registerAgent } from "./store_contract.ts";
import { until } from "../helpers/poll.ts";

/** A database file in WAL mode with a table to write into. */
async function walDatabase(): Promise<{ db: DatabaseSync; dir: string; fileSize(): number }> {
  const dir = await Deno.makeTempDir();
  const db = new DatabaseSync(`${dir}/t.db`);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("CREATE TABLE t (v TEXT)");
  return { db, dir, fileSize: () => Deno.statSync(`${dir}/t.db`).size };
}

function autocheckpoint(db: DatabaseSync): number {
  return (db.prepare("PRAGMA wal_autocheckpoint").get() as { wal_autocheckpoint: number })
    .wal_autocheckpoint;
}

function write(db: DatabaseSync, checkpointer: Checkpointer): void {
  db.prepare("INSERT INTO t VALUES (?)").run("x".repeat(100_000));
  checkpointer.wrote();
}

Deno.test("sqlite checkpoints: none while writes go on, one once they pause", async () => {
  const { db, dir, fileSize } = await walDatabase();
  let now = 0;
  const checkpointer = new Checkpointer(db, { now: () => now, timer: false });
  try {
    const before = fileSize();
    for (let i = 0; i < 20; i++) {
      write(db, checkpointer);
      now += 100;
      checkpointer.tick();
    }
    assert.equal(autocheckpoint(db), 0, "the connection never checkpoints by itself");
    assert.equal(fileSize(), before, "2 MB written, all still in the log");
    now += QUIET_MS;
    checkpointer.tick();
    assert.ok(fileSize() > 2_000_000, `the pause moved the log into the file (${fileSize()})`);
  } finally {
    checkpointer.stop();
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite checkpoints: writes without a pause hand them back to SQLite until one comes", async () => {
  const { db, dir } = await walDatabase();
  let now = 0;
  const checkpointer = new Checkpointer(db, { now: () => now, timer: false });
  try {
    for (; now < MAX_GAP_MS; now += 100) {
      write(db, checkpointer);
      checkpointer.tick();
    }
    write(db, checkpointer);
    assert.equal(autocheckpoint(db), 1000, "SQLite checkpoints inside commits again");
    now += QUIET_MS;
    checkpointer.tick();
    assert.equal(autocheckpoint(db), 0, "the pause took over again");
  } finally {
    checkpointer.stop();
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite store: writes reach the database file once they pause", async () => {
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
    // The connection never checkpoints inside a commit, so only the store's timer can
    // bring the occurrences (3 MB and more) from the log into the database file.
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
