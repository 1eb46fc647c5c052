/**
 * What can go wrong talking to a calendar server, in terms a caller can act on: try
 * again later, fix the configuration, or read again before writing. CalDAV, EWS and the
 * destinations built on them all speak this vocabulary.
 *
 * @module
 */

/**
 * - `precondition_failed`: an `If-Match`/`If-None-Match` (or change key) no longer held.
 * - `not_found`: nothing at the address (or no calendar there).
 * - `unauthorized`: wrong credentials, or this user may not do it.
 * - `unreachable`: no answer: connection refused, DNS, TLS or timeout.
 * - `throttled`: the server asked to wait (429, 503, ErrorServerBusy).
 * - `server`: the server failed (other 5xx, or an answer that makes no sense).
 * - `rejected`: the server refused the request itself (other 4xx), or the configuration
 *   is ambiguous.
 */
export type RemoteErrorKind =
  | "precondition_failed"
  | "not_found"
  | "unauthorized"
  | "unreachable"
  | "throttled"
  | "server"
  | "rejected";

/** Whether trying again later may succeed after an error of this kind. */
export function isRetryable(kind: RemoteErrorKind): boolean {
  return kind === "unreachable" || kind === "throttled" || kind === "server";
}
