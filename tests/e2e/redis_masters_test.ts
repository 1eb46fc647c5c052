/**
 * Several masters on one Redis, as behind a load balancer: agents talk to either, status
 * agrees, one destination gets every item exactly once, and a Redis outage is a 503 with
 * Retry-After that heals by itself.
 */
import assert from "node:assert/strict";
import { CalDavClient } from "../../shared/caldav/client.ts";
import { startMaster } from "../helpers/master_process.ts";
import {
  bulkCalendar,
  calendar,
  reconcileNow,
  runAgent,
  runAgentOk,
  sharedMastersEnv,
  syncStatus,
  timedEvent,
  writeAgentConfig,
} from "../helpers/pipeline.ts";
import { startRadicale } from "../helpers/radicale.ts";
import { startRedis } from "../helpers/redis.ts";
import { startRecordingProxy } from "../helpers/recording_proxy.ts";

/** Items a master created in the destination so far, from its `/metrics`. */
async function creates(master: { url: string }): Promise<number> {
  const res = await fetch(`${master.url}/metrics`, {
    headers: { authorization: "Bearer shared-admin-token-0123456789" },
  });
  const text = await res.text();
  const line = /^calsync_destination_writes_total\{[^}]*op="create"[^}]*\} (\d+)$/m.exec(text);
  return Number(line?.[1] ?? 0);
}

Deno.test("two masters share Redis: either takes agents, one writer, outages heal", async () => {
  const work = await Deno.makeTempDir({ prefix: "calsync-redis-e2e-" });
  await using redis = await startRedis();
  await using radicale = await startRadicale();
  const env = {
    REDIS_HOST: redis.host,
    REDIS_PORT: String(redis.port),
    ADMIN_TOKEN: "shared-admin-token-0123456789",
    AGENT_ENROLLMENT_TOKEN: "shared-enrollment-token-012345",
    CALDAV_URL: radicale.collectionUrl,
    CALDAV_USERNAME: radicale.username,
    CALDAV_PASSWORD: radicale.password,
    SYNC_INTERVAL_MINUTES: "60",
  };
  const one = await startMaster(`${work}/one`, env);
  const two = await startMaster(`${work}/two`, env);
  try {
    await Deno.writeTextFile(
      `${work}/a.ics`,
      calendar(
        Array.from({ length: 10 }, (_, i) => timedEvent(`a${i}@e2e`, 1 + i, 9, [`SUMMARY:A ${i}`])),
      ),
    );
    await Deno.writeTextFile(
      `${work}/b.ics`,
      calendar([timedEvent("b@e2e", 2, 15, ["SUMMARY:B"])]),
    );
    const a = await writeAgentConfig(`${work}/a.json`, one, { id: "pc-a" }, [
      { type: "ics", name: "A", path: "a.ics" },
    ]);
    const b = await writeAgentConfig(`${work}/b.json`, two, { id: "pc-b" }, [
      { type: "ics", name: "B", path: "b.ics" },
    ]);
    await runAgentOk(a);
    await runAgentOk(b);
    const [s1, s2] = [await syncStatus(one), await syncStatus(two)];
    assert.deepEqual(s1.totals, { agents: 2, sources: 2, events: 11 });
    assert.deepEqual(s2.totals, s1.totals, "both masters see the same store");

    // Both reconcile at once: the lease lets one write and the other skip. The uploads'
    // own debounced reconciles may have written some items already, on either master:
    // every create of both masters counts, from their metrics.
    const [r1, r2] = await Promise.all([reconcileNow(one), reconcileNow(two)]);
    assert.ok(!(r1[0].created > 0 && r2[0].created > 0), "only one master wrote");
    assert.equal((await creates(one)) + (await creates(two)), 11, "each item created once");
    const client = await CalDavClient.open({
      url: radicale.collectionUrl,
      username: radicale.username,
      password: radicale.password,
    });
    const objects = await client.listObjects();
    assert.equal(objects.length, 11, "every item exactly once");

    await redis.stop();
    const health = await fetch(`${one.url}/health`);
    assert.equal(health.status, 503);
    await health.body?.cancel();
    await Deno.writeTextFile(
      `${work}/b.ics`,
      calendar([timedEvent("b@e2e", 2, 15, ["SUMMARY:B2"])]),
    );
    const down = await runAgent(b);
    assert.notEqual(down.code, 0, "the agent is told to come back later");
    await redis.restart();
    let healed = false;
    for (let i = 0; i < 300 && !healed; i++) {
      const res = await fetch(`${two.url}/health`);
      healed = res.ok;
      await res.body?.cancel();
      if (!healed) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(healed, "the master recovers by itself");
    await runAgentOk(b);
    await reconcileNow(two);
    const titles = (await client.listObjects()).map((o) =>
      /SUMMARY:(.*)/.exec(o.data)?.[1]?.trim()
    );
    assert.ok(titles.includes("B2"));
    assert.equal(titles.length, 11);

    // The same agent now talks to the other master: its token and snapshots are known there.
    await writeAgentConfig(b, one, { id: "pc-b" }, [{ type: "ics", name: "B", path: "b.ics" }]);
    await Deno.writeTextFile(
      `${work}/b.ics`,
      calendar([timedEvent("b@e2e", 2, 15, ["SUMMARY:B3"])]),
    );
    const output = await runAgentOk(b);
    assert.match(output, /added 0, updated 1, removed 0, unchanged 0/);
    assert.doesNotMatch(output, /enrollment token/, "no new enrolment at the other master");
  } finally {
    await one.stop();
    await two.stop();
    await Deno.remove(work, { recursive: true });
  }
});

Deno.test("the leader killed mid-reconcile: the other master takes over after the lease", async () => {
  const work = await Deno.makeTempDir({ prefix: "calsync-failover-e2e-" });
  await using redis = await startRedis();
  await using radicale = await startRadicale();
  await using proxy = startRecordingProxy(radicale.url);
  const env = sharedMastersEnv({
    redisUrl: redis.url,
    caldavUrl: proxy.via(radicale.collectionUrl),
    username: radicale.username,
    password: radicale.password,
  }, { DESTINATION_LEASE_SECONDS: "2" });
  const leader = await startMaster(`${work}/leader`, env);
  const standby = await startMaster(`${work}/standby`, env);
  try {
    const count = 120;
    await Deno.writeTextFile(
      `${work}/bulk.ics`,
      bulkCalendar(count),
    );
    const config = await writeAgentConfig(`${work}/a.json`, standby, { id: "pc-a" }, [
      { type: "ics", name: "Bulk", path: "bulk.ics" },
    ]);
    await runAgentOk(config);
    proxy.reset();
    // The 31st write is held, so the leader dies with its reconcile surely unfinished.
    const writing = proxy.holdAfter("PUT", 30);
    const running = reconcileNow(leader).catch(() => null);
    await writing;
    Deno.kill(leader.pid, "SIGKILL");
    await running;
    proxy.release();
    // Whether the dead leader's lease still holds by now depends on how busy the machine
    // is (lease_takeover_test measures that); the standby tries until it takes over. The
    // lease lasts 2 s; the bound only keeps a broken takeover from hanging the test.
    let [report] = await reconcileNow(standby);
    for (let i = 0; i < 100 && report.skipped; i++) {
      await new Promise((r) => setTimeout(r, 200));
      [report] = await reconcileNow(standby);
    }
    assert.equal(report.skipped, false, "the standby took the destination over");
    assert.equal(report.failed, 0);
    const client = await CalDavClient.open({
      url: radicale.collectionUrl,
      username: radicale.username,
      password: radicale.password,
    });
    const objects = await client.listObjects();
    assert.equal(objects.length, count, "every item exactly once");
  } finally {
    await leader.stop();
    await standby.stop();
    await Deno.remove(work, { recursive: true });
  }
});
