/**
 * CalDAV benchmark: 1,000 occurrences synced by a master process into a real Radicale,
 * then one changed event, then an unchanged resync, each with its wall time and the
 * requests it made by method; beside them the same 1,000 PUTs sent by a plain loop,
 * which is Radicale's own limit. Both go through the same counting proxy.
 *
 * @module
 */
import { generateIcs } from "../shared/ics/mod.ts";
import { occurrences, startPushingMaster } from "./pushing_master.ts";
import { basicAuth, makeCalendar, startRadicale } from "../tests/helpers/radicale.ts";
import { startRecordingProxy } from "../tests/helpers/recording_proxy.ts";
import type { Figure } from "./ingest.ts";

const COUNT = 1000;

function describe(counts: Record<string, number>): string {
  return Object.entries(counts).sort().map(([m, n]) => `${m} ${n}`).join(", ") || "none";
}

/** Runs the CalDAV benchmark and returns its figures, with request counts as notes. */
export async function caldavBenchmark(): Promise<{ figures: Figure[]; notes: string[] }> {
  await using radicale = await startRadicale();
  await using proxy = startRecordingProxy(radicale.url);
  const auth = basicAuth(radicale.username, radicale.password);

  const rawCollection = await makeCalendar(
    `${radicale.url}${radicale.username}/raw/`,
    radicale.username,
    radicale.password,
  );
  const t0 = performance.now();
  for (const o of occurrences(COUNT, (i) => `Raw ${i}`)) {
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

  await using pushing = await startPushingMaster({
    CALDAV_URL: proxy.via(radicale.collectionUrl),
    CALDAV_USERNAME: radicale.username,
    CALDAV_PASSWORD: radicale.password,
  });
  const { push } = pushing;
  const reconcile = async () => {
    proxy.reset();
    const { ms } = await pushing.reconcile();
    return { ms, counts: proxy.counts() };
  };

  const events = occurrences(COUNT, (i) => `Event ${i}`);
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
        target: 0,
        exact: true,
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
}
