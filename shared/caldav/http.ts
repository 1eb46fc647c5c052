/**
 * The HTTP layer under the CalDAV client: Basic auth, one time limit per exchange, bodies
 * read in full, and failures turned into {@link CalDavError}s with readable messages.
 *
 * @module
 */
import { basicAuthorization } from "../basic_auth.ts";
import { sendRepeatingOnClosedConnection } from "../closed_connection.ts";
import { retryAfterMs } from "../retry_after.ts";
import { CalDavError } from "./errors.ts";

/** The `fetch` the client calls; injectable so tests can answer in-process. */
export type FetchLike = (request: Request) => Promise<Response>;

/** Options for {@link DavHttp}. */
export interface DavHttpOptions {
  username: string;
  password: string;
  /** Default: the runtime's `fetch`. */
  fetch?: FetchLike;
  /** Limit for each exchange, body included; default 30 s. */
  timeoutMs?: number;
  /** The configured URL, named in "wrong username or password" messages. */
  displayUrl: string;
}

/** Default time limit of one exchange. */
export const DEFAULT_TIMEOUT_MS = 30_000;

/** Statuses after which a response must not carry a body. */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/**
 * The useful part of a network error. Deno wraps the cause in "error sending request for
 * url (…): client error (Connect): …"; the URL is named elsewhere already.
 */
function networkReason(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  const message = cause instanceof Error ? cause.message : (error as Error)?.message ?? "";
  const reason = message
    .replace(/^error sending request for url \([^)]*\):\s*/, "")
    .replace(/^client error \([^)]*\):\s*/, "")
    .trim();
  return reason === "" ? String(error) : reason;
}

/** Sends CalDAV requests for one account. */
export class DavHttp {
  readonly #fetch: FetchLike;
  readonly #authorization: string | null;
  readonly #timeoutMs: number;
  readonly #displayUrl: string;
  readonly #username: string;

  /** Prepares requests as `options.username`; nothing is sent yet. */
  constructor(options: DavHttpOptions) {
    this.#fetch = options.fetch ?? ((request) => fetch(request));
    this.#authorization = options.username === "" && options.password === ""
      ? null
      : basicAuthorization(options.username, options.password);
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#displayUrl = options.displayUrl;
    this.#username = options.username;
  }

  /** The login the requests carry; "" for none. */
  get username(): string {
    return this.#username;
  }

  /**
   * Sends `request` with credentials and reads the whole answer within the time limit, an
   * idempotent request once more when its connection closed before an answer. Any status
   * is returned; only a missing answer throws (`unreachable`).
   */
  async send(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const headers = new Headers(request.headers);
    if (this.#authorization) headers.set("authorization", this.#authorization);
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), this.#timeoutMs);
    try {
      const response = await sendRepeatingOnClosedConnection(
        this.#fetch,
        new Request(request, { headers, signal: timeout.signal }),
      );
      // Read in full here, so the time limit covers the body and no stream is left open.
      const body = await response.arrayBuffer();
      return new Response(NULL_BODY.has(response.status) ? null : body, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
    } catch (error) {
      const reason = timeout.signal.aborted
        ? `no answer within ${this.#timeoutMs / 1000} s`
        : networkReason(error);
      throw new CalDavError("unreachable", `cannot reach ${url.host}: ${reason}`);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The error for an unsuccessful answer to `method url`. */
  statusError(method: string, url: string, response: Response): CalDavError {
    const { status } = response;
    const what = `${method} ${url}`;
    const http = `HTTP ${status} ${response.statusText}`.trim();
    if (status === 401) {
      const who = this.#username === "" ? "no user name" : `the login "${this.#username}"`;
      return new CalDavError(
        "unauthorized",
        `${new URL(url).host} refused the password for ${who} (${http}) at ${this.#displayUrl}`,
        status,
      );
    }
    if (status === 403) {
      return new CalDavError(
        "unauthorized",
        `${what}: this user may not do that (${http})`,
        status,
      );
    }
    if (status === 404) {
      return new CalDavError("not_found", `${what}: nothing there (${http})`, status);
    }
    if (status === 412) {
      return new CalDavError(
        "precondition_failed",
        `${what}: precondition failed (${http})`,
        status,
      );
    }
    if (status === 429 || status === 503) {
      const wait = retryAfterMs(response.headers.get("retry-after"));
      const after = wait === null ? "" : `; retry after ${Math.ceil(wait / 1000)} s`;
      return new CalDavError(
        "throttled",
        `${new URL(url).host} asks to wait (${http})${after}`,
        status,
        wait,
      );
    }
    if (status >= 500) return new CalDavError("server", `${what}: server error (${http})`, status);
    return new CalDavError("rejected", `${what}: refused (${http})`, status);
  }

  /**
   * A `fetch` for tsdav: credentials and time limit as {@link send}, and any answer of
   * 400 or more thrown as a {@link CalDavError} (tsdav would otherwise drop the status
   * and `Retry-After`).
   */
  readonly fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const response = await this.send(request);
    if (response.status >= 400) throw this.statusError(request.method, request.url, response);
    return response;
  };
}
