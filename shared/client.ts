/**
 * `CalendarClient`: reads calsync's consolidated events, its sync status and its agents over
 * HTTP, for web apps (browsers, Next.js server and client components), Deno and Node 20.
 *
 * It needs nothing but `fetch`, and validates every answer with the zod schemas of
 * `protocol.ts`: a master of another version, or a proxy answering in its place, fails
 * here with the offending field named instead of deep inside a page. Every failure is a
 * {@linkcode CalendarClientError}.
 *
 * @example Reading a month of events with a read token
 * ```ts
 * import { CalendarClient } from "./client.ts";
 *
 * const client = new CalendarClient("https://calsync.example.com", { token: "read-token" });
 * const events = await client.getEvents("2026-03-01", "2026-04-01");
 * for (const e of events) console.log(e.start, e.title);
 * ```
 *
 * @module
 */
import { z } from "zod";
import { formatPath } from "./json_path.ts";
import { AgentStatus, ApiError, Identifier, StoredEvent, SyncStatus } from "./protocol.ts";
import { retryAfterMs } from "./retry_after.ts";
import { Instant, PlainDate, toInstant } from "./time.ts";

/**
 * Whatever went wrong in a {@linkcode CalendarClient} call: one `instanceof` check catches
 * every failure the client reports.
 *
 * @example
 * ```ts
 * try {
 *   await client.getEvents(start, end);
 * } catch (err) {
 *   if (!(err instanceof CalendarClientError)) throw err;
 *   console.error(`calendar unavailable: ${err.message}`);
 * }
 * ```
 */
export class CalendarClientError extends Error {
  override name = "CalendarClientError";

  /** `cause` is the error this one wraps, if any. */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    // A web app's toolchain may compile classes down to ES5, where `Error` resets the
    // prototype of its subclasses; restoring it keeps `instanceof` working there.
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/**
 * An argument the client refused before sending anything: a bad date, an end not after
 * its start, a malformed id or base URL, a missing token. `argument` names it.
 *
 * @example
 * ```ts
 * try {
 *   await client.getEvents("2026-04-01", "2026-03-01");
 * } catch (err) {
 *   if (err instanceof CalendarArgumentError) console.log(err.argument); // "end"
 * }
 * ```
 */
export class CalendarArgumentError extends CalendarClientError {
  override name = "CalendarArgumentError";
  /** The refused argument: `start`, `end`, `agentId`, `sourceId`, `baseUrl`, `token`, … */
  readonly argument: string;

  /** `message` says what is wrong with `argument` and what is expected. */
  constructor(argument: string, message: string) {
    super(message);
    this.argument = argument;
  }
}

/**
 * The master (or a proxy in front of it) answered with an error status. `code`, `message`
 * and `field` come from the master's error body `{error: {code, message, field}}`; an
 * answer without one (a proxy's HTML page) has `code` `"http_error"` and `field` null.
 *
 * @example Telling a wrong token from a busy master
 * ```ts
 * try {
 *   await client.getStatus();
 * } catch (err) {
 *   if (err instanceof CalendarHttpError && err.status === 401) console.log("wrong token");
 *   else if (err instanceof CalendarHttpError && err.retryAfter !== null) {
 *     console.log(`busy (${err.code}); try again in ${err.retryAfter} s`);
 *   } else throw err;
 * }
 * ```
 */
export class CalendarHttpError extends CalendarClientError {
  override name = "CalendarHttpError";
  /** The HTTP status, such as 401, 403, 429 or 503. */
  readonly status: number;
  /** The master's error code: `invalid_token`, `forbidden`, `store_unavailable`, … */
  readonly code: string;
  /** The JSON path of the input the master refused (`end`, `agent_id`), or null. */
  readonly field: string | null;
  /**
   * Seconds to wait before trying again, from `Retry-After` (429, 503), or null when not
   * given. A browser reading another origin sees the header only if the master exposes it.
   */
  readonly retryAfter: number | null;
  /** The address that was requested. */
  readonly url: string;

  /** An error answer of `status` from `url`, described as the master's error body is. */
  constructor(
    init: {
      status: number;
      code: string;
      message: string;
      field: string | null;
      retryAfter: number | null;
      url: string;
    },
  ) {
    super(init.message);
    this.status = init.status;
    this.code = init.code;
    this.field = init.field;
    this.retryAfter = init.retryAfter;
    this.url = init.url;
  }
}

/**
 * No answer: the connection failed (master down, DNS, TLS, CORS refused by the browser)
 * or the master did not answer within the client's `timeoutMs`. `cause` holds what
 * `fetch` threw.
 *
 * @example
 * ```ts
 * try {
 *   await client.getEvents(start, end);
 * } catch (err) {
 *   if (err instanceof CalendarNetworkError) console.log(err.timedOut ? "slow" : "down");
 * }
 * ```
 */
export class CalendarNetworkError extends CalendarClientError {
  override name = "CalendarNetworkError";
  /** The address that was requested. */
  readonly url: string;
  /** Whether the client gave up after `timeoutMs` rather than the connection failing. */
  readonly timedOut: boolean;

  /** A failed request to `url`; `cause` is what `fetch` or reading the body threw. */
  constructor(message: string, init: { url: string; timedOut: boolean; cause: unknown }) {
    super(message, { cause: init.cause });
    this.url = init.url;
    this.timedOut = init.timedOut;
  }
}

/**
 * The master answered with success but the document is not what this client expects:
 * not JSON (`field` null), or a field missing or of the wrong shape (`field` is its JSON
 * path, such as `events[0].start`). Usually a master of another version, or a proxy
 * answering in its place.
 *
 * @example
 * ```ts
 * try {
 *   await client.getAgents();
 * } catch (err) {
 *   if (err instanceof CalendarResponseError) console.log(`bad answer at ${err.field}`);
 * }
 * ```
 */
export class CalendarResponseError extends CalendarClientError {
  override name = "CalendarResponseError";
  /** The JSON path of the first offending field, or null when the body is not JSON. */
  readonly field: string | null;
  /** The HTTP status of the answer. */
  readonly status: number;
  /** The address that was requested. */
  readonly url: string;

  /** An unusable successful answer from `url`; `field` locates the problem if known. */
  constructor(message: string, init: { field: string | null; status: number; url: string }) {
    super(message);
    this.field = init.field;
    this.status = init.status;
    this.url = init.url;
  }
}

/**
 * The `fetch` the client calls: the global one by default. Pass your own to add caching
 * options (Next.js `next: { revalidate }`), logging, or a test double.
 *
 * @example
 * ```ts
 * const cached: FetchLike = (url, init) => fetch(url, { ...init, cache: "force-cache" });
 * ```
 */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/**
 * How a {@linkcode CalendarClient} talks to the master.
 *
 * @example
 * ```ts
 * const options: CalendarClientOptions = { token: "read-token", timeoutMs: 10_000 };
 * ```
 */
export type CalendarClientOptions = {
  /** A read token (events only) or the admin token, sent as `Authorization: Bearer`. */
  token: string;
  /** The `fetch` to call; the global `fetch` by default. */
  fetch?: FetchLike;
  /** How long a call may take, body included, before a timeout; 30 000 ms by default. */
  timeoutMs?: number;
};

/**
 * Options of every call.
 *
 * @example Cancelling when a React effect is cleaned up
 * ```ts
 * const controller = new AbortController();
 * client.getAgents({ signal: controller.signal }).then(setAgents, setError);
 * return () => controller.abort();
 * ```
 */
export type RequestOptions = {
  /**
   * Cancels the call; the promise then rejects with the signal's reason (an `AbortError`),
   * as `fetch` does, not with a {@linkcode CalendarClientError}.
   */
  signal?: AbortSignal;
};

/**
 * Which events {@linkcode CalendarClient.getEvents} returns besides the time range.
 *
 * @example
 * ```ts
 * const query: EventQuery = { agentId: "office-pc-1", sourceId: "outlook" };
 * ```
 */
export type EventQuery = RequestOptions & {
  /** Only the events of this agent. */
  agentId?: string;
  /** Only the events of sources with this id. */
  sourceId?: string;
  /**
   * Events per request, 1 to {@linkcode MAX_PAGE_SIZE}; the master's default (1,000) when
   * left out. Larger pages mean fewer requests, smaller ones less memory per answer.
   */
  pageSize?: number;
};

/** The most events the master answers per request, the largest `pageSize`. */
export const MAX_PAGE_SIZE = 10_000;

const DEFAULT_TIMEOUT_MS = 30_000;
// setTimeout fires at once for longer delays.
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

// A master from before paging answers no next_cursor: its one answer holds everything.
const EventsAnswer = z.object({
  events: z.array(StoredEvent),
  next_cursor: z.string().min(1).nullable().optional(),
});
const AgentsAnswer = z.object({ agents: z.array(AgentStatus) });

/**
 * Reads calsync's master over HTTP. `baseUrl` is where the master is served, with or
 * without a trailing slash, including any path prefix a reverse proxy adds. Calls
 * validate their arguments before sending anything and their answers before returning.
 *
 * @example Events with a read token, status and agents with the admin token
 * ```ts
 * const reader = new CalendarClient("https://example.com/calsync/", { token: readToken });
 * const events = await reader.getEvents(new Date("2026-03-01"), new Date("2026-04-01"), {
 *   agentId: "office-pc-1",
 * });
 *
 * const admin = new CalendarClient("https://example.com/calsync", { token: adminToken });
 * const { totals } = await admin.getStatus();
 * const offline = (await admin.getAgents()).filter((a) => !a.online);
 * ```
 */
export class CalendarClient {
  readonly #base: URL;
  readonly #token: string;
  readonly #fetch: FetchLike;
  readonly #timeoutMs: number;

  /**
   * A client of the master at `baseUrl` (an absolute `http:` or `https:` URL without query)
   * using `options.token`. Throws {@linkcode CalendarArgumentError} for a bad URL, a
   * missing token or a bad timeout.
   */
  constructor(baseUrl: string | URL, options: CalendarClientOptions) {
    this.#base = parseBaseUrl(baseUrl);
    const { token, fetch, timeoutMs = DEFAULT_TIMEOUT_MS } = options ?? {};
    if (typeof token !== "string" || token === "") {
      throw new CalendarArgumentError(
        "token",
        "token is missing: pass a read token (POST /api/admin/read-tokens) or the admin token",
      );
    }
    if (!/^[\x21-\x7e]+$/.test(token)) {
      throw new CalendarArgumentError(
        "token",
        "token must be printable ASCII without spaces; check for a stray newline",
      );
    }
    if (fetch !== undefined && typeof fetch !== "function") {
      throw new CalendarArgumentError("fetch", "fetch must be a function like the global fetch");
    }
    if (
      typeof timeoutMs !== "number" || !Number.isFinite(timeoutMs) || timeoutMs <= 0 ||
      timeoutMs > MAX_TIMEOUT_MS
    ) {
      throw new CalendarArgumentError(
        "timeoutMs",
        `timeoutMs must be milliseconds from 1 to ${MAX_TIMEOUT_MS}, got ${String(timeoutMs)}`,
      );
    }
    this.#token = token;
    // Looked up at call time and called unbound from `this`: browsers reject a `fetch`
    // called as a method of another object ("Illegal invocation").
    this.#fetch = fetch ?? ((url, init) => globalThis.fetch(url, init));
    this.#timeoutMs = timeoutMs;
  }

  /**
   * The stored occurrences overlapping `[start, end)`, sorted by start, optionally only
   * those of one agent and/or source. Works with a read token or the admin token.
   *
   * `start` and `end` are `Date`s or ISO 8601 strings: an instant with `Z` or an offset,
   * or a plain date `YYYY-MM-DD`, which counts from UTC midnight as calsync places all-day
   * events. The range is widened to whole seconds, the master's precision.
   *
   * The master answers a page at a time; this asks for every page in turn and answers all
   * of them together. To handle a large range without holding it whole, iterate
   * {@linkcode CalendarClient.events} instead.
   *
   * @example
   * ```ts
   * const today = await client.getEvents("2026-03-02", "2026-03-03");
   * const fromOutlook = await client.getEvents(
   *   new Date(),
   *   new Date(Date.now() + 7 * 86_400_000),
   *   { agentId: "office-pc-1", sourceId: "outlook" },
   * );
   * ```
   */
  async getEvents(
    start: Date | string,
    end: Date | string,
    query: EventQuery = {},
  ): Promise<StoredEvent[]> {
    const events: StoredEvent[] = [];
    for await (const page of this.#pages(this.#eventParams(start, end, query), query?.signal)) {
      for (const event of page) events.push(event);
    }
    return events;
  }

  /**
   * The same events as {@linkcode CalendarClient.getEvents}, in the same order, one at a
   * time: the next page is requested only when the events of the one before have been
   * consumed, so memory holds one page whatever the range. Events added on the master
   * while iterating are neither repeated nor do they hide events: each page continues
   * after the last event of the page before.
   *
   * Arguments are checked at once: a bad one throws {@linkcode CalendarArgumentError}
   * from this call, before any request. Failures of a request reject the iteration's
   * `next()`, as {@linkcode CalendarClientError}s.
   *
   * @example Writing a year of events to a file without holding them all
   * ```ts
   * for await (const e of client.events("2026-01-01", "2027-01-01", { pageSize: 5_000 })) {
   *   await file.write(`${e.start}\t${e.title}\n`);
   * }
   * ```
   *
   * @example Stopping early sends no more requests
   * ```ts
   * for await (const e of client.events(new Date(), "2030-01-01", { agentId: "office-pc-1" })) {
   *   if (e.title === "Board meeting") {
   *     console.log(`next board meeting: ${e.start}`);
   *     break;
   *   }
   * }
   * ```
   */
  events(
    start: Date | string,
    end: Date | string,
    query: EventQuery = {},
  ): AsyncIterableIterator<StoredEvent> {
    const params = this.#eventParams(start, end, query);
    const pages = this.#pages(params, query?.signal);
    return (async function* () {
      for await (const page of pages) yield* page;
    })();
  }

  /** The query of `GET /api/events` for the arguments, or an argument error. */
  #eventParams(start: Date | string, end: Date | string, query: EventQuery): URLSearchParams {
    const from = instantArgument(start, "start");
    const to = instantArgument(end, "end");
    if (to <= from) {
      throw new CalendarArgumentError(
        "end",
        `end (${describeInstant(end)}) must be after start (${describeInstant(start)})`,
      );
    }
    const params = new URLSearchParams({
      start: toInstant(new Date(Math.floor(from / 1000) * 1000)),
      end: toInstant(new Date(Math.ceil(to / 1000) * 1000)),
    });
    const { agentId, sourceId, pageSize } = query ?? {};
    if (agentId !== undefined) params.set("agent_id", identifierArgument(agentId, "agentId"));
    if (sourceId !== undefined) params.set("source_id", identifierArgument(sourceId, "sourceId"));
    if (pageSize !== undefined) params.set("limit", String(pageSizeArgument(pageSize)));
    return params;
  }

  /** Every page of `GET /api/events?params`, each requested when the one before is used. */
  async *#pages(
    params: URLSearchParams,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<StoredEvent[]> {
    let cursor: string | null = null;
    do {
      const paged = new URLSearchParams(params);
      if (cursor !== null) paged.set("cursor", cursor);
      const answer = await this.#get("/api/events", paged, EventsAnswer, signal);
      const next = answer.next_cursor ?? null;
      if (next !== null && next === cursor) {
        // A proxy answering from a cache, or a broken master: following it never ends.
        throw new CalendarResponseError(
          "GET /api/events answered the cursor it was asked for as the next one; " +
            "is a cache in front of the master ignoring the query?",
          { field: "next_cursor", status: 200, url: this.#url("/api/events", paged) },
        );
      }
      yield answer.events;
      cursor = next;
    } while (cursor !== null);
  }

  /**
   * The sync status: every agent with its sources, totals and destinations
   * (`GET /api/sync/status`). Needs the admin token; a read token gets a
   * {@linkcode CalendarHttpError} 403 `forbidden`.
   *
   * @example
   * ```ts
   * const status = await admin.getStatus();
   * console.log(`${status.totals.events} events from ${status.totals.agents} agents`);
   * ```
   */
  async getStatus(options: RequestOptions = {}): Promise<SyncStatus> {
    return await this.#get("/api/sync/status", null, SyncStatus, options?.signal);
  }

  /**
   * Every registered agent with its sources and whether it is online (`GET /api/agents`).
   * Needs the admin token; a read token gets a {@linkcode CalendarHttpError} 403
   * `forbidden`.
   *
   * @example
   * ```ts
   * for (const agent of await admin.getAgents()) {
   *   console.log(agent.agent_id, agent.online ? "online" : `last seen ${agent.last_seen}`);
   * }
   * ```
   */
  async getAgents(options: RequestOptions = {}): Promise<AgentStatus[]> {
    const answer = await this.#get("/api/agents", null, AgentsAnswer, options?.signal);
    return answer.agents;
  }

  /** The address of `path` under the base URL, with `params` as its query. */
  #url(path: string, params: URLSearchParams | null): string {
    const target = new URL(this.#base);
    target.pathname = this.#base.pathname.replace(/\/+$/, "") + path;
    if (params) target.search = params.toString();
    return target.href;
  }

  /** GETs `path` under the base URL and returns its JSON answer validated by `schema`. */
  async #get<S extends z.ZodType>(
    path: string,
    params: URLSearchParams | null,
    schema: S,
    signal: AbortSignal | undefined,
  ): Promise<z.output<S>> {
    const url = this.#url(path, params);
    const { status, headers, text } = await this.#send(url, signal);
    if (status < 200 || status > 299) throw httpError(status, headers, text, url);

    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new CalendarResponseError(
        `GET ${path} answered ${status} with a body that is not JSON: ${snippet(text)}`,
        { field: null, status, url },
      );
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = formatPath(issue.path);
      throw new CalendarResponseError(
        `GET ${path} answered a document this client does not understand: ${
          field || "the body"
        }: ${issue.message}`,
        { field, status, url },
      );
    }
    return parsed.data;
  }

  /** Sends the request and reads the whole body, both within the timeout. */
  async #send(
    url: string,
    signal: AbortSignal | undefined,
  ): Promise<{ status: number; headers: Headers; text: string }> {
    signal?.throwIfAborted();
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.#timeoutMs);
    const forwardAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener("abort", forwardAbort, { once: true });
    try {
      const res = await this.#fetch(url, {
        method: "GET",
        headers: { authorization: `Bearer ${this.#token}`, accept: "application/json" },
        signal: controller.signal,
      });
      return { status: res.status, headers: res.headers, text: await res.text() };
    } catch (cause) {
      if (signal?.aborted) throw signal.reason;
      const message = timedOut
        ? `no answer from ${url} within ${this.#timeoutMs} ms`
        : `could not reach ${url}: ${describeCause(cause)}`;
      throw new CalendarNetworkError(message, { url, timedOut, cause });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", forwardAbort);
    }
  }
}

/** The base URL as a `URL`, or an argument error saying what is wrong with it. */
function parseBaseUrl(baseUrl: string | URL): URL {
  const example = "such as https://calsync.example.com or https://example.com/calsync/";
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new CalendarArgumentError(
      "baseUrl",
      `baseUrl must be an absolute URL ${example}, got ${JSON.stringify(String(baseUrl))}`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new CalendarArgumentError("baseUrl", `baseUrl must be http: or https: (${example})`);
  }
  if (url.search !== "" || url.hash !== "") {
    throw new CalendarArgumentError(
      "baseUrl",
      `baseUrl must not have a query or fragment (${example})`,
    );
  }
  return url;
}

/**
 * A `Date` or ISO 8601 string as epoch milliseconds, or an argument error naming
 * `argument`. Limited to years 0000-9999, the range the master's instants can express.
 */
function instantArgument(value: Date | string, argument: string): number {
  let millis: number;
  if (value instanceof Date) {
    millis = value.getTime();
    if (Number.isNaN(millis)) {
      throw new CalendarArgumentError(argument, `${argument} is an invalid Date`);
    }
  } else if (typeof value === "string") {
    if (PlainDate.safeParse(value).success) millis = Date.parse(`${value}T00:00:00Z`);
    else if (Instant.safeParse(value).success) millis = Date.parse(value);
    else {
      throw new CalendarArgumentError(
        argument,
        `${argument} must be an ISO 8601 instant such as 2026-03-29T08:00:00Z or a date ` +
          `such as 2026-03-29, got ${JSON.stringify(value)}`,
      );
    }
  } else {
    throw new CalendarArgumentError(
      argument,
      `${argument} must be a Date or an ISO 8601 string, got ${describeType(value)}`,
    );
  }
  const year = new Date(millis).getUTCFullYear();
  if (year < 0 || year > 9999) {
    throw new CalendarArgumentError(argument, `${argument} must lie in the years 0000-9999`);
  }
  return millis;
}

/** A page size in 1..MAX_PAGE_SIZE, or an argument error naming `pageSize`. */
function pageSizeArgument(value: unknown): number {
  if (Number.isInteger(value) && (value as number) >= 1 && (value as number) <= MAX_PAGE_SIZE) {
    return value as number;
  }
  throw new CalendarArgumentError(
    "pageSize",
    `pageSize must be a whole number from 1 to ${MAX_PAGE_SIZE}, got ${
      typeof value === "number" ? value : describeType(value)
    }`,
  );
}

/** How a date argument reads in a message. */
function describeInstant(value: Date | string): string {
  return value instanceof Date ? value.toISOString() : value;
}

/** An agent or source id, or an argument error naming `argument`. */
function identifierArgument(value: unknown, argument: string): string {
  const parsed = Identifier.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new CalendarArgumentError(
    argument,
    `${argument}: ${parsed.error.issues[0].message}, got ${describeType(value)}`,
  );
}

/** A value as an error message shows it: strings quoted, others by type. */
function describeType(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === null) return "null";
  return value instanceof Date ? "a Date" : typeof value;
}

/**
 * What a failed fetch says, with its cause when it has one: Node reports "fetch failed"
 * and keeps the reason (ECONNREFUSED, certificate…) one level down.
 */
function describeCause(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  const inner = cause.cause instanceof Error ? ` (${cause.cause.message})` : "";
  return `${cause.message}${inner}`;
}

/** The start of a body for an error message, on one line. */
function snippet(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  if (line === "") return "(empty)";
  return line.length > 120 ? `${JSON.stringify(line.slice(0, 120))}…` : JSON.stringify(line);
}

/** The error for a non-2xx answer, from the master's error body when it sent one. */
function httpError(status: number, headers: Headers, text: string, url: string): CalendarHttpError {
  const waitMs = retryAfterMs(headers.get("retry-after"));
  const retryAfter = waitMs === null ? null : Math.ceil(waitMs / 1000);
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    // Not the master's error body: described from the status below.
  }
  const parsed = ApiError.safeParse(body);
  if (parsed.success) {
    return new CalendarHttpError({ status, ...parsed.data.error, retryAfter, url });
  }
  return new CalendarHttpError({
    status,
    code: "http_error",
    message: `${url} answered ${status} without calsync's error body: ${snippet(text)}`,
    field: null,
    retryAfter,
    url,
  });
}
