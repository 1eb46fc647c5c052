/**
 * Ingest benchmark: a real master process on SQLite receives a 10,000-occurrence
 * snapshot over HTTP (gzip, as the agent sends it), then the same snapshot again.
 *
 * @module
 */
import { startMaster } from "../tests/helpers/master_process.ts";
import type { SnapshotInput } from "../shared/protocol.ts";
import { toInstant } from "../shared/time.ts";
import { Occurrence } from "../shared/model.ts";

/** One measured figure with its target: an upper bound, or an exact count. */
export type Figure = {
  name: string;
  value: number;
  unit: string;
  target?: number;
  exact?: boolean;
  /** The target is met at `target` too (≤ rather than <). */
  atMost?: boolean;
};

/**
 * A realistic snapshot of `count` occurrences across a 120-day window, its events in the
 * schema's output form as the agent sends them.
 */
export function bigSnapshot(count: number, generatedAt: string): SnapshotInput {
  const windowStart = Date.parse("2026-01-01T00:00:00Z");
  const events = Array.from({ length: count }, (_, i): Occurrence => {
    const start = windowStart + (i % 2880) * 3_600_000 + Math.floor(i / 2880) * 60_000;
    return Occurrence.parse({
      uid: `bench-${Math.floor(i / 10)}@calsync.test`,
      recurrence_id: toInstant(new Date(start)),
      start: toInstant(new Date(start)),
      end: toInstant(new Date(start + 45 * 60_000)),
      timezone: "Europe/Berlin",
      title: `Weekly sync ${i}`,
      location: "Room 4.01, Building B",
      description: "Agenda: status, risks, next steps. ".repeat(6),
      categories: ["Work"],
      organizer: { name: "Ann Example", email: "ann@example.com" },
      attendees: [
        { name: "Bob", email: "bob@example.com", status: "accepted" as const },
        { name: "Chloé", email: "chloe@example.com", status: "tentative" as const },
      ],
      last_modified: "2025-12-01T08:00:00Z",
    });
  });
  return {
    window: { start: "2026-01-01T00:00:00Z", end: "2026-05-01T00:00:00Z" },
    generated_at: generatedAt,
    events,
  };
}

/** `text` gzipped, as the agent compresses a snapshot body. */
export async function gzip(text: string): Promise<ArrayBuffer> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return await new Response(stream).arrayBuffer();
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Runs the ingest benchmark against a master started with `env` and returns its figures. */
export async function ingestBenchmark(
  env: Record<string, string> = {},
  count = 10_000,
  rounds = 3,
): Promise<Figure[]> {
  const dir = await Deno.makeTempDir({ prefix: "calsync-bench-" });
  const master = await startMaster(dir, env);
  try {
    const sources = Array.from({ length: rounds }, (_, i) => `src${i}`);
    const reg = await fetch(`${master.url}/api/agents/register`, {
      method: "POST",
      headers: { authorization: `Bearer ${master.enrollmentToken}` },
      body: JSON.stringify({
        agent_id: "bench",
        agent_name: "Bench",
        sources: sources.map((s) => ({ source_id: s, name: s, type: "ics" })),
      }),
    });
    const { token } = await reg.json();
    const body = await gzip(JSON.stringify(bigSnapshot(count, "2026-01-01T00:00:00Z")));
    const put = async (source: string) => {
      const t0 = performance.now();
      const res = await fetch(`${master.url}/api/agents/bench/sources/${source}/snapshot`, {
        method: "PUT",
        headers: { authorization: `Bearer ${token}`, "content-encoding": "gzip" },
        body,
      });
      const result = await res.json();
      if (!res.ok) throw new Error(JSON.stringify(result));
      return { ms: performance.now() - t0, result };
    };
    const first: number[] = [];
    for (const source of sources) {
      const { ms, result } = await put(source);
      if (result.added !== count) throw new Error(`expected ${count} added`);
      first.push(ms);
    }
    const resend: number[] = [];
    for (let i = 0; i < rounds * 2; i++) {
      const { ms, result } = await put(sources[0]);
      if (result.unchanged !== count) {
        throw new Error(`expected ${count} unchanged: ${JSON.stringify(result)}`);
      }
      resend.push(ms);
    }
    return [
      {
        name: `first ingest of ${count} occurrences (median of ${rounds})`,
        value: median(first),
        unit: "ms",
        target: 1000,
      },
      {
        name: `unchanged resend (median of ${rounds * 2})`,
        value: median(resend),
        unit: "ms",
        target: 150,
      },
      { name: "gzip body size", value: body.byteLength / 1024, unit: "KiB" },
      {
        name: "master RSS after ingest",
        value: (await master.rssBytes()) / 1024 / 1024,
        unit: "MiB",
      },
    ];
  } finally {
    await master.stop();
    await Deno.remove(dir, { recursive: true });
  }
}
