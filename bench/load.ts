/**
 * Load benchmark: a real master process receives 500 agents, each registering with the
 * enrolment token, sending a 50-event snapshot (gzip, as the agent sends it) and a
 * heartbeat, with 32 requests in flight. The load comes from this process, so the
 * master's figures are its own; the bodies are built and compressed before the clock
 * starts, so the generator only sends and times. Machines like this one (two cores, shared
 * with the load generator) vary from run to run by a third, so the run is made `rounds`
 * times, each on a fresh master, and the figures are the median round's, beside the
 * worst round's p99.
 *
 * @module
 */
import { startMaster } from "../tests/helpers/master_process.ts";
import { bigSnapshot, type Figure, gzip } from "./ingest.ts";

/** The requests an agent makes, in order. */
const KINDS = ["register", "snapshot", "heartbeat"] as const;
type Kind = typeof KINDS[number];

/** How a load run is shaped. */
export type LoadOptions = {
  agents: number;
  eventsPerSnapshot: number;
  inFlight: number;
  /** The p99 every request kind, and all together, should stay under. */
  p99TargetMs: number;
  /** How many times the run is made, each on a fresh master. */
  rounds: number;
};

const DEFAULTS: LoadOptions = {
  agents: 500,
  eventsPerSnapshot: 50,
  inFlight: 32,
  p99TargetMs: 100,
  rounds: 3,
};

/** The `q` quantile (0..1) of `values`, by the nearest-rank method. */
function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
}

/** Times one request; a failure is counted and its first words kept for the report. */
async function timed(
  kind: Kind,
  request: () => Promise<Response>,
  latencies: Record<Kind, number[]>,
  errors: string[],
): Promise<unknown> {
  const started = performance.now();
  try {
    const res = await request();
    const body = await res.json();
    latencies[kind].push(performance.now() - started);
    if (!res.ok) errors.push(`${kind} ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
    return res.ok ? body : null;
  } catch (err) {
    latencies[kind].push(performance.now() - started);
    errors.push(`${kind} ${err instanceof Error ? err.message : err}`);
    return null;
  }
}

/**
 * Runs the load benchmark `rounds` times against masters started with `env` and returns
 * the median round's figures (by the p99 of all requests) and the worst p99.
 */
export async function loadBenchmark(
  env: Record<string, string> = {},
  options: Partial<LoadOptions> = {},
): Promise<Figure[]> {
  const o = { ...DEFAULTS, ...options };
  const rounds: Figure[][] = [];
  for (let i = 0; i < o.rounds; i++) rounds.push(await loadRound(env, o));
  const allP99 = (figures: Figure[]) => figures.find((f) => f.name === "all requests: p99")!.value;
  rounds.sort((a, b) => allP99(a) - allP99(b));
  const median = rounds[Math.floor(rounds.length / 2)];
  return [
    ...median,
    {
      name: `all requests: p99, worst of ${o.rounds} rounds`,
      value: allP99(rounds[rounds.length - 1]),
      unit: "ms",
    },
  ];
}

/** One round: a fresh master, the agents' requests, their figures. */
async function loadRound(env: Record<string, string>, o: LoadOptions): Promise<Figure[]> {
  const dir = await Deno.makeTempDir({ prefix: "calsync-load-" });
  const master = await startMaster(dir, env);
  try {
    const snapshot = await gzip(
      JSON.stringify(bigSnapshot(o.eventsPerSnapshot, "2026-01-01T00:00:00Z")),
    );
    const heartbeat = JSON.stringify({
      version: "bench",
      sync_interval_minutes: 15,
      sources: [{ source_id: "calendar", last_error: null }],
    });
    const latencies = { register: [], snapshot: [], heartbeat: [] } as Record<Kind, number[]>;
    const errors: string[] = [];
    // Ids of their own, so that runs against one Redis do not meet each other's agents.
    const run = crypto.randomUUID().slice(0, 8);
    const agent = async (n: number) => {
      const id = `load-${run}-${n}`;
      const registered = await timed(
        "register",
        () =>
          fetch(`${master.url}/api/agents/register`, {
            method: "POST",
            headers: { authorization: `Bearer ${master.enrollmentToken}` },
            body: JSON.stringify({
              agent_id: id,
              agent_name: `Load agent ${n}`,
              sources: [{ source_id: "calendar", name: "Calendar", type: "ics" }],
            }),
          }),
        latencies,
        errors,
      ) as { token: string } | null;
      if (registered === null) return;
      const auth = { authorization: `Bearer ${registered.token}` };
      await timed(
        "snapshot",
        () =>
          fetch(`${master.url}/api/agents/${id}/sources/calendar/snapshot`, {
            method: "PUT",
            headers: { ...auth, "content-encoding": "gzip" },
            body: snapshot,
          }),
        latencies,
        errors,
      );
      await timed(
        "heartbeat",
        () =>
          fetch(`${master.url}/api/agents/${id}/heartbeat`, {
            method: "POST",
            headers: auth,
            body: heartbeat,
          }),
        latencies,
        errors,
      );
    };
    // Each worker plays one agent after another: one request of its own in flight at a time.
    let next = 0;
    const started = performance.now();
    await Promise.all(Array.from({ length: o.inFlight }, async () => {
      while (next < o.agents) await agent(next++);
    }));
    const seconds = (performance.now() - started) / 1000;
    for (const e of errors.slice(0, 5)) console.error(`  load: ${e}`);
    const all = KINDS.flatMap((k) => latencies[k]);
    const groups: [string, number[]][] = [
      ...KINDS.map((k): [string, number[]] => [k, latencies[k]]),
      ["all", all],
    ];
    const figures: Figure[] = groups.flatMap(([name, values]): Figure[] => [
      { name: `${name} requests: p50`, value: quantile(values, 0.5), unit: "ms" },
      {
        name: `${name} requests: p99`,
        value: quantile(values, 0.99),
        unit: "ms",
        target: o.p99TargetMs,
      },
    ]);
    figures.push(
      { name: "requests per second", value: all.length / seconds, unit: "/s" },
      { name: "errors", value: errors.length, unit: "", target: 0, exact: true },
    );
    return figures;
  } finally {
    await master.stop();
    await Deno.remove(dir, { recursive: true });
  }
}
