import assert from "node:assert/strict";
import { RedisStore } from "../../master/store/redis.ts";
import { prepareSnapshot } from "../../master/snapshots/prepare.ts";
import type { SnapshotInput } from "../../shared/protocol.ts";
import { registerAgent, storeContract } from "./store_contract.ts";
import { startRedis } from "../helpers/redis.ts";
import { freePort } from "../helpers/master_process.ts";

// The contract opens and closes a store per test; each gets its own server (it starts in
// tens of milliseconds), stopped when the store is closed, so nothing outlives a test.
storeContract("redis", async () => {
  const server = await startRedis();
  try {
    const store = await RedisStore.open({ host: server.host, port: server.port });
    const close = store.close.bind(store);
    store.close = async () => {
      await close();
      await server.close();
    };
    return store;
  } catch (err) {
    await server.close();
    throw err;
  }
});

const WINDOW = { start: "2026-03-01T00:00:00Z", end: "2026-04-01T00:00:00Z" };

function snapshot(events: SnapshotInput["events"], generated_at = "2026-03-01T00:00:00Z") {
  return prepareSnapshot({ window: WINDOW, generated_at, events });
}

function ev(uid: string, day: number) {
  const d = String(day).padStart(2, "0");
  return { uid, start: `2026-03-${d}T09:00:00Z`, end: `2026-03-${d}T10:00:00Z`, title: uid };
}

Deno.test("redis store: everything survives closing and reopening", async () => {
  await using server = await startRedis();
  const store = await RedisStore.open({ url: server.url, keyPrefix: "test-a:" });
  await registerAgent(store, "pc1");
  await store.applySnapshot("pc1", "main", snapshot([ev("a", 2)]), "2026-03-01T00:00:00Z");
  await store.saveDestinationEntry("cal", { key: "k", href: "/k.ics", etag: null, hash: "h" });
  await store.createFeed({ feed_id: "f", name: "F", token_hash: "t", created_at: "x" });
  await store.close();

  const again = await RedisStore.open({ url: server.url, keyPrefix: "test-a:" });
  const other = await RedisStore.open({ url: server.url, keyPrefix: "test-b:" });
  try {
    assert.deepEqual(await again.totals(), { agents: 1, sources: 1, events: 1 });
    assert.equal(await again.findAgentIdByTokenHash("hash-pc1"), "pc1");
    const [source] = (await again.getAgent("pc1"))!.sources;
    assert.equal(source.last_generated_at, "2026-03-01T00:00:00Z");
    assert.equal(source.event_count, 1);
    assert.equal((await again.destinationEntries("cal")).length, 1);
    assert.equal((await again.findFeedByTokenHash("t"))?.feed_id, "f");
    // Another prefix is another store on the same server.
    assert.deepEqual(await other.totals(), { agents: 0, sources: 0, events: 0 });
    assert.deepEqual(await other.listFeeds(), []);
  } finally {
    await again.close();
    await other.close();
  }
});

Deno.test("redis store: ping throws while Redis is down and works after a restart", async () => {
  await using server = await startRedis();
  const store = await RedisStore.open({ host: server.host, port: server.port });
  try {
    await store.ping();
    await server.stop();
    const started = Date.now();
    await assert.rejects(store.ping());
    await assert.rejects(store.totals());
    assert.ok(Date.now() - started < 2_000, "a down Redis must fail fast");
    await server.restart();
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await store.ping();
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    await registerAgent(store, "pc1");
    assert.equal((await store.totals()).agents, 1);
  } finally {
    await store.close();
  }
});

Deno.test("redis store: opening fails when Redis cannot be reached", async () => {
  await assert.rejects(
    RedisStore.open({ host: "127.0.0.1", port: freePort() }),
    /cannot reach Redis/,
  );
});

Deno.test("redis store: racing snapshots of one source apply one of them whole", async () => {
  await using server = await startRedis();
  const first = await RedisStore.open({ url: server.url });
  const second = await RedisStore.open({ url: server.url });
  try {
    await registerAgent(first, "pc1");
    for (let round = 0; round < 10; round++) {
      const a = Array.from({ length: 40 }, (_, i) => ev(`r${round}-a${i}`, 1 + (i % 28)));
      const b = Array.from({ length: 25 }, (_, i) => ev(`r${round}-b${i}`, 1 + (i % 28)));
      const generated = `2026-03-01T00:${String(round).padStart(2, "0")}:00Z`;
      const [ra, rb] = await Promise.all([
        first.applySnapshot("pc1", "main", snapshot(a, generated), generated),
        second.applySnapshot("pc1", "main", snapshot(b, generated), generated),
        // A third one on the same connection as the first.
        first.knownHashes("pc1", "main"),
      ]);
      assert.equal(ra.result.added, 40);
      assert.equal(rb.result.added, 25);
      const uids = (await first.listEvents(WINDOW)).map((e) => e.uid).sort();
      const expectA = a.map((e) => e.uid).sort();
      const expectB = b.map((e) => e.uid).sort();
      assert.ok(
        JSON.stringify(uids) === JSON.stringify(expectA) ||
          JSON.stringify(uids) === JSON.stringify(expectB),
        `round ${round}: a mix of both snapshots: ${uids.join(",")}`,
      );
      assert.equal((await first.getAgent("pc1"))!.sources[0].event_count, uids.length);
    }
  } finally {
    await first.close();
    await second.close();
  }
});
