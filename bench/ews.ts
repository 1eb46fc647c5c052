/**
 * EWS benchmark: 2,000 occurrences synced by a master process into the Exchange-faithful
 * fake, then an unchanged resync, with wall time and SOAP requests by operation.
 *
 * @module
 */
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
  const total = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
  return {
    figures: [
      { name: `first sync of ${COUNT} occurrences`, value: first.ms / 1000, unit: "s" },
      {
        name: "first sync: SOAP requests",
        value: total(first.counts),
        unit: "",
        target: COUNT / 50 + 10,
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
    ],
    notes: [
      `first sync requests: ${describe(first.counts)}`,
      `unchanged resync requests: ${describe(unchanged.counts)}`,
    ],
  };
}
