/**
 * `deno task bench`: runs every benchmark and prints its figures beside their targets.
 *
 * @module
 */
import { activityBenchmark } from "./activity.ts";
import { radicaleBenchmark, sogoBenchmark } from "./caldav.ts";
import { ewsBenchmark } from "./ews.ts";
import { microsoft365Benchmark } from "./microsoft365.ts";
import { failoverBenchmark } from "./failover.ts";
import { icsExpandBenchmark } from "./ics_expand.ts";
import { type Figure, ingestBenchmark } from "./ingest.ts";
import { loadBenchmark } from "./load.ts";
import { memoryBenchmark } from "./memory.ts";
import { pagesBenchmark } from "./pages.ts";
import { eventPagesBenchmark } from "./event_pages.ts";
import { SqliteStore } from "../master/store/sqlite.ts";
import { RedisStore } from "../master/store/redis.ts";
import { startRedis } from "../tests/helpers/redis.ts";
import { retentionBenchmark } from "./retention.ts";

/** The heading of the memory benchmark on `store`. */
const MEMORY_TITLE = (store: string) =>
  `Memory: one 100,000-occurrence upload, 10 rounds of 10,000, the big source removed (master on ${store})`;

/** The heading of the load benchmark on `store`. */
const LOAD_TITLE = (store: string) =>
  `Load: 500 agents register, send 50 events and a heartbeat, 32 in flight; median of 3 rounds (master on ${store})`;

function print(title: string, figures: Figure[]): void {
  console.log(`\n${title}`);
  for (const f of figures) {
    const value = (f.unit === "" ? String(f.value) : `${f.value.toFixed(2)} ${f.unit}`)
      .padStart(12);
    let target = "";
    if (f.target !== undefined) {
      const met = f.exact
        ? f.value === f.target
        : f.atMost
        ? f.value <= f.target
        : f.value < f.target;
      const bound = f.exact
        ? `= ${f.target}`
        : `${f.atMost ? "≤" : "<"} ${f.unit === "" ? f.target : f.target.toFixed(2)} ${f.unit}`;
      target = `  target ${bound}  ${met ? "ok" : "MISSED"}`;
    }
    console.log(`  ${f.name.padEnd(52)} ${value}${target}`);
  }
}

print("Ingest (master on SQLite, over HTTP)", await ingestBenchmark());
print(LOAD_TITLE("SQLite"), await loadBenchmark());
print(MEMORY_TITLE("SQLite"), await memoryBenchmark());
print("Reading 10,000 stored events (in-process)", await pagesBenchmark());
print("Activity log at its bound, one run a minute (in-process)", await activityBenchmark());
print(
  "Paged reads: 100,000 events in 4 sources, pages of 1,000 (SQLite, in-process)",
  await eventPagesBenchmark(await SqliteStore.open(":memory:")),
);
{
  await using redis = await startRedis();
  print(
    "Paged reads: 100,000 events in 4 sources, pages of 1,000 (Redis, in-process)",
    await eventPagesBenchmark(await RedisStore.open({ url: redis.url })),
  );
}
print(
  "ICS reader: ~50,000 occurrences in a year (parseIcsDetailed, child process)",
  await icsExpandBenchmark(),
);
{
  await using redis = await startRedis();
  print(
    "Ingest (master on Redis, over HTTP)",
    await ingestBenchmark({ REDIS_URL: redis.url }),
  );
  print(LOAD_TITLE("Redis"), await loadBenchmark({ REDIS_URL: redis.url }));
  print(MEMORY_TITLE("Redis"), await memoryBenchmark({ REDIS_URL: redis.url }));
}

{
  const dir = await Deno.makeTempDir();
  await using redis = await startRedis();
  const sqlite = await SqliteStore.open(dir);
  const shared = await RedisStore.open({ url: redis.url });
  try {
    print("Retention (in-process, batches of 500)", [
      ...await retentionBenchmark(sqlite, "SQLite"),
      ...await retentionBenchmark(shared, "Redis"),
    ]);
  } finally {
    await sqlite.close();
    await shared.close();
    await Deno.remove(dir, { recursive: true });
  }
}

for (
  const [title, run] of [
    ["CalDAV destination (master → Radicale, through a counting proxy)", radicaleBenchmark],
    [
      "CalDAV destination (master → SOGo as mailcow runs it, through a counting proxy)",
      sogoBenchmark,
    ],
    ["EWS destination (master → the Exchange 2016 fake)", ewsBenchmark],
    ["Microsoft 365 destination (master → the Graph stand-in)", microsoft365Benchmark],
  ] as const
) {
  const { figures, notes } = await run();
  print(title, figures);
  for (const note of notes) console.log(`  ${note}`);
}

print(
  "Failover (two masters on Redis, the leader killed while writing to Radicale)",
  await failoverBenchmark(),
);
