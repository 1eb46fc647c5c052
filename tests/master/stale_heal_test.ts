import assert from "node:assert/strict";
import { RedisStore } from "../../master/store/redis.ts";
import { SqliteStore } from "../../master/store/sqlite.ts";
import { SnapshotRejected, type Store } from "../../master/store/types.ts";
import { prepareSnapshot } from "../../master/snapshots/prepare.ts";
import { startRedis } from "../helpers/redis.ts";
import { registerAgent } from "./store_contract.ts";

const WINDOW = { start: "2026-03-01T00:00:00Z", end: "2026-04-01T00:00:00Z" };
const NOW = "2026-03-01T12:00:00Z";

const snapshot = (generated_at: string) =>
  prepareSnapshot({ window: WINDOW, generated_at, events: [] });

/** Both backends heal a source whose stored generated_at lies after the master's clock. */
async function healsPoisonedSource(store: Store): Promise<void> {
  await registerAgent(store, "pc1");
  // Stored before future snapshots were refused: the master's clock was then 11:00.
  await store.applySnapshot(
    "pc1",
    "main",
    snapshot("2036-03-01T12:00:00Z"),
    "2026-03-01T11:00:00Z",
  );
  await store.applySnapshot("pc1", "main", snapshot("2026-03-01T11:59:00Z"), NOW);
  assert.equal((await store.getAgent("pc1"))?.sources[0].last_generated_at, "2026-03-01T11:59:00Z");
  await assert.rejects(
    store.applySnapshot("pc1", "main", snapshot("2026-03-01T11:58:00Z"), NOW),
    (err) => err instanceof SnapshotRejected && err.code === "stale_snapshot",
    "a stored generated_at not in the future still refuses older snapshots",
  );
}

Deno.test("stale check (sqlite): a stored generated_at after the master's clock is ignored", async () => {
  const store = await SqliteStore.open(":memory:");
  try {
    await healsPoisonedSource(store);
  } finally {
    await store.close();
  }
});

Deno.test("stale check (redis): a stored generated_at after the master's clock is ignored", async () => {
  await using server = await startRedis();
  const store = await RedisStore.open({ url: server.url });
  try {
    await healsPoisonedSource(store);
  } finally {
    await store.close();
  }
});
