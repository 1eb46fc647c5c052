/**
 * Slows down token guessing: after `limit` failed authentications from one address within
 * `windowMs`, every request from it that needs authentication is refused with a 429 until
 * the window has passed, before its credentials are even looked at. Kept in memory per
 * master: behind a load balancer each master counts on its own, which at worst multiplies
 * the limit by the number of masters.
 *
 * @module
 */

/** Failures of one address in its current window. */
type Window = { failures: number; resetAt: number };

/** Options of an {@link AuthFailureLimiter}. */
export type AuthFailureLimiterOptions = {
  /** Failures allowed per address and window; 0 turns the limiter off. */
  limit: number;
  windowMs: number;
  now?: () => number;
  /** Addresses tracked at once; the oldest are forgotten beyond it. */
  maxAddresses?: number;
};

/** Counts authentication failures per client address. */
export class AuthFailureLimiter {
  #windows = new Map<string, Window>();
  #o: Required<AuthFailureLimiterOptions>;

  constructor(options: AuthFailureLimiterOptions) {
    this.#o = { now: Date.now, maxAddresses: 10_000, ...options };
  }

  /** Seconds until `address` may try again, or 0 when it may try now. */
  retryAfter(address: string): number {
    const w = this.#windows.get(address);
    if (!w || this.#o.limit === 0) return 0;
    const left = w.resetAt - this.#o.now();
    if (left <= 0) {
      this.#windows.delete(address);
      return 0;
    }
    return w.failures >= this.#o.limit ? Math.ceil(left / 1000) : 0;
  }

  /** Records a failed authentication from `address`. */
  fail(address: string): void {
    if (this.#o.limit === 0) return;
    const now = this.#o.now();
    const w = this.#windows.get(address);
    if (w && w.resetAt > now) {
      w.failures++;
      return;
    }
    this.#windows.delete(address);
    if (this.#windows.size >= this.#o.maxAddresses) {
      // Maps iterate in insertion order: the first key is the oldest window.
      this.#windows.delete(this.#windows.keys().next().value!);
    }
    this.#windows.set(address, { failures: 1, resetAt: now + this.#o.windowMs });
  }
}
