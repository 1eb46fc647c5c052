/**
 * The activity log at its bound: one destination's log filled to `max_entries`, then how
 * long recording one more entry takes (each one prunes the oldest), and how long the
 * dashboard's read of a day's worth takes.
 *
 * @module
 */
import { ACTIVITY_RETENTION, type ActivityEntry } from "../master/store/activity.ts";
import { RedisStore } from "../master/store/redis.ts";
import { SqliteStore } from "../master/store/sqlite.ts";
import type { Store } from "../master/store/types.ts";
import { startRedis } from "../tests/helpers/redis.ts";
import type { Figure } from "./ingest.ts";

/** Runs that are timed once the log is full. */
const TIMED = 500;

/** An entry of `wall`, `minute` minutes after the start of 2026. */
function entry(minute: number): ActivityEntry {
  return {
    id: crypto.randomUUID(),
    destination_id: "wall",
    master_id: "bench",
    started_at: new Date(Date.UTC(2026, 0, 1) + minute * 60_000).toISOString(),
    took_ms: 140,
    trigger: "timer",
    outcome: "completed",
    created: 0,
    updated: 1,
    deleted: 0,
    failed: 0,
    pending: 0,
    error: null,
  };
}

/** The figures of a SQLite file and of Redis, each filled afresh. */
export async function activityBenchmark(): Promise<Figure[]> {
  const dir = await Deno.makeTempDir({ prefix: "calsync-bench-activity-" });
  const figures: Figure[] = [];
  try {
    const sqlite = await SqliteStore.open(dir);
    figures.push(...await measure(sqlite, "SQLite"));
    await sqlite.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  await using redis = await startRedis();
  const store = await RedisStore.open({ url: redis.url });
  try {
    figures.push(...await measure(store, "Redis"));
  } finally {
    await store.close();
  }
  return figures;
}

/** Fills `store`'s log and times it; `label` names the store in the figures. */
async function measure(store: Store, label: string): Promise<Figure[]> {
  const full = ACTIVITY_RETENTION.max_entries;
  // One run a minute: a full log spans 3.5 days, inside the age limit, so the count prunes.
  for (let i = 0; i < full; i++) await store.recordActivity(entry(i), ACTIVITY_RETENTION);
  const started = performance.now();
  for (let i = full; i < full + TIMED; i++) {
    await store.recordActivity(entry(i), ACTIVITY_RETENTION);
  }
  const record = (performance.now() - started) / TIMED;
  const since = entry(full + TIMED - 24 * 60).started_at;
  const reads: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    await store.listActivity({ destination_id: "wall", since, limit: 1000 });
    reads.push(performance.now() - t);
  }
  const kept = (await store.listActivity({ destination_id: "wall", limit: full + 1 })).length;
  return [
    {
      name: `${label}: record one entry, log full (${full})`,
      value: record,
      unit: "ms",
      target: 2,
    },
    {
      name: `${label}: read the newest 1,000 of a day`,
      value: reads.sort((a, b) => a - b)[10],
      unit: "ms",
      target: 50,
    },
    { name: `${label}: entries kept`, value: kept, unit: "", target: full, exact: true },
  ];
}
