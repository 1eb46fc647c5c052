/**
 * Slows down token guessing: after `limit` failed authentications from one address within
 * a window of `windowMs` that starts with its first failure, every request from it that
 * needs authentication is refused with a 429 until the window has passed, before its
 * credentials are even looked at.
 *
 * One interface, two implementations. With SQLite there is one master, which counts in
 * its memory (`AuthFailureLimiter`). With Redis, several masters behind a load balancer
 * would each allow `limit` guesses, so they count in Redis (`SharedAuthFailureLimiter`):
 * one count per address for all of them. `authLimiterFor` picks the one for a store.
 *
 * @module
 */
import { RedisStore } from "../store/redis.ts";
import type { Store } from "../store/types.ts";

/** Counts failed authentications per client address. */
export interface AuthLimiter {
  /** Seconds until `address` may try again, or 0 when it may try now. */
  retryAfter(address: string): Promise<number>;
  /** Records a failed authentication from `address`. */
  fail(address: string): Promise<void>;
}

/** The limit and window every limiter takes. */
export type AuthLimits = {
  /** Failures allowed per address and window; 0 turns the limiter off. */
  limit: number;
  windowMs: number;
};

/** Failures of one address in its current window. */
type Window = { failures: number; resetAt: number };

/** Options of an {@link AuthFailureLimiter}. */
export type AuthFailureLimiterOptions = AuthLimits & {
  now?: () => number;
  /** Addresses tracked at once; the oldest are forgotten beyond it. */
  maxAddresses?: number;
};

/** Seconds left of a window of which `leftMs` remain, when it holds `limit` failures. */
function waitOf(failures: number, leftMs: number, limit: number): number {
  return failures >= limit && leftMs > 0 ? Math.ceil(leftMs / 1000) : 0;
}

/** Counts authentication failures per client address in this process's memory. */
export class AuthFailureLimiter implements AuthLimiter {
  #windows = new Map<string, Window>();
  #o: Required<AuthFailureLimiterOptions>;

  /** Creates the limiter; `maxAddresses` bounds its memory. */
  constructor(options: AuthFailureLimiterOptions) {
    this.#o = { now: Date.now, maxAddresses: 10_000, ...options };
  }

  retryAfter(address: string): Promise<number> {
    const w = this.#windows.get(address);
    if (!w || this.#o.limit === 0) return Promise.resolve(0);
    const left = w.resetAt - this.#o.now();
    if (left <= 0) this.#windows.delete(address);
    return Promise.resolve(waitOf(w.failures, left, this.#o.limit));
  }

  fail(address: string): Promise<void> {
    if (this.#o.limit === 0) return Promise.resolve();
    const now = this.#o.now();
    const w = this.#windows.get(address);
    if (w && w.resetAt > now) {
      w.failures++;
      return Promise.resolve();
    }
    this.#windows.delete(address);
    if (this.#windows.size >= this.#o.maxAddresses) {
      // Maps iterate in insertion order: the first key is the oldest window.
      this.#windows.delete(this.#windows.keys().next().value!);
    }
    this.#windows.set(address, { failures: 1, resetAt: now + this.#o.windowMs });
    return Promise.resolve();
  }
}

/**
 * Where several masters count failures together: an atomic count per address whose
 * window starts with its first failure and which is forgotten when it ends.
 */
export interface FailureCounter {
  /** Adds a failure of `address`; answers the failures so far and the ms left. */
  countAuthFailure(
    address: string,
    windowMs: number,
  ): Promise<{ failures: number; remainingMs: number }>;
  /** The failures of `address` in its current window, or null outside one. */
  authFailures(address: string): Promise<{ failures: number; remainingMs: number } | null>;
}

/** Counts authentication failures per client address in the store all masters share. */
export class SharedAuthFailureLimiter implements AuthLimiter {
  /** Creates the limiter over `counter` (the Redis store). */
  constructor(readonly counter: FailureCounter, readonly limits: AuthLimits) {}

  async retryAfter(address: string): Promise<number> {
    if (this.limits.limit === 0) return 0;
    const current = await this.counter.authFailures(address);
    return current === null ? 0 : waitOf(current.failures, current.remainingMs, this.limits.limit);
  }

  async fail(address: string): Promise<void> {
    if (this.limits.limit === 0) return;
    await this.counter.countAuthFailure(address, this.limits.windowMs);
  }
}

/**
 * The limiter for `store`: shared through Redis, whose masters must agree on one count,
 * else in memory (SQLite has one master). `now` is the memory limiter's clock; Redis
 * keeps time by its own.
 */
export function authLimiterFor(
  store: Store,
  limits: AuthLimits,
  now?: () => number,
): AuthLimiter {
  return store instanceof RedisStore
    ? new SharedAuthFailureLimiter(store, limits)
    : new AuthFailureLimiter({ ...limits, ...(now ? { now } : {}) });
}
