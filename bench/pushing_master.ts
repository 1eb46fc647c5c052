/**
 * A master process driven as an agent and an admin would: register, push snapshots of
 * generated occurrences, reconcile now. Shared by the destination benchmarks.
 *
 * @module
 */
import { Occurrence } from "../shared/model.ts";
import { toInstant } from "../shared/time.ts";
import { type MasterProcess, startMaster } from "../tests/helpers/master_process.ts";

/**
 * Sends `body` as JSON to `base` + `path` with a bearer `token`, and answers the JSON
 * reply; an unsuccessful status throws with the reply.
 */
export async function callJson(
  base: string,
  method: string,
  path: string,
  token: string,
  body: unknown,
  // deno-lint-ignore no-explicit-any
): Promise<any> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${JSON.stringify(json)}`);
  return json;
}

/** `count` one-hour occurrences from 2026-12-01, titled by `title`. */
export function occurrences(count: number, title: (i: number) => string): Occurrence[] {
  const base = Date.parse("2026-12-01T08:00:00Z");
  return Array.from({ length: count }, (_, i) =>
    Occurrence.parse({
      uid: `bench-${i}@calsync.test`,
      start: toInstant(new Date(base + i * 3_600_000)),
      end: toInstant(new Date(base + i * 3_600_000 + 1_800_000)),
      title: title(i),
      location: "Room 1",
    }));
}

/** A master process with one registered agent source, ready to be pushed to. */
export type PushingMaster = AsyncDisposable & {
  master: MasterProcess;
  /** Sends a snapshot of `events` for the source (each newer than the last). */
  push(events: Occurrence[]): Promise<void>;
  /** `POST /api/admin/reconcile`: the first destination's report, after the wall time. */
  reconcile(): Promise<{ ms: number; report: { failed: number; errors: string[] } }>;
};

/** Starts a master in a temporary folder with `env` and registers agent `bench`. */
export async function startPushingMaster(env: Record<string, string>): Promise<PushingMaster> {
  const work = await Deno.makeTempDir({ prefix: "calsync-bench-" });
  const master = await startMaster(`${work}/data`, { SYNC_INTERVAL_MINUTES: "60", ...env });
  const call = (method: string, path: string, token: string, body: unknown) =>
    callJson(master.url, method, path, token, body);
  const { token } = await call("POST", "/api/agents/register", master.enrollmentToken, {
    agent_id: "bench",
    agent_name: "Bench",
    sources: [{ source_id: "main", name: "Main", type: "ics" }],
  });
  let generation = 0;
  return {
    master,
    async push(events) {
      await call("PUT", "/api/agents/bench/sources/main/snapshot", token, {
        window: { start: "2026-11-01T00:00:00Z", end: "2027-06-01T00:00:00Z" },
        generated_at: toInstant(new Date(Date.parse("2026-11-01T00:00:00Z") + ++generation * 1000)),
        events,
      });
    },
    async reconcile() {
      const started = performance.now();
      const { reports } = await call("POST", "/api/admin/reconcile", master.adminToken, {});
      const ms = performance.now() - started;
      if (reports[0].failed > 0) throw new Error(reports[0].errors[0]);
      return { ms, report: reports[0] };
    },
    async [Symbol.asyncDispose]() {
      await master.stop();
      await Deno.remove(work, { recursive: true });
    },
  };
}
