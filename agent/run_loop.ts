/**
 * The continuous mode: a pass every `sync_interval_minutes`, sooner retries with backoff
 * while the master is unreachable, and a clean stop between passes.
 *
 * @module
 */
import { Backoff, type Sleep, sleep as realSleep } from "./backoff.ts";
import type { Logger } from "./log.ts";
import type { PassReport } from "./sync_pass.ts";

/** What the loop works with. */
export interface RunLoopOptions {
  /** Runs one pass. */
  pass: () => Promise<PassReport>;
  /** Pause between passes while all is well. */
  intervalMs: number;
  /** Aborted to stop: the pass under way finishes, then the loop returns. */
  stop: AbortSignal;
  /** Paces retries while the master is unreachable; default 1 s doubling to 5 min. */
  backoff?: Backoff;
  /** Waits between passes; injectable for tests. */
  sleep?: Sleep;
  /** Receives progress and problems. */
  log: Logger;
}

/**
 * Runs passes until `stop` aborts. While the master is unreachable the next pass comes
 * after a growing, jittered delay, never later than the normal interval, so the agent
 * resumes soon after the master returns without a crowd of agents hitting it at once.
 */
export async function runLoop(options: RunLoopOptions): Promise<void> {
  const backoff = options.backoff ?? new Backoff();
  const wait = options.sleep ?? realSleep;
  const { log, stop } = options;
  while (!stop.aborted) {
    let unreachable = false;
    try {
      unreachable = (await options.pass()).masterUnreachable;
    } catch (error) {
      // A bug in one pass must not end an unattended agent; the next pass may succeed.
      log.error(`the pass failed unexpectedly: ${(error as Error).stack ?? error}`);
    }
    if (stop.aborted) break;
    let delay = options.intervalMs;
    if (unreachable) delay = Math.min(backoff.next(), options.intervalMs);
    else backoff.reset();
    log.debug(`next pass in ${(delay / 1000).toFixed(1)} s`);
    await wait(delay, stop);
  }
}
