/**
 * Shared pieces of the agent tests: temporary folders, config files, a controllable
 * fake source type, quiet loggers and sleeps that only record.
 *
 * @module
 */
import { join } from "node:path";
import { z } from "zod";
import { Occurrence, type OccurrenceInput } from "../../shared/model.ts";
import type { ReadWarning } from "../../shared/warnings.ts";
import type { Sleep } from "../../agent/backoff.ts";
import { Logger, MemorySink } from "../../agent/log.ts";
import { type SourceRegistry, sourceRegistry, type SourceType } from "../../agent/sources/mod.ts";

/** A temporary folder removed with everything in it at the end of its `await using` scope. */
export interface TempDir extends AsyncDisposable {
  path: string;
}

/** Creates a {@linkcode TempDir}. */
export async function tempDir(): Promise<TempDir> {
  const path = await Deno.makeTempDir({ prefix: "calsync-agent-test-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

/** A valid config object; `overrides` replace top-level keys. */
export function configObject(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    agent_id: "office-pc",
    agent_name: "Office PC",
    environment: "test",
    central_api_url: "http://master.test/api/",
    enrollment_token: "enroll-0123456789",
    sync_interval_minutes: 15,
    calendar_sources: [],
    ...overrides,
  };
}

/** Writes `outlook_config.json` into `dir` and returns its path. */
export async function writeConfig(dir: string, config: Record<string, unknown>): Promise<string> {
  const path = join(dir, "outlook_config.json");
  await Deno.writeTextFile(path, JSON.stringify(config, null, 2));
  return path;
}

/** A validated occurrence with test defaults. */
export function occurrence(
  uid: string,
  start: string,
  end: string,
  extra: Partial<OccurrenceInput> = {},
): Occurrence {
  return Occurrence.parse({ uid, start, end, title: uid, ...extra });
}

/**
 * A source type `"fake"` whose readings the test sets by `key`: a list of occurrences or
 * an error to throw.
 */
export class FakeSources {
  /** What reading each key gives. */
  readonly readings = new Map<string, Occurrence[] | Error>();
  /** The warnings reading each key gives besides its occurrences (default none). */
  readonly warnings = new Map<string, ReadWarning[]>();
  /** How often each key was read. */
  readonly reads = new Map<string, number>();
  /** The source type. */
  readonly type: SourceType<{ key: string }> = {
    type: "fake",
    settings: z.object({ key: z.string() }),
    describe: (s) => `fake ${s.key}`,
    read: (s) => {
      this.reads.set(s.key, (this.reads.get(s.key) ?? 0) + 1);
      const reading = this.readings.get(s.key);
      if (reading instanceof Error) return Promise.reject(reading);
      const warnings = this.warnings.get(s.key) ?? [];
      return Promise.resolve({ occurrences: reading ?? [], warnings });
    },
  };
  /** A registry holding only the fake type. */
  readonly registry: SourceRegistry = sourceRegistry([this.type]);
}

/** A logger that keeps its lines in memory. */
export function memoryLogger(): { log: Logger; lines: string[] } {
  const sink = new MemorySink();
  return { log: new Logger({ level: "debug", sinks: [sink] }), lines: sink.lines };
}

/** A sleep that returns at once and records each requested wait. */
export function recordingSleep(): { sleep: Sleep; waits: number[] } {
  const waits: number[] = [];
  return {
    waits,
    sleep: (ms) => {
      waits.push(ms);
      return Promise.resolve();
    },
  };
}
