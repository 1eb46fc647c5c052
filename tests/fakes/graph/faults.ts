/**
 * Injected trouble: throttling as "Microsoft Graph throttling guidance"
 * (https://learn.microsoft.com/en-us/graph/throttling) describes it (429 Too Many Requests
 * with `Retry-After` seconds, or 503 Service Unavailable with `Retry-After`; inside `$batch`
 * each request is throttled on its own), Outlook's throttle code from "Microsoft Graph
 * service-specific throttling limits" (https://learn.microsoft.com/en-us/graph/throttling-limits),
 * failures of the k-th request, a connection killed in the middle of a `$batch` answer, and
 * `$batch` requests held, so a test can stop a client at a known point of its writes.
 *
 * @module
 */
import { GraphError } from "./errors.ts";

/** A run of throttled requests. */
export interface ThrottleOptions {
  /** Matching requests let through before throttling starts; default 0. */
  after?: number;
  /** Requests throttled; default 1. */
  count?: number;
  /** 429 (default) or 503. */
  status?: 429 | 503;
  /** The `Retry-After` value in seconds; default 1. */
  retryAfterSeconds?: number;
  /** Only requests to this mailbox count and are throttled; default every request. */
  mailbox?: string;
}

/** A failure of one request. */
export interface FailureOptions {
  status: number;
  code: string;
  message?: string;
  /** Extra headers of the answer. */
  headers?: Record<string, string>;
}

/**
 * `$batch` requests held: the first is carried out and its answer held; every later one
 * waits before it is carried out. {@link BatchHold.release} lets them all go on.
 */
export interface BatchHold {
  /** Resolves once the first held `$batch` has been carried out (its answer not yet sent). */
  carriedOut: Promise<void>;
  /** Sends the held answer and carries out the waiting batches (of clients still there). */
  release(): void;
}

/** The state of a {@link BatchHold} as the server sees it. */
export interface HeldBatches {
  /** Only batches with a request to this mailbox (lower case) are held; null: every batch. */
  mailbox: string | null;
  /** Whether the first batch has been taken. */
  started: boolean;
  reached: () => void;
  gate: Promise<void>;
}

interface Throttle {
  skip: number;
  left: number;
  status: 429 | 503;
  retryAfter: number;
  mailbox: string | null;
}

/** The faults waiting for requests. */
export class Faults {
  readonly #throttles: Throttle[] = [];
  readonly #failures = new Map<number, FailureOptions>();
  #seen = 0;
  #killBatch = false;
  #held: HeldBatches | null = null;

  /** Throttles a run of requests. */
  throttle(options: ThrottleOptions): void {
    this.#throttles.push({
      skip: options.after ?? 0,
      left: options.count ?? 1,
      status: options.status ?? 429,
      retryAfter: options.retryAfterSeconds ?? 1,
      mailbox: options.mailbox?.toLowerCase() ?? null,
    });
  }

  /** Fails the `k`-th Graph request from now (1 = the next; requests inside `$batch` count). */
  failRequest(k: number, failure: FailureOptions): void {
    this.#failures.set(this.#seen + k, failure);
  }

  /** Makes the next `$batch` carry out its requests, then drop the connection mid-answer. */
  killNextBatch(): void {
    this.#killBatch = true;
  }

  /**
   * Holds `$batch` requests from now on (see {@link BatchHold}), only those with a request
   * to `mailbox` when it is given.
   */
  holdBatches(mailbox?: string): BatchHold {
    let reached = () => {};
    let open = () => {};
    const carriedOut = new Promise<void>((resolve) => reached = resolve);
    const gate = new Promise<void>((resolve) => open = resolve);
    const held: HeldBatches = {
      mailbox: mailbox?.toLowerCase() ?? null,
      started: false,
      reached,
      gate,
    };
    this.#held = held;
    return {
      carriedOut,
      release: () => {
        if (this.#held === held) this.#held = null;
        open();
      },
    };
  }

  /** The batches being held, or null. */
  heldBatches(): HeldBatches | null {
    return this.#held;
  }

  /** Whether this `$batch` is the one to kill (consumes the switch). */
  takeBatchKill(): boolean {
    const kill = this.#killBatch;
    this.#killBatch = false;
    return kill;
  }

  /** The fault for the next Graph request to `mailbox` (null when it goes through). */
  next(mailbox: string | null): GraphError | null {
    const failure = this.#failures.get(++this.#seen);
    if (failure) {
      this.#failures.delete(this.#seen);
      return new GraphError(
        failure.status,
        failure.code,
        failure.message ?? `Injected failure ${failure.code}.`,
        failure.headers,
      );
    }
    for (const throttle of this.#throttles) {
      if (throttle.left === 0) continue;
      if (throttle.mailbox !== null && throttle.mailbox !== mailbox) continue;
      if (throttle.skip > 0) {
        throttle.skip--;
        continue;
      }
      throttle.left--;
      const headers = { "retry-after": String(throttle.retryAfter) };
      return throttle.status === 429
        ? new GraphError(
          429,
          "ApplicationThrottled",
          "Application is over its MailboxConcurrency limit.",
          headers,
        )
        : new GraphError(
          503,
          "serviceNotAvailable",
          "The service is temporarily unavailable. Try again after the delay in Retry-After.",
          headers,
        );
    }
    return null;
  }
}
