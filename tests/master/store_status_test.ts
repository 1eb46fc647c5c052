/**
 * The store's size in `/api/sync/status` and on the management page: occurrences and
 * bytes, named by how they were measured, on SQLite and on a real redis-server.
 */
import assert from "node:assert/strict";
import { RedisStore } from "../../master/store/redis.ts";
import type { Store } from "../../master/store/types.ts";
import { SyncStatus } from "../../shared/protocol.ts";
import { ADMIN_TOKEN, enrol, testMaster, timed } from "../helpers/master_app.ts";
import { startRedis } from "../helpers/redis.ts";
import { openApiDocument } from "../../master/openapi/document.ts";

const WINDOW = { start: "2026-03-01T00:00:00Z", end: "2026-04-01T00:00:00Z" };

/** The status's store part after an agent uploaded `count` occurrences. */
async function storeStatus(count: number, store?: Store) {
  await using master = await testMaster({ store });
  const token = await enrol(master, "pc1");
  const events = Array.from({ length: count }, (_, i) => timed(`e${i}`, "2026-03-02T09:00:00Z"));
  const put = await master.call("PUT", "/api/agents/pc1/sources/main/snapshot", {
    token,
    body: { window: WINDOW, generated_at: master.clock.now.toISOString(), settings: {}, events },
  });
  assert.equal(put.status, 200, await put.text());
  const res = await master.call("GET", "/api/sync/status", { token: ADMIN_TOKEN });
  return SyncStatus.parse(await res.json()).store!;
}

Deno.test("status: the SQLite store's size is its occurrences and its database's bytes", async () => {
  const { bytes, ...rest } = await storeStatus(3);
  assert.deepEqual(rest, { backend: "sqlite", occurrences: 3, measure: "sqlite_file" });
  assert.ok(bytes >= 4096, `${bytes}`);
});

Deno.test("status: the Redis store's size is its occurrences and Redis's used_memory", async () => {
  await using server = await startRedis();
  const store = await RedisStore.open({ url: server.url });
  const { bytes, ...rest } = await storeStatus(4, store);
  assert.deepEqual(rest, { backend: "redis", occurrences: 4, measure: "redis_used_memory" });
  assert.ok(bytes > 100_000, `${bytes}`);
});

Deno.test("openapi: the status document lists the store's size", () => {
  type Schema = { properties: Record<string, Schema> };
  const status = openApiDocument().components.schemas.SyncStatus as unknown as Schema;
  const fields = Object.keys(status.properties.store.properties);
  assert.deepEqual(fields, ["backend", "occurrences", "bytes", "measure"]);
});
