/**
 * Why a CalDAV exchange failed, in terms callers can act on: try again later, fix the
 * configuration, or reread before writing.
 *
 * @module
 */
import type { RemoteErrorKind } from "../remote_error.ts";

/** What went wrong with a CalDAV exchange. */
export type CalDavErrorKind = RemoteErrorKind;

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
