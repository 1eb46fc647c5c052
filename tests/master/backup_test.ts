import assert from "node:assert/strict";
import { Backup, exportStore, importStore } from "../../master/backup.ts";
import { MemoryDestination } from "../../master/destinations/memory.ts";
import { configured } from "../../master/destinations/mod.ts";
import { memoryLogger } from "../../master/log.ts";
import { RedisStore } from "../../master/store/redis.ts";
import { SqliteStore } from "../../master/store/sqlite.ts";
import type { Store } from "../../master/store/types.ts";
import { reconcileDestination } from "../../master/sync/reconcile.ts";
import { ADMIN_TOKEN, enrol, testMaster, timed } from "../helpers/master_app.ts";
import { startRedis } from "../helpers/redis.ts";

const ALL = { start: "0001-01-01T00:00:00Z", end: "9999-12-31T00:00:00Z" };
const NOW = "2026-03-01T12:00:00Z";

/** Everything a store answers, to compare two stores. */
async function contents(store: Store) {
  const ids = await store.destinationIds();
  return {
    agents: await store.listAgents(),
    events: await store.listEvents(ALL),
    totals: await store.totals(),
    feeds: await store.listCredentials("feed", NOW),
    readTokens: await store.listCredentials("read", NOW),
    destinations: await Promise.all(ids.map(async (id) => ({
      id,
      state: await store.destinationState(id),
      entries: await store.destinationEntries(id),
    }))),
  };
}

async function seeded() {
  const dest = new MemoryDestination("wall");
  const master = await testMaster({ destinations: [configured(dest)], debounceMs: 60_000 });
  const token = await enrol(master, "pc1", ["main", "team"]);
  await enrol(master, "pc2");
  const window = { start: "2026-03-01T00:00:00Z", end: "2026-04-01T00:00:00Z" };
  await master.call("PUT", "/api/agents/pc1/sources/main/snapshot", {
    token,
    body: {
      window,
      generated_at: "2026-03-01T11:00:00Z",
      settings: { label: "PC 1", privacy: "title" },
      warnings: {
        count: 1,
        by_reason: { "missing-uid": 1 },
        samples: [{ reason: "missing-uid", line: 12, message: "VEVENT at line 12 has no UID" }],
      },
      events: [
        timed("a", "2026-03-02T09:00:00Z", 60, { location: "Room 4" }),
        { uid: "d", all_day: true, start: "2026-03-10", end: "2026-03-11", title: "Offsite" },
      ],
    },
  });
  await master.call("POST", "/api/agents/pc1/heartbeat", {
    token,
    body: { sync_interval_minutes: 10, sources: [{ source_id: "team", last_error: "HTTP 404" }] },
  });
  await master.call("POST", "/api/admin/agents/pc2/reset", { token: ADMIN_TOKEN });
  await master.call("POST", "/api/admin/feeds", { token: ADMIN_TOKEN, body: { name: "Wall" } });
  await master.call("POST", "/api/admin/read-tokens", {
    token: ADMIN_TOKEN,
    body: { name: "Intranet" },
  });
  await master.store.createCredential({
    credential_id: "s1",
    kind: "session",
    name: "admin",
    token_hash: "session-hash",
    created_at: NOW,
    expires_at: "2999-01-01T00:00:00Z",
  });
  await master.sync.run();
  return { master, dest };
}

for (
  const [name, open] of [
    ["SQLite", () => SqliteStore.open(":memory:")],
    ["Redis", null],
  ] as const
) {
  Deno.test(`backup of SQLite restored into ${name}: the same contents, no destination writes`, async () => {
    const { master, dest } = await seeded();
    await using _ = master;
    const backup = Backup.parse(
      JSON.parse(JSON.stringify(await exportStore(master.store, new Date()))),
    );
    await using redis = open ? null : await startRedis();
    const restored = open ? await open() : await RedisStore.open({ url: redis!.url });
    try {
      assert.deepEqual(backup.credentials.map((c) => c.kind), ["feed", "read"], "no sessions");
      await importStore(restored, backup);
      assert.deepEqual(await contents(restored), await contents(master.store));
      assert.deepEqual(await restored.listCredentials("session", NOW), []);
      await assert.rejects(importStore(restored, backup), /the store is not empty/);
      const writes = dest.writes;
      const report = await reconcileDestination(dest, restored, await master.sync.desired(), {
        logger: memoryLogger(),
      });
      assert.equal(report.failed, 0);
      assert.equal(dest.writes, writes, "nothing written after a restore");
    } finally {
      await restored.close();
    }
  });
}

Deno.test("a version-1 backup restores its feeds as feed credentials", async () => {
  const { master } = await seeded();
  await using _ = master;
  const { version: _v, credentials, ...rest } = await exportStore(master.store, new Date());
  const feeds = credentials.filter((c) => c.kind === "feed").map((c) => ({
    feed_id: c.credential_id,
    name: c.name,
    token_hash: c.token_hash,
    created_at: c.created_at,
  }));
  const backup = Backup.parse(JSON.parse(JSON.stringify({ ...rest, version: 1, feeds })));
  const restored = await SqliteStore.open(":memory:");
  try {
    await importStore(restored, backup);
    const [feed] = feeds;
    assert.deepEqual(await restored.findCredential("feed", feed.token_hash, NOW), {
      credential_id: feed.feed_id,
      kind: "feed",
      name: "Wall",
      token_hash: feed.token_hash,
      created_at: feed.created_at,
      expires_at: null,
    });
    assert.equal((await restored.listAgents()).length, 2);
  } finally {
    await restored.close();
  }
});

Deno.test("a backup keeps each source's warnings; one written before warnings restores without", async () => {
  const { master } = await seeded();
  await using _ = master;
  const backup = await exportStore(master.store, new Date());
  const main = backup.agents[0].sources.find((s) => s.source_id === "main")!;
  assert.equal(main.warnings.by_reason["missing-uid"], 1);
  const old = JSON.parse(JSON.stringify(backup));
  for (const agent of old.agents) {
    for (const source of agent.sources) delete source.warnings;
  }
  const restored = await SqliteStore.open(":memory:");
  try {
    await importStore(restored, Backup.parse(old));
    const [pc1] = await restored.listAgents();
    assert.deepEqual(pc1.sources.map((s) => [s.source_id, s.warnings.count, s.event_count]), [
      ["main", 0, 2],
      ["team", 0, 0],
    ]);
  } finally {
    await restored.close();
  }
});

Deno.test("a backup of an unknown version is refused, naming the versions read", () => {
  const parsed = Backup.safeParse({ format: "calsync-backup", version: 3 });
  assert.equal(parsed.success, false);
  assert.match(parsed.error!.issues[0].message, /version must be 1 or 2/);
});
