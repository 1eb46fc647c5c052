import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { RedisStore } from "../../master/store/redis.ts";
import { SnapshotRejected } from "../../master/store/types.ts";
import { prepareSnapshot } from "../../master/snapshots/prepare.ts";
import type { SnapshotInput } from "../../shared/protocol.ts";
import { registerAgent, sessionCredential, storeContract } from "./store_contract.ts";
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
const NOW = "2026-03-01T12:00:00Z";

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
  await store.createCredential({
    credential_id: "f",
    kind: "feed",
    name: "F",
    token_hash: "t",
    created_at: NOW,
    expires_at: null,
  });
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
    assert.equal((await again.findCredential("feed", "t", NOW))?.credential_id, "f");
    // Another prefix is another store on the same server.
    assert.deepEqual(await other.totals(), { agents: 0, sources: 0, events: 0 });
    assert.deepEqual(await other.listCredentials("feed", NOW), []);
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

Deno.test("redis store: feeds of the layout before credentials keep working", async () => {
  await using server = await startRedis();
  const raw = new Redis(server.url);
  try {
    const old = { feed_id: "f:1", name: "Wall", token_hash: "th1", created_at: NOW };
    await raw.hset("calsync:feeds", old.feed_id, JSON.stringify(old));
    await raw.hset("calsync:feed_tokens", old.token_hash, old.feed_id);
    const feed = {
      credential_id: "f:1",
      kind: "feed",
      name: "Wall",
      token_hash: "th1",
      created_at: NOW,
      expires_at: null,
    };
    for (let open = 0; open < 2; open++) {
      const store = await RedisStore.open({ url: server.url });
      try {
        assert.deepEqual(await store.findCredential("feed", "th1", NOW), feed, `open ${open}`);
        assert.deepEqual(await store.listCredentials("feed", NOW), [feed], `open ${open}`);
      } finally {
        await store.close();
      }
    }
    assert.deepEqual(await raw.keys("calsync:feed*"), [], "the old keys are gone");
  } finally {
    raw.disconnect();
  }
});

Deno.test("redis store: a credential's keys expire with it, its id with the next one", async () => {
  await using server = await startRedis();
  const store = await RedisStore.open({ url: server.url });
  const raw = new Redis(server.url);
  try {
    const expires = Date.now() + 3_600_000;
    await store.createCredential(sessionCredential("s1", NOW, new Date(expires).toISOString()));
    for (
      const key of ["calsync:credential:session:s1", "calsync:credential_token:session:hash-s1"]
    ) {
      assert.equal(await raw.pexpiretime(key), expires, key);
    }
    const later = new Date(expires + 1000).toISOString();
    await store.createCredential(sessionCredential("s2", later, null));
    assert.deepEqual(await raw.zrange("calsync:credentials:session", 0, -1), ["s2"]);
    assert.equal(await raw.pttl("calsync:credential:session:s2"), -1, "never expires");
  } finally {
    raw.disconnect();
    await store.close();
  }
});

Deno.test("redis store: a removal racing snapshots leaves no occurrence behind", async () => {
  await using server = await startRedis();
  const first = await RedisStore.open({ url: server.url });
  const second = await RedisStore.open({ url: server.url });
  try {
    for (let round = 0; round < 10; round++) {
      await registerAgent(first, "pc1");
      const events = Array.from({ length: 30 }, (_, i) => ev(`r${round}-${i}`, 1 + (i % 28)));
      const generated = `2026-03-01T00:${String(round).padStart(2, "0")}:00Z`;
      const [applied, removed] = await Promise.allSettled([
        first.applySnapshot("pc1", "main", snapshot(events, generated), generated),
        round % 2 ? second.removeSource("pc1", "main") : second.removeAgent("pc1"),
      ]);
      assert.deepEqual(removed, { status: "fulfilled", value: true }, `round ${round}`);
      if (applied.status === "rejected") {
        assert.ok(applied.reason instanceof SnapshotRejected, `round ${round}`);
      }
      assert.deepEqual(await first.listEvents(WINDOW), [], `round ${round}`);
      assert.equal((await first.totals()).events, 0, `round ${round}`);
    }
  } finally {
    await first.close();
    await second.close();
  }
});

Deno.test("redis store: a change one master announces reaches the others, and a reconnect counts as one", async () => {
  await using server = await startRedis();
  const one = await RedisStore.open({ host: server.host, port: server.port });
  const two = await RedisStore.open({ host: server.host, port: server.port });
  try {
    const heard: (string | null)[] = [];
    const stop = two.watchChanges((origin) => heard.push(origin));
    const waitFor = async (what: string, n: number) => {
      for (let i = 0; heard.length < n; i++) {
        if (i > 200) throw new Error(`${what}: heard ${JSON.stringify(heard)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    // The subscription is made asynchronously: announce until it has been heard once.
    for (let i = 0; heard.length === 0; i++) {
      if (i > 200) throw new Error("no announcement heard");
      await one.announceChange("master-one");
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(heard[0], "master-one");
    await server.stop();
    await server.restart();
    const before = heard.length;
    await waitFor("the reconnect", before + 1);
    assert.equal(heard.at(-1), null, "a reconnect may have missed announcements");
    stop();
  } finally {
    await one.close();
    await two.close();
  }
});

Deno.test("redis store: a store written before the start index gets it built when opened", async () => {
  await using server = await startRedis();
  const raw = new Redis(server.url);
  try {
    const store = await RedisStore.open({ url: server.url });
    await registerAgent(store, "pc1");
    const long = { uid: "long", start: "2026-03-01T00:00:00Z", end: "2026-03-20T00:00:00Z" };
    await store.applySnapshot("pc1", "main", snapshot([long, ev("a", 2), ev("b", 12)]), NOW);
    await store.close();
    // As a master before the index left it: occurrences only.
    await raw.del("calsync:occ_start:pc1:main");
    await raw.hdel("calsync:source:pc1:main", "max_span");

    const again = await RedisStore.open({ url: server.url });
    try {
      const range = { start: "2026-03-10T00:00:00Z", end: "2026-04-01T00:00:00Z" };
      const page = await again.listEventPage(range, { limit: 5, after: null });
      assert.deepEqual(page.events.map((e) => e.uid), ["long", "b"]);
      assert.equal(await raw.zcard("calsync:occ_start:pc1:main"), 3);
      assert.equal(await again.removeSource("pc1", "main"), true);
      assert.deepEqual(await raw.keys("calsync:occ*"), [], "the index goes with the source");
    } finally {
      await again.close();
    }
  } finally {
    raw.disconnect();
  }
});

Deno.test("redis store: occurrences written before change times were kept read back without one", async () => {
  await using server = await startRedis();
  const raw = new Redis(server.url);
  const store = await RedisStore.open({ url: server.url });
  try {
    await registerAgent(store, "pc1");
    await store.applySnapshot("pc1", "main", snapshot([ev("a", 2), ev("b", 3)]), NOW);
    // As a master before change times left it: start, end, hash, then the JSON.
    const field = JSON.stringify(["a", null]);
    const value = (await raw.hget("calsync:occ:pc1:main", field))!;
    const [start, end, hash] = value.split(" ", 3);
    const json = value.slice(value.indexOf("{"));
    await raw.hset("calsync:occ:pc1:main", field, `${start} ${end} ${hash} ${json}`);

    const events = await store.listEvents({
      start: "2026-03-01T00:00:00Z",
      end: "2026-04-01T00:00:00Z",
    });
    assert.deepEqual(events.map((e) => [e.uid, e.title, e.changed_at]), [
      ["a", "a", undefined],
      ["b", "b", NOW],
    ]);
    const page = await store.listEventPage({
      start: "2026-03-01T00:00:00Z",
      end: "2026-04-01T00:00:00Z",
    }, { limit: 10, after: null });
    assert.deepEqual(page.events, events);
    assert.deepEqual(
      (await store.applySnapshot("pc1", "main", snapshot([ev("a", 2), ev("b", 3)]), NOW)).result,
      { added: 0, updated: 0, removed: 0, unchanged: 2 },
      "its hash still reads",
    );
  } finally {
    await store.close();
    raw.disconnect();
  }
});

Deno.test("redis store: staged rows expire if never applied and go with the apply or a discard", async () => {
  await using server = await startRedis();
  const raw = new Redis(server.url);
  const store = await RedisStore.open({ url: server.url });
  try {
    await registerAgent(store, "pc1");
    const rows = snapshot(Array.from({ length: 1200 }, (_, i) => ev(`e${i}`, 1 + (i % 28)))).rows;
    const applied = store.stageSnapshot("pc1", "main");
    await applied.add(rows);
    const [key] = await raw.keys("calsync:staging:*");
    assert.equal(await raw.hlen(key), 1200, "more rows than stay in memory are staged in Redis");
    const ttl = await raw.pttl(key);
    assert.ok(ttl > 0 && ttl <= 3_600_000, `expires within an hour (${ttl} ms)`);
    await applied.apply(snapshot([]), NOW);
    assert.deepEqual(await raw.keys("calsync:staging:*"), []);

    const discarded = store.stageSnapshot("pc1", "main");
    await discarded.add(rows);
    await discarded.discard();
    assert.deepEqual(await raw.keys("calsync:staging:*"), []);
    assert.equal((await store.totals()).events, 1200);
  } finally {
    await store.close();
    raw.disconnect();
  }
});

Deno.test("redis store: a snapshot of 100,000 occurrences applies in one script", async () => {
  await using server = await startRedis();
  const store = await RedisStore.open({ url: server.url });
  try {
    await registerAgent(store, "pc1");
    const staging = store.stageSnapshot("pc1", "main");
    const start = Date.parse("2026-03-02T00:00:00Z");
    for (let chunk = 0; chunk < 100; chunk++) {
      await staging.add(Array.from({ length: 1000 }, (_, i) => {
        const n = chunk * 1000 + i;
        const key = JSON.stringify([`e${n}`, null]);
        return {
          key,
          hash: `h${n}`,
          start_ms: start + n,
          end_ms: start + n + 1,
          data: `{"n":${n}}`,
        };
      }));
    }
    // Over 200,000 arguments: more than a spread call could pass.
    const { result } = await staging.apply(snapshot([]), NOW);
    assert.equal(result.added, 100_000);
    assert.equal((await store.totals()).events, 100_000);
  } finally {
    await store.close();
  }
});
