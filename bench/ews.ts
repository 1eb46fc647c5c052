/**
 * EWS benchmark: 2,000 occurrences synced by a master process into the Exchange-faithful
 * fake, then an unchanged resync and one changed event, and the agent's Exchange source
 * reading 2,000 occurrences; with wall time and SOAP requests by operation.
 *
 * @module
 */
import { ExchangeSettings, exchangeSource } from "../agent/sources/exchange.ts";
import { startFakeExchange } from "../tests/fakes/ews/mod.ts";
import type { Figure } from "./ingest.ts";
import { occurrences, startPushingMaster } from "./pushing_master.ts";

const COUNT = 2000;
const USER = "calsync@corp.example";
const PASSWORD = "Passw0rd!";
const WRITES = ["CreateItem", "UpdateItem", "DeleteItem"];

/** Runs the EWS benchmark and returns its figures, with request counts as notes. */
export async function ewsBenchmark(): Promise<{ figures: Figure[]; notes: string[] }> {
  await using exchange = await startFakeExchange({ users: { [USER]: PASSWORD } });
  await using pushing = await startPushingMaster({
    EXCHANGE_SERVER_URL: exchange.url,
    EXCHANGE_USERNAME: USER,
    EXCHANGE_PASSWORD: PASSWORD,
  });
  const counted = async () => {
    exchange.resetRequests();
    const { ms } = await pushing.reconcile();
    const counts: Record<string, number> = {};
    for (const r of exchange.requests) counts[r.operation] = (counts[r.operation] ?? 0) + 1;
    return { ms, counts };
  };
  const sum = (c: Record<string, number>, ops: string[]) =>
    ops.reduce((n, op) => n + (c[op] ?? 0), 0);
  const describe = (c: Record<string, number>) =>
    Object.entries(c).sort().map(([op, n]) => `${op} ${n}`).join(", ");

  await pushing.push(occurrences(COUNT, (i) => `Event ${i}`));
  const first = await counted();
  const unchanged = await counted();
  await pushing.push(occurrences(COUNT, (i) => i === 7 ? "Event 7 (moved)" : `Event ${i}`));
  const changed = await counted();
  const total = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
  const source = await sourceReading();
  return {
    figures: [
      { name: `first sync of ${COUNT} occurrences`, value: first.ms / 1000, unit: "s" },
      {
        name: "first sync: SOAP requests",
        value: total(first.counts),
        unit: "",
        target: COUNT / 50 + 5,
      },
      {
        name: "first sync: CreateItem requests",
        value: first.counts.CreateItem ?? 0,
        unit: "",
        target: COUNT / 50,
        exact: true,
      },
      { name: "unchanged resync: wall time", value: unchanged.ms, unit: "ms" },
      {
        name: "unchanged resync: writes",
        value: sum(unchanged.counts, WRITES),
        unit: "",
        target: 0,
        exact: true,
      },
      {
        name: "unchanged resync: SOAP requests (a listing of 1,000 per page)",
        value: total(unchanged.counts),
        unit: "",
        target: COUNT / 1000,
      },
      {
        name: "one changed event: SOAP requests (listing, read, update)",
        value: total(changed.counts),
        unit: "",
        target: COUNT / 1000 + 2,
      },
      { name: `source reading ${COUNT} occurrences: wall time`, value: source.ms, unit: "ms" },
      {
        name: `source reading ${COUNT} occurrences: SOAP requests`,
        value: total(source.counts),
        unit: "",
        // 100 per GetItem, and views of 1,000 that each repeat the last item before.
        target: COUNT / 100 + Math.ceil(COUNT / 999),
      },
    ],
    notes: [
      `first sync requests: ${describe(first.counts)}`,
      `unchanged resync requests: ${describe(unchanged.counts)}`,
      `one changed event requests: ${describe(changed.counts)}`,
      `source reading requests: ${describe(source.counts)}`,
    ],
  };
}

/** The agent's Exchange source reading a calendar of {@link COUNT} single appointments. */
async function sourceReading(): Promise<{ ms: number; counts: Record<string, number> }> {
  await using exchange = await startFakeExchange({ users: { [USER]: PASSWORD } });
  const mailbox = exchange.mailbox(USER);
  for (const event of occurrences(COUNT, (i) => `Meeting ${i}`)) {
    mailbox.addAppointment({ subject: event.title, start: event.start, end: event.end });
  }
  const settings = ExchangeSettings.parse({
    exchange_url: exchange.url,
    username: USER,
    password: PASSWORD,
  });
  const started = performance.now();
  const reading = await exchangeSource.read(settings, {
    window: { start: "2026-11-01T00:00:00Z", end: "2027-06-01T00:00:00Z" },
    configDir: ".",
    fetch: () => Promise.reject(new Error("unused")),
  });
  const ms = performance.now() - started;
  if (reading.occurrences.length !== COUNT) {
    throw new Error(`the source read ${reading.occurrences.length} of ${COUNT} occurrences`);
  }
  const counts: Record<string, number> = {};
  for (const r of exchange.requests) counts[r.operation] = (counts[r.operation] ?? 0) + 1;
  return { ms, counts };
}
