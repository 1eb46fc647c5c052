import assert from "node:assert/strict";
import { enrol, testMaster, timed } from "../helpers/master_app.ts";
import { SqliteStore } from "../../master/store/sqlite.ts";
import { prepareSnapshot } from "../../master/snapshots/prepare.ts";

const WINDOW = { start: "2026-03-01T00:00:00Z", end: "2026-04-01T00:00:00Z" };
const SNAPSHOT_PATH = "/api/agents/pc1/sources/main/snapshot";

function snapshotBody(events: unknown[], generated_at: string) {
  return { window: WINDOW, generated_at, events };
}

async function errorOf(res: Response) {
  return (await res.json()).error as { code: string; message: string; field: string | null };
}

Deno.test("clock skew: a generated_at far in the future is refused, stores nothing, blocks nothing", async () => {
  await using master = await testMaster();
  const token = await enrol(master, "pc1");
  // The test master's clock is 2026-03-01T12:00:00Z.
  const future = await master.call("PUT", SNAPSHOT_PATH, {
    token,
    body: snapshotBody([timed("a", "2026-03-02T09:00:00Z")], "2036-03-01T12:00:00Z"),
  });
  assert.equal(future.status, 422);
  const err = await errorOf(future);
  assert.equal(err.code, "clock_skew");
  assert.equal(err.field, "generated_at");
  assert.match(err.message, /3653 days ahead of the master's clock/);
  assert.match(err.message, /Set the agent PC's clock right, or turn on its automatic time sync/);
  assert.equal((await master.store.totals()).events, 0);
  assert.equal((await master.store.getAgent("pc1"))?.sources[0].last_generated_at, null);

  const fixed = await master.call("PUT", SNAPSHOT_PATH, {
    token,
    body: snapshotBody([timed("a", "2026-03-02T09:00:00Z")], "2026-03-01T11:59:00Z"),
  });
  assert.equal(fixed.status, 200, "the corrected clock's snapshot is applied");
});

Deno.test("clock skew: up to 5 minutes ahead is accepted, a second more is not", async () => {
  await using master = await testMaster();
  const token = await enrol(master, "pc1");
  const late = await master.call("PUT", SNAPSHOT_PATH, {
    token,
    body: snapshotBody([], "2026-03-01T12:05:01Z"),
  });
  assert.equal(late.status, 422);
  assert.match((await errorOf(late)).message, /is 5 minutes ahead/);
  const edge = await master.call("PUT", SNAPSHOT_PATH, {
    token,
    body: snapshotBody([], "2026-03-01T12:05:00Z"),
  });
  assert.equal(edge.status, 200);
});

Deno.test("clock skew: a source poisoned by a future generated_at stored earlier heals", async () => {
  const store = await SqliteStore.open(":memory:");
  await using master = await testMaster({ store });
  const token = await enrol(master, "pc1");
  // What a master before the clock check stored: applied straight through the store.
  await store.applySnapshot(
    "pc1",
    "main",
    prepareSnapshot(snapshotBody([timed("old", "2026-03-02T09:00:00Z")], "2036-03-01T12:00:00Z")),
    "2026-03-01T11:00:00Z",
  );
  const current = await master.call("PUT", SNAPSHOT_PATH, {
    token,
    body: snapshotBody([timed("new", "2026-03-03T09:00:00Z")], "2026-03-01T12:00:00Z"),
  });
  assert.equal(current.status, 200);
  assert.deepEqual(await current.json(), { added: 1, updated: 0, removed: 1, unchanged: 0 });
  assert.equal(
    (await store.getAgent("pc1"))?.sources[0].last_generated_at,
    "2026-03-01T12:00:00Z",
  );
  const older = await master.call("PUT", SNAPSHOT_PATH, {
    token,
    body: snapshotBody([], "2026-03-01T11:00:00Z"),
  });
  assert.equal(older.status, 409, "once healed, the stale check works as before");
  assert.equal((await errorOf(older)).code, "stale_snapshot");
});
