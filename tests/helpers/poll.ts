/**
 * Waiting for a condition in tests that measure how long it took: the deadline is an upper
 * bound only, never what decides a figure.
 *
 * @module
 */

/**
 * Polls `check` every 50 ms until it holds and answers how many milliseconds that took;
 * fails naming `what` after `deadlineMs`.
 */
export async function until(
  what: string,
  deadlineMs: number,
  check: () => boolean | Promise<boolean>,
): Promise<number> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > deadlineMs) {
      throw new Error(`${what}: not within ${deadlineMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return performance.now() - started;
}
