/**
 * Memory benchmark: a real master process receives one 100,000-occurrence snapshot, then
 * ten rounds of a 10,000-occurrence ingest and resend, and gives the big source back;
 * its resident set size is sampled throughout.
 *
 * @module
 */
import { startMaster } from "../tests/helpers/master_process.ts";
import { bigSnapshot, type Figure, gzip } from "./ingest.ts";

const MiB = 1024 * 1024;

/** Runs the memory benchmark against a master started with `env`. */
export async function memoryBenchmark(env: Record<string, string> = {}): Promise<Figure[]> {
  const dir = await Deno.makeTempDir({ prefix: "calsync-bench-memory-" });
  const master = await startMaster(dir, { MAX_BODY_MB: "200", ...env });
  // An id of its own: on a Redis the ingest benchmark used, "bench" is taken.
  const agent = `memory-${crypto.randomUUID().slice(0, 8)}`;
  try {
    const reg = await fetch(`${master.url}/api/agents/register`, {
      method: "POST",
      headers: { authorization: `Bearer ${master.enrollmentToken}` },
      body: JSON.stringify({
        agent_id: agent,
        agent_name: "Bench",
        sources: [
          { source_id: "big", name: "Big", type: "ics" },
          { source_id: "rounds", name: "Rounds", type: "ics" },
        ],
      }),
    });
    if (!reg.ok) throw new Error(`registering answered ${reg.status}: ${await reg.text()}`);
    const { token } = await reg.json();
    const put = async (source: string, body: ArrayBuffer) => {
      const res = await fetch(`${master.url}/api/agents/${agent}/sources/${source}/snapshot`, {
        method: "PUT",
        headers: { authorization: `Bearer ${token}`, "content-encoding": "gzip" },
        body,
      });
      const result = await res.json();
      if (!res.ok) throw new Error(JSON.stringify(result));
      return result;
    };
    // Settled: the first requests load code and warm caches.
    await new Promise((r) => setTimeout(r, 2000));
    const idle = await master.rssBytes();

    const big = await gzip(JSON.stringify(bigSnapshot(100_000, "2026-01-01T00:00:00Z")));
    let peak = idle;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await master.rssBytes());
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const added = await put("big", big).then((r) => r.added).finally(() => sampling = false);
    await sampler;
    if (added !== 100_000) throw new Error(`expected 100,000 added, got ${added}`);

    // Each round changes every occurrence, then sends the same snapshot again.
    const round = (n: number) => {
      const snapshot = bigSnapshot(10_000, `2026-01-01T00:${String(n).padStart(2, "0")}:00Z`);
      snapshot.events = snapshot.events.map((e) => ({ ...e, title: `${e.title} (round ${n})` }));
      return gzip(JSON.stringify(snapshot));
    };
    const afterRound: number[] = [];
    for (let n = 0; n < 10; n++) {
      const body = await round(n);
      await put("rounds", body);
      await put("rounds", body);
      afterRound.push(await master.rssBytes());
    }

    const removed = await fetch(`${master.url}/api/admin/agents/${agent}/sources/big`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${master.adminToken}` },
    });
    await removed.body?.cancel();
    if (!removed.ok) throw new Error(`removing the source answered ${removed.status}`);
    await new Promise((r) => setTimeout(r, 60_000));
    const after = await master.rssBytes();
    return [
      { name: "idle master RSS", value: idle / MiB, unit: "MiB" },
      {
        name: "peak above idle, one 100,000-occurrence upload",
        value: (peak - idle) / MiB,
        unit: "MiB",
        target: 150,
      },
      {
        name: "RSS after 10 rounds of 10,000 / after the first",
        value: afterRound[9] / afterRound[0],
        unit: "x",
        target: 1.2,
      },
      {
        name: "RSS a minute after removing the big source / idle",
        value: after / idle,
        unit: "x",
        target: 1.5,
      },
    ];
  } finally {
    await master.stop();
    await Deno.remove(dir, { recursive: true });
  }
}
