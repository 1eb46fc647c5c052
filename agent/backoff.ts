/**
 * Waiting between attempts: exponential backoff with full jitter, abortable sleeps and
 * the `Retry-After` header.
 *
 * @module
 */
import { retryAfterMs } from "../shared/retry_after.ts";

/** Settings of a {@linkcode Backoff}. */
export interface BackoffOptions {
  /** Upper bound of the first delay, in milliseconds. */
  baseMs?: number;
  /** No delay ever exceeds this, in milliseconds. */
  capMs?: number;
  /** A number in `[0, 1)`; injectable so tests can pin the jitter. */
  random?: () => number;
}

/**
 * Exponential backoff with full jitter: attempt `n` waits a uniformly random time in
 * `[0, min(cap, base · 2ⁿ)]`. Full jitter keeps many agents that lost the master at the
 * same moment from coming back in lockstep.
 */
export class Backoff {
  readonly #baseMs: number;
  readonly #capMs: number;
  readonly #random: () => number;
  #attempt = 0;

  /** Creates a backoff; by default 1 s doubling up to 5 minutes. */
  constructor(options: BackoffOptions = {}) {
    this.#baseMs = options.baseMs ?? 1_000;
    this.#capMs = options.capMs ?? 300_000;
    this.#random = options.random ?? Math.random;
  }

  /** The delay before the next attempt, in milliseconds; each call doubles the ceiling. */
  next(): number {
    const ceiling = Math.min(this.#capMs, this.#baseMs * 2 ** this.#attempt);
    if (ceiling < this.#capMs) this.#attempt++;
    return Math.round(this.#random() * ceiling);
  }

  /** Starts over from the base delay, after a success. */
  reset(): void {
    this.#attempt = 0;
  }
}

/** Waits `ms` milliseconds, or less when `signal` aborts first. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** A {@linkcode Sleep} on real timers that clears its timer when aborted. */
export const sleep: Sleep = (ms, signal) => {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
};

/** The longest `Retry-After` honoured, so a misconfigured proxy cannot park the agent. */
const MAX_RETRY_AFTER_MS = 3_600_000;

/**
 * Milliseconds a `Retry-After` header asks to wait, capped at an hour so a confused
 * server cannot park the agent for days; `null` when absent or unreadable.
 */
export function parseRetryAfter(header: string | null, now: Date = new Date()): number | null {
  const ms = retryAfterMs(header, now.getTime());
  return ms === null ? null : Math.min(ms, MAX_RETRY_AFTER_MS);
}
