/**
 * Why a CalDAV exchange failed, in terms callers can act on: try again later, fix the
 * configuration, or reread before writing.
 *
 * @module
 */

/**
 * What went wrong:
 * - `precondition_failed`: an `If-Match`/`If-None-Match` condition did not hold.
 * - `not_found`: nothing at the URL (or no calendar collection there).
 * - `unauthorized`: wrong credentials, or this user may not do it.
 * - `unreachable`: no answer: connection refused, DNS, TLS or timeout.
 * - `throttled`: the server asked to wait (429, 503); see `retryAfterMs`.
 * - `server`: the server failed (other 5xx, or an answer that makes no sense).
 * - `rejected`: the server refused the request itself (other 4xx), or the configuration
 *   is ambiguous.
 */
export type CalDavErrorKind =
  | "precondition_failed"
  | "not_found"
  | "unauthorized"
  | "unreachable"
  | "throttled"
  | "server"
  | "rejected";

/** A failed CalDAV operation. Messages name URLs, never credentials. */
export class CalDavError extends Error {
  /**
   * @param kind what went wrong
   * @param message a readable sentence naming the URL
   * @param status the HTTP status, when there was an answer
   * @param retryAfterMs how long the server asked to wait, from `Retry-After`
   */
  constructor(
    readonly kind: CalDavErrorKind,
    message: string,
    readonly status: number | null = null,
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
    this.name = "CalDavError";
  }
}

/**
 * `Retry-After` in milliseconds: the header holds seconds or an HTTP date (RFC 9110
 * §10.2.3). A date in the past means no wait; an unreadable value means none given.
 */
export function retryAfterMs(header: string | null, now = Date.now()): number | null {
  if (header === null) return null;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}
