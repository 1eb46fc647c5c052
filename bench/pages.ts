/**
 * Read-side benchmark: with 10,000 occurrences stored, how long the management page, a
 * month of `/api/events` and a `/metrics` scrape take (median of several, in-process
 * through `app.request()`, so the figures are the master's own work without a network).
 *
 * @module
 */
import { ADMIN_TOKEN, enrol, testMaster } from "../tests/helpers/master_app.ts";
import { bigSnapshot, type Figure } from "./ingest.ts";

const ROUNDS = 7;

async function median(fn: () => Response | Promise<Response>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const started = performance.now();
    const res = await fn();
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`benchmark request failed: ${res.status}`);
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)];
}

/** Runs the benchmark and returns its figures. */
export async function pagesBenchmark(): Promise<Figure[]> {
  await using master = await testMaster({ maxBodyBytes: 64 * 1024 * 1024 });
  const token = await enrol(master, "bench", ["main"]);
  const put = await master.call("PUT", "/api/agents/bench/sources/main/snapshot", {
    token,
    body: bigSnapshot(10_000, "2026-01-01T00:00:00Z"),
  });
  if (put.status !== 200) throw new Error(`snapshot refused: ${await put.text()}`);

  const login = await master.app.request("/login", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: `token=${ADMIN_TOKEN}`,
  });
  const cookie = login.headers.get("set-cookie")!.split(";")[0];
  const page = (query: string) => () => master.app.request(`/?${query}`, { headers: { cookie } });
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

  return [
    {
      name: "dashboard, week view (about 560 events)",
      value: await median(page("view=week&date=2026-02-10&tz=Europe/Berlin")),
      unit: "ms",
      target: 100,
    },
    {
      name: "dashboard, month view (about 2,400 events)",
      value: await median(page("view=month&date=2026-02-10&tz=Europe/Berlin")),
      unit: "ms",
      target: 200,
    },
    {
      name: "GET /api/events for one month, first page of 1,000",
      value: await median(() =>
        master.app.request(
          "/api/events?start=2026-02-01T00:00:00Z&end=2026-03-01T00:00:00Z",
          { headers: admin },
        )
      ),
      unit: "ms",
      target: 500,
    },
    {
      name: "GET /metrics",
      value: await median(() => master.app.request("/metrics", { headers: admin })),
      unit: "ms",
      target: 50,
    },
  ];
}
