/**
 * Retention against a real CalDAV server (Radicale): pruning an occurrence that ended
 * more than RETENTION_DAYS ago takes it out of the store only. The destination keeps its
 * copy through ordinary, listed and clean-up reconciles, and the status table keeps an
 * entry for it until the copy is gone from the calendar.
 */
import assert from "node:assert/strict";
import { Pruner } from "../../master/sync/retention.ts";
import { memoryLogger } from "../../master/log.ts";
import { CalDavClient } from "../../shared/caldav/client.ts";
import { SyncStatus } from "../../shared/protocol.ts";
import { ADMIN_TOKEN, enrol, testMaster, timed } from "../helpers/master_app.ts";
import { radicaleDestination, startRadicale } from "../helpers/radicale.ts";

Deno.test("pruning an aged-out occurrence never deletes the destination's copy", async () => {
  await using radicale = await startRadicale();
  await using master = await testMaster({ destinations: [await radicaleDestination(radicale)] });
  const client = await CalDavClient.open({
    url: radicale.collectionUrl,
    username: radicale.username,
    password: radicale.password,
  });
  const titles = async () =>
    (await client.listObjects()).map((o) => /SUMMARY:(.*)/.exec(o.data)![1].trim()).sort();
  const token = await enrol(master, "pc1");
  // The master's clock says 2026-03-01: with 400 days, what ended before 2025-01-25 goes.
  const upload = (window: { start: string; end: string }, events: unknown[]) =>
    master.call("PUT", "/api/agents/pc1/sources/main/snapshot", {
      token,
      body: { window, generated_at: master.clock.now.toISOString(), settings: {}, events },
    });
  const put = await upload({ start: "2024-12-01T00:00:00Z", end: "2026-04-01T00:00:00Z" }, [
    timed("old", "2024-12-10T09:00:00Z", 60, { title: "Old" }),
    timed("new", "2026-03-05T09:00:00Z", 60, { title: "New" }),
  ]);
  assert.equal(put.status, 200, await put.text());
  await master.sync.run();
  assert.deepEqual(await titles(), ["New", "Old"]);
  const written = await master.store.destinationEntries("radicale");
  assert.ok(written.every((e) => typeof e.end_ms === "number"), JSON.stringify(written));

  const logger = memoryLogger();
  const pruner = new Pruner({
    store: master.store,
    logger,
    retentionDays: 400,
    owner: "test",
    now: () => master.clock.now,
  });
  assert.equal(await pruner.pruneNow(), 1);
  assert.match(logger.lines.join("\n"), /removed 1 occurrences that ended before 2025-01-25/);
  const status = SyncStatus.parse(
    await (await master.call("GET", "/api/sync/status", { token: ADMIN_TOKEN })).json(),
  );
  assert.equal(status.agents[0].sources[0].event_count, 1);

  for (const [forceList, deleteStrays] of [[false, false], [true, false], [true, true]]) {
    const [report] = await master.sync.run(forceList, deleteStrays);
    assert.deepEqual(
      [report.created, report.updated, report.deleted, report.failed, report.strays],
      [0, 0, 0, 0, 0],
      `run(${forceList}, ${deleteStrays}): ${JSON.stringify(report)}`,
    );
    assert.deepEqual(await titles(), ["New", "Old"]);
  }
  // The source's next snapshot of its usual window leaves the aged-out copy alone too.
  master.clock.now = new Date("2026-03-01T12:05:00Z");
  const next = await upload({ start: "2026-03-01T00:00:00Z", end: "2026-04-01T00:00:00Z" }, [
    timed("new", "2026-03-05T09:00:00Z", 60, { title: "New" }),
  ]);
  assert.equal(next.status, 200, await next.text());
  const [after] = await master.sync.run(true);
  assert.equal(after.deleted, 0);
  assert.deepEqual(await titles(), ["New", "Old"]);
  assert.deepEqual(
    (await master.store.destinationEntries("radicale")).map((e) => e.key).sort(),
    written.map((e) => e.key).sort(),
    "the status table still knows both copies",
  );

  // Someone deletes the old copy by hand: its entry is forgotten, nothing is written.
  const old = (await client.listObjects()).find((o) => o.data.includes("SUMMARY:Old"))!;
  await client.remove(old.href, old.etag!);
  const [cleaned] = await master.sync.run(true);
  assert.deepEqual([cleaned.created, cleaned.deleted], [0, 0]);
  assert.deepEqual(await titles(), ["New"]);
  assert.equal((await master.store.destinationEntries("radicale")).length, 1);
});

Deno.test("one master prunes at a time, in batches, while it holds the lease", async () => {
  await using master = await testMaster();
  const token = await enrol(master, "pc1");
  const events = Array.from(
    { length: 5 },
    (_, i) => timed(`e${i}`, `2024-01-0${i + 1}T09:00:00Z`),
  );
  const put = await master.call("PUT", "/api/agents/pc1/sources/main/snapshot", {
    token,
    body: {
      window: { start: "2024-01-01T00:00:00Z", end: "2026-04-01T00:00:00Z" },
      generated_at: master.clock.now.toISOString(),
      settings: {},
      events: [...events, timed("recent", "2026-03-02T09:00:00Z")],
    },
  });
  assert.equal(put.status, 200, await put.text());
  const pruner = new Pruner({
    store: master.store,
    logger: memoryLogger(),
    retentionDays: 400,
    owner: "master-a",
    batchSize: 2,
    now: () => master.clock.now,
  });
  await master.store.acquireLease("retention", "master-b", 60_000);
  assert.equal(await pruner.pruneNow(), null, "master-b prunes");
  assert.equal((await master.store.totals()).events, 6);
  await master.store.releaseLease("retention", "master-b");
  assert.equal(await pruner.pruneNow(), 5);
  assert.equal((await master.store.totals()).events, 1);
  assert.equal(await master.store.leaseRemainingMs("retention"), null, "released after");
});
