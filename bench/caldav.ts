/**
 * CalDAV benchmark, on a real Radicale and a real SOGo (mailcow's groupware): 1,000
 * occurrences synced by a master process, then one changed event, an unchanged resync
 * and one appointment added by hand, each with its wall time and the requests it made by
 * method; beside them the same 1,000 PUTs sent by a plain loop with 4 requests in flight
 * (the master's own concurrency), which is the server's own limit. Both go through the
 * same counting proxy.
 *
 * @module
 */
import { generateIcs } from "../shared/ics/mod.ts";
import { occurrences, startPushingMaster } from "./pushing_master.ts";
import { basicAuth, makeCalendar, putResource, startRadicale } from "../tests/helpers/radicale.ts";
import { startRecordingProxy } from "../tests/helpers/recording_proxy.ts";
import { startSogo } from "../tests/helpers/sogo.ts";
import { foreignIcs } from "../tests/master/destination_contract.ts";
import type { Figure } from "./ingest.ts";

const COUNT = 1000;
const IN_FLIGHT = 4;

function describe(counts: Record<string, number>): string {
  return Object.entries(counts).sort().map(([m, n]) => `${m} ${n}`).join(", ") || "none";
}

/** A server to measure: its root, the account, and how to make a fresh calendar. */
type Server = AsyncDisposable & {
  url: string;
  username: string;
  password: string;
  calendar(name: string): Promise<string>;
};

async function radicaleServer(): Promise<Server> {
  const radicale = await startRadicale();
  const { url, username, password } = radicale;
  return {
    url,
    username,
    password,
    calendar: (name) => makeCalendar(`${url}${username}/${name}/`, username, password),
    [Symbol.asyncDispose]: () => radicale.close(),
  };
}

async function sogoServer(): Promise<Server> {
  const sogo = await startSogo();
  const [[username, password]] = Object.entries(sogo.users);
  return {
    url: sogo.url,
    username,
    password,
    calendar: (name) =>
      makeCalendar(`${sogo.url}SOGo/dav/${username}/Calendar/${name}/`, username, password),
    [Symbol.asyncDispose]: () => sogo.close(),
  };
}

/** Runs the CalDAV benchmark on `start`'s server and returns its figures and notes. */
async function caldavBenchmark(start: () => Promise<Server>) {
  await using server = await start();
  await using proxy = startRecordingProxy(server.url);
  const auth = basicAuth(server.username, server.password);

  const rawCollection = await server.calendar("raw");
  const raw = occurrences(COUNT, (i) => `Raw ${i}`);
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next < raw.length) {
      const o = raw[next++];
      // Through the same proxy as the master, so both pay the same extra hop.
      const res = await fetch(proxy.via(`${rawCollection}${encodeURIComponent(o.uid)}.ics`), {
        method: "PUT",
        headers: { authorization: auth, "if-none-match": "*", "content-type": "text/calendar" },
        body: generateIcs([o]),
      });
      await res.body?.cancel();
      if (res.status !== 201) throw new Error(`raw PUT: HTTP ${res.status}`);
    }
  }));
  const rawMs = performance.now() - t0;

  const collection = await server.calendar("consolidated");
  await using pushing = await startPushingMaster({
    CALDAV_URL: proxy.via(collection),
    CALDAV_USERNAME: server.username,
    CALDAV_PASSWORD: server.password,
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
  // A user adds an appointment in their calendar app, straight to the server.
  await putResource(
    `${collection}lunch.ics`,
    foreignIcs("lunch@phone"),
    server.username,
    server.password,
  );
  const byHand = await reconcile();
  const writes = (c: Record<string, number>) => (c.PUT ?? 0) + (c.DELETE ?? 0);
  return {
    figures: [
      { name: `${COUNT} raw PUTs, ${IN_FLIGHT} in flight`, value: rawMs / 1000, unit: "s" },
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
      {
        name: "one appointment added by hand: writes",
        value: writes(byHand.counts),
        unit: "",
        target: 0,
        exact: true,
      },
    ] satisfies Figure[],
    notes: [
      `first sync requests: ${describe(first.counts)}`,
      `one changed event requests: ${describe(changed.counts)}`,
      `unchanged resync requests: ${describe(unchanged.counts)}`,
      `one appointment added by hand, requests: ${describe(byHand.counts)}`,
    ],
  };
}

/** The CalDAV benchmark on Radicale. */
export const radicaleBenchmark = () => caldavBenchmark(radicaleServer);
/** The CalDAV benchmark on SOGo, as mailcow runs it. */
export const sogoBenchmark = () => caldavBenchmark(sogoServer);
