/**
 * Paged reads: 100,000 occurrences in four sources, read through `GET /api/events` a page
 * of 1,000 at a time (in-process through `app.request()`). The figures show that a page
 * costs the same at the start of the listing and deep inside it, and how large one
 * answer is, against the 37 MB a single answer held before paging.
 *
 * @module
 */
import { ADMIN_TOKEN, enrol, testMaster } from "../tests/helpers/master_app.ts";
import { prepareSnapshot } from "../master/snapshots/prepare.ts";
import type { Store } from "../master/store/types.ts";
import { bigSnapshot, type Figure } from "./ingest.ts";

const SOURCES = ["a", "b", "c", "d"];
const PER_SOURCE = 25_000;
const RANGE = "start=2026-01-01T00:00:00Z&end=2026-05-01T00:00:00Z";
const ROUNDS = 5;

/** Median milliseconds of `fn` over `ROUNDS` runs. */
async function median(fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const started = performance.now();
    await fn();
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)];
}

/** Runs the benchmark against `store` (closed afterwards) and returns its figures. */
export async function eventPagesBenchmark(store: Store): Promise<Figure[]> {
  await using master = await testMaster({ store });
  await enrol(master, "bench", SOURCES);
  for (const source of SOURCES) {
    const snapshot = prepareSnapshot(bigSnapshot(PER_SOURCE, "2026-03-01T11:00:00Z"));
    await store.applySnapshot("bench", source, snapshot, "2026-03-01T11:00:00Z");
  }
  const headers = { authorization: `Bearer ${ADMIN_TOKEN}` };
  const get = async (query: string) => {
    const res = await master.app.request(`/api/events?${query}`, { headers });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`benchmark request failed: ${res.status} ${text}`);
    return { bytes: text.length, next: JSON.parse(text).next_cursor as string | null };
  };

  // Walk the whole listing once, keeping the cursor of the middle page.
  const started = performance.now();
  let pages = 0;
  let largest = 0;
  let middle = "";
  for (let cursor: string | null = null; pages === 0 || cursor !== null;) {
    const page: { bytes: number; next: string | null } = await get(
      cursor === null ? RANGE : `${RANGE}&cursor=${cursor}`,
    );
    pages++;
    largest = Math.max(largest, page.bytes);
    if (pages === 50 && page.next) middle = page.next;
    cursor = page.next;
  }
  const walk = performance.now() - started;
  if (pages !== 100) throw new Error(`expected 100 pages, read ${pages}`);

  return [
    { name: "largest page of 1,000 events", value: largest / 1e6, unit: "MB", target: 1 },
    { name: "first page", value: await median(() => get(RANGE)), unit: "ms", target: 100 },
    {
      name: "page 51 of 100 (by cursor)",
      value: await median(() => get(`${RANGE}&cursor=${middle}`)),
      unit: "ms",
      target: 100,
    },
    { name: "all 100 pages, one after another", value: walk, unit: "ms", target: 10_000 },
  ];
}
