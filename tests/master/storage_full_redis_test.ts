import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { RedisStore } from "../../master/store/redis.ts";
import { redisStorageError } from "../../master/store/errors.ts";
import { startRedis } from "../helpers/redis.ts";
import { enrol, testMaster, timed } from "../helpers/master_app.ts";

const WINDOW = { start: "2026-03-01T00:00:00Z", end: "2026-04-01T00:00:00Z" };
const SNAPSHOT_PATH = "/api/agents/pc1/sources/main/snapshot";
const ALL = { start: "2000-01-01T00:00:00Z", end: "2100-01-01T00:00:00Z" };

function snapshotBody(uids: string[], generated_at: string) {
  return {
    window: WINDOW,
    generated_at,
    events: uids.map((u) => timed(u, "2026-03-02T09:00:00Z")),
  };
}

Deno.test("storage full (redis): a write at maxmemory is 507, /health 503, nothing lost", async () => {
  await using server = await startRedis();
  const store = await RedisStore.open({ url: server.url });
  await using master = await testMaster({ store });
  const admin = new Redis(server.url);
  try {
    const token = await enrol(master, "pc1");
    const first = await master.call("PUT", SNAPSHOT_PATH, {
      token,
      body: snapshotBody(["a"], "2026-03-01T11:00:00Z"),
    });
    assert.equal(first.status, 200);
    const before = await store.listEvents(ALL);

    await admin.config("SET", "maxmemory-policy", "noeviction");
    await admin.config("SET", "maxmemory", "1");
    const full = await master.call("PUT", SNAPSHOT_PATH, {
      token,
      body: snapshotBody(["a", "b"], "2026-03-01T11:30:00Z"),
    });
    assert.equal(full.status, 507);
    const err = (await full.json()).error;
    assert.equal(err.code, "storage_full");
    assert.match(err.message, /the master's redis storage is full .*OOM command not allowed/);
    const sick = await master.call("GET", "/health");
    assert.equal(sick.status, 503);
    assert.equal((await sick.json()).store.ok, false);

    await admin.config("SET", "maxmemory", "0");
    // Read once Redis has room: at its maxmemory it refuses even the MULTI of a read.
    assert.deepEqual(await store.listEvents(ALL), before, "the earlier snapshot is intact");
    assert.equal((await master.call("GET", "/health")).status, 503, "until a write succeeds");
    const again = await master.call("PUT", SNAPSHOT_PATH, {
      token,
      body: snapshotBody(["a", "b"], "2026-03-01T11:30:00Z"),
    });
    assert.equal(again.status, 200);
    assert.equal((await master.call("GET", "/health")).status, 200);
  } finally {
    admin.disconnect();
  }
});

Deno.test("storage errors (redis): only the maxmemory refusal maps", () => {
  const oom = new Error("OOM command not allowed when used memory > 'maxmemory'.");
  assert.equal(redisStorageError(oom)?.backend, "redis");
  assert.equal(redisStorageError(new Error("WRONGTYPE Operation against a key")), null);
});
