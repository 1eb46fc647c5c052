/**
 * Failover benchmark: two masters share Redis and write into Radicale; the leader is
 * killed with SIGKILL while writing, and the standby is asked to reconcile once, which
 * the dead leader's lease makes it skip. Measured: how long after the kill the standby
 * writes by itself (it retries when the lease can expire), and how long until the
 * destination is complete again.
 *
 * @module
 */
import { startMaster } from "../tests/helpers/master_process.ts";
import {
  bulkCalendar,
  reconcileNow,
  runAgentOk,
  sharedMastersEnv,
  writeAgentConfig,
} from "../tests/helpers/pipeline.ts";
import { startRadicale } from "../tests/helpers/radicale.ts";
import { startRecordingProxy } from "../tests/helpers/recording_proxy.ts";
import { startRedis } from "../tests/helpers/redis.ts";
import type { Figure } from "./ingest.ts";

const LEASE_SECONDS = 5;
const COUNT = 200;

/** Runs the failover benchmark and returns its figures. */
export async function failoverBenchmark(): Promise<Figure[]> {
  const work = await Deno.makeTempDir({ prefix: "calsync-bench-failover-" });
  await using redis = await startRedis();
  await using radicale = await startRadicale();
  await using proxy = startRecordingProxy(radicale.url);
  const env = sharedMastersEnv({
    redisUrl: redis.url,
    caldavUrl: proxy.via(radicale.collectionUrl),
    username: radicale.username,
    password: radicale.password,
  }, { DESTINATION_LEASE_SECONDS: String(LEASE_SECONDS) });
  const leader = await startMaster(`${work}/leader`, env);
  const standby = await startMaster(`${work}/standby`, env);
  try {
    await Deno.writeTextFile(
      `${work}/bulk.ics`,
      bulkCalendar(COUNT, "bench"),
    );
    await runAgentOk(
      await writeAgentConfig(`${work}/a.json`, standby, { id: "bench" }, [
        { type: "ics", name: "Bulk", path: "bulk.ics" },
      ]),
    );
    proxy.reset();
    const running = reconcileNow(leader).catch(() => null);
    while ((proxy.counts().PUT ?? 0) < COUNT / 4) await new Promise((r) => setTimeout(r, 10));
    Deno.kill(leader.pid, "SIGKILL");
    const killed = performance.now();
    await running;
    await reconcileNow(standby);
    const before = proxy.counts().PUT ?? 0;
    while ((proxy.counts().PUT ?? 0) === before) await new Promise((r) => setTimeout(r, 10));
    const wrote = performance.now() - killed;
    // The standby's own run completes the destination; an ordinary run then finds it so.
    let [report] = await reconcileNow(standby);
    while (report.skipped || report.created + report.updated > 0) {
      await new Promise((r) => setTimeout(r, 100));
      [report] = await reconcileNow(standby);
    }
    const done = performance.now() - killed;
    return [
      { name: `lease (DESTINATION_LEASE_SECONDS)`, value: LEASE_SECONDS, unit: "s" },
      {
        name: "kill -9 of the leader until the standby wrote by itself",
        value: wrote / 1000,
        unit: "s",
        target: LEASE_SECONDS + 2,
      },
      {
        name: "kill -9 of the leader until the standby completed",
        value: done / 1000,
        unit: "s",
        target: LEASE_SECONDS + 10,
      },
    ];
  } finally {
    await leader.stop();
    await standby.stop();
    await Deno.remove(work, { recursive: true });
  }
}
