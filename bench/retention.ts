/**
 * Retention benchmark: a store holding 100,000 occurrences in 10 sources, half of them
 * past the horizon, pruned as the master's hourly task does (batches of 500). It prints
 * how long the whole prune took and its batches: on SQLite one transaction, which holds
 * the store while requests wait; on Redis its HSCAN reads, which do not, and its Lua
 * script, which does.
 *
 * @module
 */
import { memoryLogger } from "../master/log.ts";
import { prepareSnapshot } from "../master/snapshots/prepare.ts";
import { Pruner } from "../master/sync/retention.ts";
import type { Store } from "../master/store/types.ts";
import { toInstant } from "../shared/time.ts";
import { bigSnapshot, type Figure } from "./ingest.ts";

const SOURCES = 10;
const PER_SOURCE = 10_000;
const SHIFT_MS = 730 * 86_400_000;
const GENERATED_AT = "2028-01-01T00:00:00Z";

/** `bigSnapshot`'s events moved two years later, so that they outlive the horizon. */
function laterSnapshot() {
  const snapshot = bigSnapshot(PER_SOURCE, GENERATED_AT);
  const later = (iso: string) => toInstant(new Date(Date.parse(iso) + SHIFT_MS));
  return {
    ...snapshot,
    window: { start: later(snapshot.window.start), end: later(snapshot.window.end) },
    events: snapshot.events.map((e) => ({
      ...e,
      start: later(e.start as string),
      end: later(e.end as string),
      recurrence_id: e.recurrence_id === null ? null : later(e.recurrence_id as string),
    })),
  };
}

/** Fills `store` and prunes it; answers the figures, named after `label`. */
export async function retentionBenchmark(store: Store, label: string): Promise<Figure[]> {
  const sources = Array.from({ length: SOURCES }, (_, i) => ({
    source_id: `s${i}`,
    name: `Source ${i}`,
    type: "ics",
  }));
  await store.registerAgent(
    { agent_id: "bench", agent_name: "Bench", environment: "bench", version: "1", sources },
    "hash-bench",
    GENERATED_AT,
  );
  const old = prepareSnapshot(bigSnapshot(PER_SOURCE, GENERATED_AT));
  const kept = prepareSnapshot(laterSnapshot());
  for (const [i, s] of sources.entries()) {
    await store.applySnapshot("bench", s.source_id, i % 2 === 0 ? old : kept, GENERATED_AT);
  }
  const batches: number[] = [];
  const prune = store.pruneOccurrencesEndedBefore.bind(store);
  store.pruneOccurrencesEndedBefore = async (instant, size) => {
    const started = performance.now();
    const n = await prune(instant, size);
    batches.push(performance.now() - started);
    return n;
  };
  // 400 days after 2027-08-01 lies past the old events' and before the kept ones'.
  const pruner = new Pruner({
    store,
    logger: memoryLogger(),
    retentionDays: 400,
    owner: "bench",
    now: () => new Date("2027-08-01T00:00:00Z"),
  });
  const started = performance.now();
  const removed = await pruner.pruneNow();
  const total = performance.now() - started;
  const left = (await store.totals()).events;
  if (removed !== PER_SOURCE * SOURCES / 2 || left !== PER_SOURCE * SOURCES / 2) {
    throw new Error(`pruned ${removed}, ${left} left; expected half of each`);
  }
  return [
    {
      name: `${label}: prune 50,000 of 100,000 occurrences`,
      value: total / 1000,
      unit: "s",
      target: 30,
    },
    {
      name: `${label}: median batch of 500`,
      value: batches.toSorted((a, b) => a - b)[Math.floor(batches.length / 2)],
      unit: "ms",
      target: 50,
    },
    { name: `${label}: longest batch of 500`, value: Math.max(...batches), unit: "ms" },
    { name: `${label}: batches`, value: batches.length, unit: "" },
  ];
}
