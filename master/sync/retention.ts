/**
 * Retention: occurrences that ended more than `RETENTION_DAYS` ago leave the store, in
 * small batches, off the request path, from a periodic task of the master. With several
 * masters on one store, a lease lets one prune at a time. The destinations keep their
 * copies: the reconciler keeps every item that ended before the horizon even when no
 * stored occurrence wants it any more (see `planReconcile`).
 *
 * @module
 */
import type { Logger } from "../log.ts";
import type { Store } from "../store/types.ts";
import { toInstant } from "../../shared/time.ts";

/** `RETENTION_DAYS` when unset. */
export const DEFAULT_RETENTION_DAYS = 400;

const DAY_MS = 86_400_000;

/** Occurrences that ended before this instant (epoch ms) leave the store. */
export function pruneHorizon(now: Date, retentionDays: number): number {
  return now.getTime() - retentionDays * DAY_MS;
}

/**
 * Copies that ended before this instant (epoch ms) are kept though nothing desires them:
 * a day after the prune horizon, so that a master whose clock runs up to a day behind
 * the pruning one still takes a pruned occurrence for an aged-out one.
 */
export function keepHorizon(now: Date, retentionDays: number): number {
  return pruneHorizon(now, retentionDays) + DAY_MS;
}

/** How the pruner runs. */
export type PrunerOptions = {
  store: Store;
  logger: Logger;
  retentionDays: number;
  /** Who this master is, for the lease. */
  owner: string;
  /** Occurrences deleted per transaction (per Lua script on Redis). */
  batchSize?: number;
  /** Time between prunes after the one at start. */
  intervalMs?: number;
  /** How long the lease lasts without renewal; it is renewed before every batch. */
  leaseMs?: number;
  now?: () => Date;
};

/** The lease that lets one master prune at a time. */
const LEASE = "retention";

/** Prunes the store at start and then every interval. */
export class Pruner {
  readonly #o: Required<PrunerOptions>;
  #timer: ReturnType<typeof setInterval> | undefined;
  #running: Promise<unknown> | null = null;
  #stopped = false;

  /** Creates the pruner; nothing runs until `start()` or `pruneNow()`. */
  constructor(options: PrunerOptions) {
    this.#o = {
      batchSize: 500,
      intervalMs: 3_600_000,
      leaseMs: 60_000,
      now: () => new Date(),
      ...options,
    };
  }

  /** Prunes now in the background, then every interval. */
  start(): void {
    this.#background();
    this.#timer = setInterval(() => this.#background(), this.#o.intervalMs);
  }

  #background(): void {
    if (this.#running) return;
    this.#running = this.pruneNow().catch((err) =>
      this.#o.logger.log(
        "warn",
        `pruning old occurrences failed, tried again in an hour: ${
          err instanceof Error ? err.message : err
        }`,
      )
    ).finally(() => (this.#running = null));
  }

  /**
   * Deletes every occurrence that ended before the horizon, batch by batch, and logs how
   * many went. Answers that number, or null when another master holds the lease (it is
   * pruning) or this one lost it midway.
   */
  async pruneNow(): Promise<number | null> {
    const { store, owner, leaseMs, batchSize, logger } = this.#o;
    const token = await store.acquireLease(LEASE, owner, leaseMs);
    if (token === null) return null;
    const before = toInstant(new Date(pruneHorizon(this.#o.now(), this.#o.retentionDays)));
    let removed = 0;
    try {
      for (;;) {
        const n = await store.pruneOccurrencesEndedBefore(before, batchSize);
        removed += n;
        if (n < batchSize || this.#stopped) break;
        if (await store.acquireLease(LEASE, owner, leaseMs) !== token) {
          logger.log("warn", `pruning stopped after ${removed}: another master took it over`);
          return null;
        }
      }
    } finally {
      await store.releaseLease(LEASE, owner).catch(() => {});
    }
    if (removed > 0) {
      logger.log(
        "info",
        `retention: removed ${removed} occurrences that ended before ${before} from the ` +
          "store (destinations keep their copies)",
      );
    }
    return removed;
  }

  /** Stops the timer and waits for a prune in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#running;
  }
}
