import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { enrol, testMaster, timed } from "../helpers/master_app.ts";
import { SqliteStore } from "../../master/store/sqlite.ts";
import { sqliteStorageError, StorageFullError } from "../../master/store/errors.ts";

const WINDOW = { start: "2026-03-01T00:00:00Z", end: "2026-04-01T00:00:00Z" };
const SNAPSHOT_PATH = "/api/agents/pc1/sources/main/snapshot";
const ALL = { start: "2000-01-01T00:00:00Z", end: "2100-01-01T00:00:00Z" };

/** A snapshot of `count` events with long descriptions, several pages of database. */
function bigSnapshot(count: number, generated_at: string) {
  const events = Array.from(
    { length: count },
    (_, i) =>
      timed(`e${i}`, `2026-03-${String(2 + (i % 20)).padStart(2, "0")}T09:00:00Z`, 60, {
        description: `event ${i} `.repeat(400),
      }),
  );
  return { window: WINDOW, generated_at, events };
}

function pageCount(db: DatabaseSync): number {
  return (db.prepare("PRAGMA page_count").get() as { page_count: number }).page_count;
}

Deno.test("storage full: a snapshot is 507, /health 503 until a write succeeds again, nothing lost", async () => {
  const db = new DatabaseSync(":memory:");
  const store = SqliteStore.wrap(db);
  await using master = await testMaster({ store });
  const token = await enrol(master, "pc1");
  const first = await master.call("PUT", SNAPSHOT_PATH, {
    token,
    body: bigSnapshot(2, "2026-03-01T11:00:00Z"),
  });
  assert.equal(first.status, 200);
  const before = await store.listEvents(ALL);

  // The database may not grow by a page more: SQLITE_FULL, as on a full disk.
  db.exec(`PRAGMA max_page_count = ${pageCount(db)}`);
  const full = await master.call("PUT", SNAPSHOT_PATH, {
    token,
    body: bigSnapshot(50, "2026-03-01T11:30:00Z"),
  });
  assert.equal(full.status, 507);
  const err = (await full.json()).error;
  assert.equal(err.code, "storage_full");
  assert.match(err.message, /the master's sqlite storage is full or cannot be written/);
  assert.match(err.message, /SQLITE_FULL: database or disk is full/);
  assert.match(err.message, /free space where it keeps its data/);
  assert.ok(
    master.log.some((l) => l.includes("database or disk is full")),
    "the real cause is logged",
  );
  assert.ok(!master.log.some((l) => l.includes("cannot rollback")), master.log.join("\n"));

  const sick = await master.call("GET", "/health");
  assert.equal(sick.status, 503);
  const sickBody = await sick.json();
  assert.equal(sickBody.store.ok, false);
  assert.match(sickBody.store.error, /database or disk is full/);

  assert.deepEqual(await store.listEvents(ALL), before, "the earlier snapshot is intact");
  assert.equal(
    (await store.getAgent("pc1"))?.sources[0].last_generated_at,
    "2026-03-01T11:00:00Z",
  );

  db.exec("PRAGMA max_page_count = 1073741823");
  const again = await master.call("PUT", SNAPSHOT_PATH, {
    token,
    body: bigSnapshot(50, "2026-03-01T11:30:00Z"),
  });
  assert.equal(again.status, 200);
  assert.equal((await again.json()).added, 48);
  const healthy = await master.call("GET", "/health");
  assert.equal(healthy.status, 200);
  assert.equal((await healthy.json()).store.ok, true);
});

Deno.test("storage full: register and heartbeat answer 507 too", async () => {
  const db = new DatabaseSync(":memory:");
  await using master = await testMaster({ store: SqliteStore.wrap(db) });
  const ids = Array.from({ length: 50 }, (_, i) => `s${i}`);
  const token = await enrol(master, "pc1", ids);
  db.exec(`PRAGMA max_page_count = ${pageCount(db)}`);
  const register = await master.call("POST", "/api/agents/register", {
    token,
    body: {
      agent_id: "pc1",
      agent_name: "Agent pc1",
      sources: Array.from({ length: 200 }, (_, i) => ({
        source_id: `new${i}`,
        name: `Source ${i} `.repeat(20),
        type: "ics",
      })),
    },
  });
  assert.equal(register.status, 507);
  assert.equal((await register.json()).error.code, "storage_full");
  const heartbeat = await master.call("POST", "/api/agents/pc1/heartbeat", {
    token,
    body: { sources: ids.map((source_id) => ({ source_id, last_error: "x".repeat(4000) })) },
  });
  assert.equal(heartbeat.status, 507);
  assert.equal((await heartbeat.json()).error.code, "storage_full");
  assert.deepEqual(
    (await master.store.getAgent("pc1"))?.sources.map((s) => s.source_id).sort(),
    ids.toSorted(),
    "the agent's sources are as before",
  );
});

Deno.test("storage errors: full, I/O and read-only codes map, others do not", () => {
  const sqlite = (errcode: number, message: string) =>
    Object.assign(new Error(message), { code: "ERR_SQLITE_ERROR", errcode });
  assert.ok(sqliteStorageError(sqlite(13, "database or disk is full")) instanceof StorageFullError);
  assert.match(sqliteStorageError(sqlite(778, "disk I/O error"))!.reason, /^SQLITE_IOERR/);
  assert.match(
    sqliteStorageError(sqlite(8, "attempt to write a readonly database"))!.reason,
    /^SQLITE_READONLY/,
  );
  const commit = Object.assign(new Error("database or disk is full"), { code: "ERR_SQLITE_ERROR" });
  assert.match(
    sqliteStorageError(commit)!.reason,
    /^SQLITE_FULL/,
    "a COMMIT's error has no errcode",
  );
  assert.equal(sqliteStorageError(sqlite(19, "UNIQUE constraint failed")), null);
  assert.equal(
    sqliteStorageError(new Error("database or disk is full")),
    null,
    "not node:sqlite's",
  );
  assert.equal(sqliteStorageError(new Error("no code")), null);
});
