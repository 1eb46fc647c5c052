import assert from "node:assert/strict";
import { Backoff, type Sleep } from "../../agent/backoff.ts";
import { runLoop } from "../../agent/run_loop.ts";
import type { PassReport } from "../../agent/sync_pass.ts";
import { memoryLogger } from "./helpers.ts";

function report(masterUnreachable: boolean): PassReport {
  return {
    window: { start: "2026-03-01T00:00:00Z", end: "2026-04-01T00:00:00Z" },
    sources: [],
    masterError: masterUnreachable ? "master not reachable" : null,
    masterUnreachable,
  };
}

/** A sleep that records waits and stops the loop after `limit` of them. */
function stoppingSleep(stop: AbortController, limit: number): { sleep: Sleep; waits: number[] } {
  const waits: number[] = [];
  const sleep: Sleep = (ms) => {
    waits.push(ms);
    if (waits.length >= limit) stop.abort();
    return Promise.resolve();
  };
  return { sleep, waits };
}

Deno.test("run loop: waits the interval while the master answers", async () => {
  const stop = new AbortController();
  const { sleep, waits } = stoppingSleep(stop, 3);
  let passes = 0;
  await runLoop({
    pass: () => Promise.resolve(report(++passes < 0)),
    intervalMs: 900_000,
    stop: stop.signal,
    sleep,
    log: memoryLogger().log,
  });
  assert.equal(passes, 3);
  assert.deepEqual(waits, [900_000, 900_000, 900_000]);
});

Deno.test("run loop: backs off while the master is unreachable, never beyond the interval", async () => {
  const stop = new AbortController();
  const { sleep, waits } = stoppingSleep(stop, 6);
  const outcomes = [true, true, true, true, false, true];
  await runLoop({
    pass: () => Promise.resolve(report(outcomes.shift()!)),
    intervalMs: 5_000,
    stop: stop.signal,
    backoff: new Backoff({ random: () => 1 }),
    sleep,
    log: memoryLogger().log,
  });
  assert.deepEqual(waits, [1_000, 2_000, 4_000, 5_000, 5_000, 1_000]);
});

Deno.test("run loop: a stop during a pass lets it finish, then returns without waiting", async () => {
  const stop = new AbortController();
  const { sleep, waits } = stoppingSleep(stop, 99);
  let finished = 0;
  await runLoop({
    pass: async () => {
      stop.abort();
      await Promise.resolve();
      finished++;
      return report(false);
    },
    intervalMs: 1_000,
    stop: stop.signal,
    sleep,
    log: memoryLogger().log,
  });
  assert.equal(finished, 1);
  assert.deepEqual(waits, []);
});

Deno.test("run loop: an unexpected error in a pass is logged and the loop goes on", async () => {
  const stop = new AbortController();
  const { sleep } = stoppingSleep(stop, 2);
  const { log, lines } = memoryLogger();
  let passes = 0;
  await runLoop({
    pass:
      () => (++passes === 1 ? Promise.reject(new Error("boom")) : Promise.resolve(report(false))),
    intervalMs: 1_000,
    stop: stop.signal,
    sleep,
    log,
  });
  assert.equal(passes, 2);
  assert.ok(lines.some((l) => l.includes("ERROR the pass failed unexpectedly: Error: boom")));
});
