/**
 * Reconciling one destination: plan the writes, run them with bounded concurrency and
 * retries, and record each in the status table right after it lands, so a crash at any
 * point leaves at most one write the status table does not know of, which the next run
 * finds at its deterministic location and adopts.
 *
 * @module
 */
import type { Logger } from "../log.ts";
import { type Destination, DestinationError, type DestinationItem } from "../destinations/types.ts";
import type { Store } from "../store/types.ts";
import { toInstant } from "../../shared/time.ts";
import { type Operation, planReconcile } from "./plan.ts";

/** What a reconcile did. */
export type ReconcileReport = {
  destination_id: string;
  created: number;
  updated: number;
  deleted: number;
  adopted: number;
  failed: number;
  /** Whether the destination was listed (it changed since calsync's last write). */
  listed: boolean;
  errors: string[];
};

/** Tuning and test hooks of a reconcile. */
export type ReconcileOptions = {
  logger: Logger;
  now?: () => Date;
  /** Writes in flight at once. */
  concurrency?: number;
  /** Tries per request, the first included, for errors worth retrying. */
  maxAttempts?: number;
  /** Waits between tries; tests replace it. */
  sleep?: (ms: number) => Promise<void>;
  /** List the destination even if its change token says nothing changed. */
  forceList?: boolean;
};

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Exponential backoff with full jitter: up to 1 s, 2 s, 4 s… capped at 30 s. */
function backoffMs(attempt: number): number {
  return Math.random() * Math.min(30_000, 1000 * 2 ** attempt);
}

/** Runs `fn`, retrying destination errors worth retrying, honouring `Retry-After`. */
async function withRetries<T>(
  fn: () => Promise<T>,
  maxAttempts: number,
  sleep: (ms: number) => Promise<void>,
): Promise<T> {
  for (let attempt = 0;; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof DestinationError) || !err.retryable || attempt + 1 >= maxAttempts) {
        throw err;
      }
      await sleep(err.retryAfterMs ?? backoffMs(attempt));
    }
  }
}

function isPrecondition(err: unknown): boolean {
  return err instanceof DestinationError && err.kind === "precondition_failed";
}

/** Runs `tasks` with at most `limit` at once. */
async function pool<T>(items: T[], limit: number, task: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Brings `destination` to hold exactly the `desired` items it owns. Errors of single
 * items are counted and reported, never thrown; an error reaching the destination at all
 * (or any unexpected error) is thrown, leaving the status table consistent.
 */
export async function reconcileDestination(
  destination: Destination,
  store: Store,
  desired: ReadonlyMap<string, DestinationItem>,
  options: ReconcileOptions,
): Promise<ReconcileReport> {
  const id = destination.id;
  const now = options.now ?? (() => new Date());
  const sleep = options.sleep ?? defaultSleep;
  const attempts = options.maxAttempts ?? 4;
  const retry = <T>(fn: () => Promise<T>) => withRetries(fn, attempts, sleep);
  const report: ReconcileReport = {
    destination_id: id,
    created: 0,
    updated: 0,
    deleted: 0,
    adopted: 0,
    failed: 0,
    listed: false,
    errors: [],
  };

  const state = await store.destinationState(id);
  const entries = await store.destinationEntries(id);
  const token = await retry(() => destination.changeToken());
  const mustList = options.forceList || state === null || token === null ||
    token !== state.change_token;
  const remote = mustList ? await retry(() => destination.list()) : null;
  report.listed = remote !== null;
  const plan = planReconcile(desired, entries, remote);

  for (const { entry } of plan.adopt) {
    await store.saveDestinationEntry(id, entry);
    report.adopted++;
  }
  for (const key of plan.forget) await store.deleteDestinationEntry(id, key);

  const save = (item: DestinationItem, href: string, etag: string | null) =>
    store.saveDestinationEntry(id, { key: item.key, href, etag, hash: item.hash });

  /** Writes `item` over whatever owned item is at `href`, after a 412 told us it moved on. */
  const rewrite = async (item: DestinationItem, href: string): Promise<"created" | "updated"> => {
    const current = await retry(() => destination.get(href));
    if (current === null) {
      const created = await retry(() => destination.create(item));
      await save(item, created.href, created.etag);
      return "created";
    }
    if (current.key !== item.key) {
      throw new DestinationError(
        "rejected",
        `${href} holds an item calsync does not own; it is left alone`,
      );
    }
    const { etag } = await retry(() => destination.update(href, current.etag, item));
    await save(item, href, etag);
    return "updated";
  };

  const run = async (op: Operation): Promise<void> => {
    if (op.kind === "create") {
      try {
        const { href, etag } = await retry(() => destination.create(op.item));
        await save(op.item, href, etag);
        report.created++;
      } catch (err) {
        if (!isPrecondition(err)) throw err;
        report[await rewrite(op.item, destination.hrefFor(op.item))]++;
      }
    } else if (op.kind === "update") {
      try {
        const { etag } = await retry(() => destination.update(op.href, op.etag, op.item));
        await save(op.item, op.href, etag);
        report.updated++;
      } catch (err) {
        if (!isPrecondition(err)) throw err;
        report[await rewrite(op.item, op.href)]++;
      }
    } else {
      try {
        await retry(() => destination.remove(op.href, op.etag));
      } catch (err) {
        if (!isPrecondition(err)) throw err;
        const current = await retry(() => destination.get(op.href));
        if (current !== null && current.key === op.key) {
          await retry(() => destination.remove(op.href, current.etag));
        }
      }
      await store.deleteDestinationEntry(id, op.key);
      report.deleted++;
    }
  };

  await pool(plan.operations, options.concurrency ?? 4, async (op) => {
    try {
      await run(op);
    } catch (err) {
      if (!(err instanceof DestinationError)) throw err;
      report.failed++;
      const what = op.kind === "delete" ? op.href : op.item.event.title || op.item.key;
      report.errors.push(`${op.kind} ${what}: ${err.message}`);
    }
  });

  const wrote = report.created + report.updated + report.deleted > 0;
  await store.saveDestinationState(id, {
    change_token: wrote ? await retry(() => destination.changeToken()) : token,
    last_reconcile_at: toInstant(now()),
    last_error: report.errors[0] ?? null,
    pending: report.failed,
  });
  if (wrote || report.failed > 0 || report.adopted > 0) {
    options.logger.log(
      report.failed > 0 ? "warn" : "info",
      `reconcile ${id}: +${report.created} ~${report.updated} -${report.deleted} ` +
        `adopted ${report.adopted}, failed ${report.failed}` +
        (report.errors.length > 0 ? `; first error: ${report.errors[0]}` : ""),
    );
  }
  return report;
}
