/**
 * The HTTP client of the master's agent API: one method per endpoint, JSON in and out,
 * gzip-compressed snapshots, and retries with backoff (or `Retry-After`) while the
 * master is unreachable or overloaded. Which token to use is the caller's business.
 *
 * @module
 */
import { z } from "zod";
import {
  ApiError,
  Health,
  type Heartbeat,
  type Registration,
  RegistrationResult,
  type Snapshot,
  SnapshotResult,
} from "../shared/protocol.ts";
import { Backoff, parseRetryAfter, type Sleep, sleep as realSleep } from "./backoff.ts";
import { defaultFetch, displayUrl, exchange, type FetchLike } from "./http.ts";
import { Logger } from "./log.ts";

/** The master answered with an error that retrying will not fix. */
export class MasterError extends Error {
  /** Creates the error from an answer's status and its `ApiError` fields. */
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly field: string | null,
    request: string,
  ) {
    super(`${request}: HTTP ${status} ${code}: ${detail}${field ? ` (field ${field})` : ""}`);
    this.name = "MasterError";
  }
}

/** The master could not be reached, or stayed overloaded, through every attempt. */
export class MasterUnreachableError extends Error {
  /** Creates the error with what went wrong last. */
  constructor(message: string) {
    super(message);
    this.name = "MasterUnreachableError";
  }
}

/** The `/health` document. */
export type HealthReport = z.output<typeof Health>;

/** Settings of a {@linkcode MasterClient}. */
export interface MasterClientOptions {
  /** The config's `central_api_url`; a trailing `/api` is allowed. */
  centralApiUrl: string;
  /** Sends requests; default the runtime's `fetch`. */
  fetch?: FetchLike;
  /** Tries per request before giving up; default 4. */
  attempts?: number;
  /** Makes the backoff of one request; default 1 s doubling, capped at 5 minutes. */
  backoff?: () => Backoff;
  /** Waits between attempts; injectable so tests need not wait. */
  sleep?: Sleep;
  /**
   * Stops retrying when the agent is stopping. A request in flight still completes: a
   * stop finishes the current pass rather than cutting it off.
   */
  stop?: AbortSignal;
  /** Limit of one request including its answer; default 120 s (snapshots can be big). */
  timeoutMs?: number;
  /** Receives a warning for each retry. */
  log?: Logger;
  /** The agent's clock, compared with the master's `Date` header; default the system clock. */
  now?: () => Date;
}

/**
 * How far the agent's clock may differ from the master's before the agent warns. Below
 * the 5 minutes at which the master refuses a snapshot, so the log says why before the
 * master refuses; above the second that a `Date` header rounds away plus a slow answer.
 */
export const CLOCK_SKEW_WARN_MS = 2 * 60_000;

/**
 * The master's base URL from `central_api_url`: trailing "/" and "/api" removed, so
 * both `https://host:8008` and the seed's `https://host:8008/api/` work.
 */
export function masterBaseUrl(centralApiUrl: string): string {
  return centralApiUrl.replace(/\/+$/, "").replace(/\/api$/, "");
}

async function gzip(text: string): Promise<ArrayBuffer> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return await new Response(stream).arrayBuffer();
}

interface Call<T> {
  token?: string;
  body?: unknown;
  gzip?: boolean;
  answer: z.ZodType<T>;
}

/** Talks to one master. */
export class MasterClient {
  /** The master's base URL, without `/api`. */
  readonly baseUrl: string;
  readonly #fetch: FetchLike;
  readonly #attempts: number;
  readonly #backoff: () => Backoff;
  readonly #sleep: Sleep;
  readonly #stop?: AbortSignal;
  readonly #timeoutMs: number;
  readonly #log: Logger;
  readonly #now: () => Date;
  /** Whether the last answer's clock skew was warned about, so one skew warns once. */
  #skewWarned = false;

  /** Creates a client; it sends nothing until called. */
  constructor(options: MasterClientOptions) {
    this.baseUrl = masterBaseUrl(options.centralApiUrl);
    this.#fetch = options.fetch ?? defaultFetch;
    this.#attempts = Math.max(1, options.attempts ?? 4);
    this.#backoff = options.backoff ?? (() => new Backoff());
    this.#sleep = options.sleep ?? realSleep;
    this.#stop = options.stop;
    this.#timeoutMs = options.timeoutMs ?? 120_000;
    this.#log = options.log ?? new Logger();
    this.#now = options.now ?? (() => new Date());
  }

  /**
   * Compares the master's `Date` header with the agent's clock: a warning when they drift
   * apart beyond `CLOCK_SKEW_WARN_MS`, once until they agree again. A missing or
   * unreadable header (a proxy stripped it) says nothing about the clocks.
   */
  #checkClock(date: string | null): void {
    const master = date === null ? NaN : Date.parse(date);
    if (Number.isNaN(master)) return;
    const skewMs = this.#now().getTime() - master;
    if (Math.abs(skewMs) <= CLOCK_SKEW_WARN_MS) {
      if (this.#skewWarned) this.#log.info("this PC's clock agrees with the master's again");
      this.#skewWarned = false;
      return;
    }
    if (this.#skewWarned) return;
    this.#skewWarned = true;
    const minutes = Math.round(Math.abs(skewMs) / 60_000);
    this.#log.warn(
      `this PC's clock is ${minutes} minutes ${skewMs > 0 ? "ahead of" : "behind"} the ` +
        `master's (${new Date(master).toISOString()}); the master refuses snapshots from more ` +
        "than 5 minutes ahead. Set this PC's clock right or turn on its automatic time sync",
    );
  }

  /** `GET /health`: whether the master runs, and its version. */
  health(): Promise<HealthReport> {
    return this.#call("GET", "/health", { answer: Health });
  }

  /** `POST /api/agents/register` with `token` (the agent's own or the enrollment token). */
  register(registration: Registration, token: string): Promise<RegistrationResult> {
    return this.#call("POST", "/api/agents/register", {
      token,
      body: registration,
      answer: RegistrationResult,
    });
  }

  /** `PUT …/sources/{source_id}/snapshot`, gzip-compressed. */
  putSnapshot(
    agentId: string,
    sourceId: string,
    snapshot: Snapshot,
    token: string,
  ): Promise<SnapshotResult> {
    const path = `/api/agents/${encodeURIComponent(agentId)}/sources/${
      encodeURIComponent(sourceId)
    }/snapshot`;
    return this.#call("PUT", path, { token, body: snapshot, gzip: true, answer: SnapshotResult });
  }

  /** `POST /api/agents/{agent_id}/heartbeat`. */
  async heartbeat(agentId: string, heartbeat: Heartbeat, token: string): Promise<void> {
    await this.#call("POST", `/api/agents/${encodeURIComponent(agentId)}/heartbeat`, {
      token,
      body: heartbeat,
      answer: z.unknown(),
    });
  }

  async #call<T>(method: string, path: string, call: Call<T>): Promise<T> {
    const url = this.baseUrl + path;
    const request = `${method} ${displayUrl(url)}`;
    const headers = new Headers({ accept: "application/json" });
    if (call.token !== undefined) headers.set("authorization", `Bearer ${call.token}`);
    let body: string | ArrayBuffer | undefined;
    if (call.body !== undefined) {
      headers.set("content-type", "application/json");
      body = JSON.stringify(call.body);
      if (call.gzip) {
        body = await gzip(body);
        headers.set("content-encoding", "gzip");
      }
    }

    const backoff = this.#backoff();
    for (let attempt = 1;; attempt++) {
      let problem: string;
      let retryAfterMs: number | null = null;
      try {
        const answer = await exchange(
          this.#fetch,
          new Request(url, { method, headers, body }),
          this.#timeoutMs,
          async (r) => ({
            status: r.status,
            retryAfter: r.headers.get("retry-after"),
            date: r.headers.get("date"),
            text: await r.text(),
          }),
        );
        this.#checkClock(answer.date);
        if (answer.status >= 200 && answer.status < 300) {
          return decodeAnswer(answer.text, call.answer, request, answer.status);
        }
        if (answer.status !== 429 && answer.status < 500) {
          throw errorFromAnswer(answer.status, answer.text, request);
        }
        problem = errorFromAnswer(answer.status, answer.text, request).message;
        retryAfterMs = parseRetryAfter(answer.retryAfter);
      } catch (error) {
        if (error instanceof MasterError) throw error;
        problem = `${request}: ${(error as Error).message}`;
      }
      if (attempt >= this.#attempts || this.#stop?.aborted) {
        throw new MasterUnreachableError(
          `master not reachable: ${problem} (gave up after ${attempt} attempt${
            attempt === 1 ? "" : "s"
          })`,
        );
      }
      // The master's own estimate beats our guess: it knows when it will have room again.
      const delay = retryAfterMs ?? backoff.next();
      this.#log.warn(`${problem}; retrying in ${(delay / 1000).toFixed(1)} s`);
      await this.#sleep(delay, this.#stop);
    }
  }
}

function decodeAnswer<T>(text: string, schema: z.ZodType<T>, request: string, status: number): T {
  let json: unknown = null;
  try {
    json = text === "" ? null : JSON.parse(text);
  } catch {
    throw new MasterError(status, "bad_answer", "the answer is not JSON", null, request);
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new MasterError(
    status,
    "bad_answer",
    `unexpected answer: ${issue.path.join(".")}: ${issue.message}`,
    null,
    request,
  );
}

function errorFromAnswer(status: number, text: string, request: string): MasterError {
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // Not the master's JSON: a proxy or another server answered.
  }
  const parsed = ApiError.safeParse(json);
  if (parsed.success) {
    const { code, message, field } = parsed.data.error;
    return new MasterError(status, code, message, field, request);
  }
  const snippet = text.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim().slice(0, 200);
  const hint = status === 404 ? "; is central_api_url the master's address?" : "";
  return new MasterError(status, `http_${status}`, (snippet || "no details") + hint, null, request);
}
