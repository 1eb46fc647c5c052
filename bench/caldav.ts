/**
 * CalDAV benchmark: 1,000 occurrences synced by a master process into a real Radicale,
 * then one changed event, then an unchanged resync, each with its wall time and the
 * requests it made by method; beside them the same 1,000 PUTs sent by a plain loop,
 * which is Radicale's own limit. Both go through the same counting proxy.
 *
 * @module
 */
import { generateIcs } from "../shared/ics/mod.ts";
import { Occurrence } from "../shared/model.ts";
import { toInstant } from "../shared/time.ts";
import { startMaster } from "../tests/helpers/master_process.ts";
import { basicAuth, makeCalendar, startRadicale } from "../tests/helpers/radicale.ts";
import { startRecordingProxy } from "../tests/helpers/recording_proxy.ts";
import type { Figure } from "./ingest.ts";

const COUNT = 1000;

function occurrences(title: (i: number) => string): Occurrence[] {
  const base = Date.parse("2026-12-01T08:00:00Z");
  return Array.from({ length: COUNT }, (_, i) =>
    Occurrence.parse({
      uid: `bench-${i}@calsync.test`,
      start: toInstant(new Date(base + i * 3_600_000)),
      end: toInstant(new Date(base + i * 3_600_000 + 1_800_000)),
      title: title(i),
      location: "Room 1",
    }));
}

function describe(counts: Record<string, number>): string {
  return Object.entries(counts).sort().map(([m, n]) => `${m} ${n}`).join(", ") || "none";
}

/** Runs the CalDAV benchmark and returns its figures, with request counts as notes. */
export async function caldavBenchmark(): Promise<{ figures: Figure[]; notes: string[] }> {
  const work = await Deno.makeTempDir({ prefix: "calsync-bench-caldav-" });
  await using radicale = await startRadicale();
  await using proxy = startRecordingProxy(radicale.url);
  const auth = basicAuth(radicale.username, radicale.password);

  const rawCollection = await makeCalendar(
    `${radicale.url}${radicale.username}/raw/`,
    radicale.username,
    radicale.password,
  );
  const t0 = performance.now();
  for (const o of occurrences((i) => `Raw ${i}`)) {
    // Through the same proxy as the master, so both pay the same extra hop.
    const res = await fetch(proxy.via(`${rawCollection}${encodeURIComponent(o.uid)}.ics`), {
      method: "PUT",
      headers: { authorization: auth, "if-none-match": "*", "content-type": "text/calendar" },
      body: generateIcs([o]),
    });
    await res.body?.cancel();
    if (res.status !== 201) throw new Error(`raw PUT: HTTP ${res.status}`);
  }
  const rawMs = performance.now() - t0;

  const master = await startMaster(`${work}/data`, {
    CALDAV_URL: proxy.via(radicale.collectionUrl),
    CALDAV_USERNAME: radicale.username,
    CALDAV_PASSWORD: radicale.password,
    SYNC_INTERVAL_MINUTES: "60",
  });
  try {
    const call = (method: string, path: string, token: string, body: unknown) =>
      fetch(`${master.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      }).then(async (res) => {
        const json = await res.json();
        if (!res.ok) throw new Error(`${method} ${path}: ${JSON.stringify(json)}`);
        return json;
      });
    const { token } = await call("POST", "/api/agents/register", master.enrollmentToken, {
      agent_id: "bench",
      agent_name: "Bench",
      sources: [{ source_id: "main", name: "Main", type: "ics" }],
    });
    const window = { start: "2026-11-01T00:00:00Z", end: "2027-03-01T00:00:00Z" };
    let generation = 0;
    const push = (events: Occurrence[]) =>
      call("PUT", "/api/agents/bench/sources/main/snapshot", token, {
        window,
        generated_at: toInstant(new Date(Date.parse("2026-11-01T00:00:00Z") + ++generation * 1000)),
        events,
      });
    const reconcile = async () => {
      proxy.reset();
      const start = performance.now();
      const { reports } = await call("POST", "/api/admin/reconcile", master.adminToken, {});
      const ms = performance.now() - start;
      if (reports[0].failed > 0) throw new Error(reports[0].errors[0]);
      return { ms, counts: proxy.counts() };
    };

    const events = occurrences((i) => `Event ${i}`);
    await push(events);
    const first = await reconcile();
    await push(events.map((e, i) => (i === 500 ? { ...e, title: "Changed" } : e)));
    const changed = await reconcile();
    const unchanged = await reconcile();
    const writes = (c: Record<string, number>) => (c.PUT ?? 0) + (c.DELETE ?? 0);
    return {
      figures: [
        { name: `${COUNT} raw PUTs in a plain loop`, value: rawMs / 1000, unit: "s" },
        {
          name: `first sync of ${COUNT} occurrences`,
          value: first.ms / 1000,
          unit: "s",
          target: (rawMs * 1.1) / 1000,
        },
        { name: "first sync / raw PUTs", value: first.ms / rawMs, unit: "x", target: 1.1 },
        {
          name: "one changed event: writes",
          value: writes(changed.counts),
          unit: "",
          target: 1,
          exact: true,
        },
        { name: "one changed event: wall time", value: changed.ms, unit: "ms" },
        {
          name: "unchanged resync: writes",
          value: writes(unchanged.counts),
          unit: "",
          target: 0.5,
        },
        {
          name: "unchanged resync: requests",
          value: Object.values(unchanged.counts).reduce((a, b) => a + b, 0),
          unit: "",
          target: 1,
          exact: true,
        },
        { name: "unchanged resync: wall time", value: unchanged.ms, unit: "ms" },
      ],
      notes: [
        `first sync requests: ${describe(first.counts)}`,
        `one changed event requests: ${describe(changed.counts)}`,
        `unchanged resync requests: ${describe(unchanged.counts)}`,
      ],
    };
  } finally {
    await master.stop();
    await Deno.remove(work, { recursive: true });
  }
}
