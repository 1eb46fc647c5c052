/**
 * Reconciling one destination: plan the writes, run them with bounded concurrency and
 * retries, and record each in the status table right after it lands. Before a create,
 * its intent (key and deterministic location) is recorded, so a crash at any point
 * leaves nothing the next run cannot find: by its location or its marker, it is adopted
 * when still desired and deleted when not. Nothing here relies on the server enforcing
 * `If-None-Match` or `If-Match` (SOGo does not).
 *
 * A listing is never trusted alone: every item the status table knows but the listing
 * lacks is looked up by its location before its entry is forgotten or the item made
 * again, so a server that lists too little (SOGo with a VCALENDAR-only query) costs
 * neither duplicates nor forgotten deletes.
 *
 * @module
 */
import type { Logger } from "../log.ts";
import {
  type Destination,
  DestinationError,
  type DestinationErrorKind,
  type DestinationItem,
  type ItemResult,
  type RemoteItem,
} from "../destinations/types.ts";
import { type DestinationEntry, EMPTY_DESTINATION_STATE, type Store } from "../store/types.ts";
import { toInstant } from "../../shared/time.ts";
import { occurrenceBounds } from "../../shared/model.ts";
import { type Operation, planReconcile } from "./plan.ts";
import { keyedByMarker } from "./marker_keys.ts";

/** What a reconcile did. */
export type ReconcileReport = {
  destination_id: string;
  created: number;
  updated: number;
  deleted: number;
  adopted: number;
  /** Owned items kept though neither desired nor known (see `ReconcilePlan.strays`). */
  strays: number;
  failed: number;
  /** Whether the destination was listed (it changed since calsync's last write). */
  listed: boolean;
  /** Another master holds the destination's lease and reconciles it. */
  skipped: boolean;
  /**
   * The server refused calsync's credentials; it is not contacted again before this
   * instant unless its settings change or an admin retries. Null otherwise.
   */
  refused_until: string | null;
  errors: string[];
  /**
   * How many of `errors` were of each kind, for metrics; `unknown` for an error that
   * was not a destination's (a lost lease, a bug).
   */
  error_kinds: Partial<Record<DestinationErrorKind | "unknown", number>>;
};

/** A report of a reconcile that has done nothing yet. */
export function emptyReport(destinationId: string): ReconcileReport {
  return {
    destination_id: destinationId,
    created: 0,
    updated: 0,
    deleted: 0,
    adopted: 0,
    strays: 0,
    failed: 0,
    listed: false,
    skipped: false,
    refused_until: null,
    errors: [],
    error_kinds: {},
  };
}

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
  /**
   * List the destination even if its change token says nothing changed, reading every
   * item again rather than trusting what the destination remembers.
   */
  forceList?: boolean;
  /** Delete owned items neither desired nor known (strays); implies `forceList`. */
  deleteStrays?: boolean;
  /**
   * Called before each write request; throws when this master may no longer write (its
   * lease was lost), which ends the reconcile before the write.
   */
  beforeWrite?: () => Promise<void>;
  /**
   * Failed connections in a row (refused, reset, timed out; never an HTTP answer) after
   * which the destination counts as down and the reconcile ends at once, so that status
   * shows the outage within seconds instead of after every item's retries.
   */
  unreachableAfter?: number;
  /**
   * The retention horizon in epoch ms: items that ended before it are kept though no
   * longer desired (see `planReconcile`).
   */
  keepEndedBefore?: number;
  /**
   * The report to count into (a fresh one by default), so that a caller whose reconcile
   * ended early by a throw still knows what was written before.
   */
  report?: ReconcileReport;
};

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Exponential backoff with full jitter: up to 1 s, 2 s, 4 s… capped at 30 s. */
function backoffMs(attempt: number): number {
  return Math.random() * Math.min(30_000, 1000 * 2 ** attempt);
}

/**
 * Counts failed connections in a row across all requests of one reconcile; any answer
 * from the server resets it. Once `limit` is reached, `down` holds the error that ends it.
 */
class OutageCounter {
  #inARow = 0;
  /** The error ending the reconcile once the destination counts as down; null before. */
  down: DestinationError | null = null;

  /** Creates a counter that declares the destination down after `limit` failures. */
  constructor(readonly limit: number) {}

  /** Notes the outcome of one request. */
  note(err: unknown): void {
    if (!(err instanceof DestinationError) || err.kind !== "unreachable") {
      this.#inARow = 0;
      return;
    }
    if (++this.#inARow >= this.limit && this.down === null) {
      this.down = new DestinationError(
        "unreachable",
        `destination unreachable (${this.#inARow} connections in a row failed): ${err.message}`,
      );
    }
  }
}

/**
 * Runs `fn`, retrying destination errors worth retrying, honouring `Retry-After`; stops
 * at once, with the outage's error, once `outage` says the destination is down.
 */
async function withRetries<T>(
  fn: () => Promise<T>,
  maxAttempts: number,
  sleep: (ms: number) => Promise<void>,
  outage: OutageCounter,
): Promise<T> {
  for (let attempt = 0;; attempt++) {
    if (outage.down) throw outage.down;
    try {
      const value = await fn();
      outage.note(null);
      return value;
    } catch (err) {
      outage.note(err);
      if (outage.down) throw outage.down;
      if (!(err instanceof DestinationError) || !err.retryable || attempt + 1 >= maxAttempts) {
        throw err;
      }
      await sleep(err.retryAfterMs ?? backoffMs(attempt));
    }
  }
}

/** Whether the server refused the credentials: no further request may be sent. */
export function isRefusal(err: unknown): err is DestinationError {
  return err instanceof DestinationError && err.kind === "unauthorized";
}

function isPrecondition(err: unknown): boolean {
  return err instanceof DestinationError && err.kind === "precondition_failed";
}

type CreateOp = Extract<Operation, { kind: "create" }>;
type UpdateOp = Extract<Operation, { kind: "update" }>;
type DeleteOp = Extract<Operation, { kind: "delete" }>;

/** The outcome of `fn` as a result; only destination errors are caught. */
async function asResult<T>(fn: () => Promise<T>): Promise<ItemResult<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    if (err instanceof DestinationError) return { ok: false, error: err };
    throw err;
  }
}

/** Turns a retryable failure back into a throw, so `withRetries` tries it again. */
function throwIfRetryable<T>(result: ItemResult<T>): ItemResult<T> {
  if (!result.ok && result.error.retryable) throw result.error;
  return result;
}

/** Operations grouped by kind, at most `size` to a group, creates first. */
function groupOperations(operations: Operation[], size: number): Operation[][] {
  const groups: Operation[][] = [];
  for (const kind of ["create", "update", "delete"] as const) {
    const ofKind = operations.filter((op) => op.kind === kind);
    for (let i = 0; i < ofKind.length; i += size) groups.push(ofKind.slice(i, i + size));
  }
  return groups;
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
 * `listing` with every owned item the status table knows but the listing lacks looked up
 * at its location (in one multiget where the destination has it), so that only a
 * confirmed absence makes the plan forget a delete or write an item again.
 */
async function crossChecked(
  destination: Destination,
  entries: DestinationEntry[],
  listing: RemoteItem[],
  retry: <T>(fn: () => Promise<T>) => Promise<T>,
): Promise<RemoteItem[]> {
  const listed = new Set(listing.flatMap((r) => (r.key === null ? [] : [r.key])));
  const hrefs = entries.filter((e) => !listed.has(e.key) && e.href !== "").map((e) => e.href);
  if (hrefs.length === 0) return listing;
  const found = destination.getMany
    ? await retry(() => destination.getMany!(hrefs))
    : (await Promise.all(hrefs.map((href) => retry(() => destination.get(href)))))
      .filter((r): r is RemoteItem => r !== null);
  const seen = new Set(listing.map((r) => r.href));
  return [...listing, ...found.filter((r) => !seen.has(r.href))];
}

/**
 * Brings `destination` to hold exactly the `desired` items it owns. Errors of single
 * items are counted and reported, never thrown; an error reaching the destination at all
 * (or any unexpected error) is thrown, leaving the status table consistent.
 */
export async function reconcileDestination(
  target: Destination,
  store: Store,
  desired: ReadonlyMap<string, DestinationItem>,
  options: ReconcileOptions,
): Promise<ReconcileReport> {
  const id = target.id;
  const now = options.now ?? (() => new Date());
  const sleep = options.sleep ?? defaultSleep;
  const attempts = options.maxAttempts ?? 4;
  const outage = new OutageCounter(options.unreachableAfter ?? 3);
  const retry = <T>(fn: () => Promise<T>) => withRetries(fn, attempts, sleep, outage);
  const report = options.report ?? emptyReport(id);

  const state = await store.destinationState(id);
  const entries = await store.destinationEntries(id);
  const destination = keyedByMarker(target, [...desired.keys(), ...entries.map((e) => e.key)]);
  const token = await retry(() => destination.changeToken());
  // An intent without a location (the server names items) is found only by listing.
  const unplaced = entries.some((e) => e.hash === null && e.href === "");
  const fresh = options.forceList || options.deleteStrays;
  const mustList = fresh || unplaced || state === null || token === null ||
    token !== state.change_token;
  const remote = mustList
    ? await crossChecked(
      destination,
      entries,
      await retry(() => destination.list({ fresh })),
      retry,
    )
    : null;
  report.listed = remote !== null;
  const plan = planReconcile(desired, entries, remote, {
    deleteStrays: options.deleteStrays,
    deleteDuplicates: !destination.hrefFor,
    keepEndedBefore: options.keepEndedBefore,
  });

  for (const { entry } of plan.adopt) {
    const item = desired.get(entry.key);
    await store.saveDestinationEntry(id, {
      ...entry,
      end_ms: item ? occurrenceBounds(item.event)[1] : null,
    });
    report.adopted++;
  }
  for (const key of plan.forget) await store.deleteDestinationEntry(id, key);
  report.strays = plan.strays.length;

  // The item's end goes with its entry, so that pruning its occurrence later never reads
  // as its deletion.
  const save = (item: DestinationItem, href: string, etag: string | null) =>
    store.saveDestinationEntry(id, {
      key: item.key,
      href,
      etag,
      hash: item.hash,
      end_ms: occurrenceBounds(item.event)[1],
    });

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

  /**
   * Settles one operation from the result of its write: records it, or after a 412
   * reads the item again and decides anew. Throws a `DestinationError` for a failure.
   */
  const settle = async (op: Operation, result: ItemResult<unknown>): Promise<void> => {
    if (op.kind === "create") {
      if (result.ok) {
        const { href, etag } = result.value as { href: string; etag: string | null };
        await save(op.item, href, etag);
        report.created++;
        return;
      }
      if (!isPrecondition(result.error) || !destination.hrefFor) throw result.error;
      report[await rewrite(op.item, destination.hrefFor(op.item))]++;
    } else if (op.kind === "update") {
      if (result.ok) {
        await save(op.item, op.href, (result.value as { etag: string | null }).etag);
        report.updated++;
        return;
      }
      if (!isPrecondition(result.error)) throw result.error;
      report[await rewrite(op.item, op.href)]++;
    } else {
      if (!result.ok) {
        if (!isPrecondition(result.error)) throw result.error;
        const current = await retry(() => destination.get(op.href));
        if (current !== null && current.key === op.key) {
          await retry(() => destination.remove(op.href, current.etag));
        }
      }
      if (!op.duplicate) await store.deleteDestinationEntry(id, op.key);
      report.deleted++;
    }
  };

  /** Set by the first refusal of the credentials, after which nothing more is sent. */
  let refused: DestinationError | null = null;
  const fail = (op: Operation, err: unknown) => {
    if (!(err instanceof DestinationError)) throw err;
    if (isRefusal(err)) refused ??= err;
    report.failed++;
    report.error_kinds[err.kind] = (report.error_kinds[err.kind] ?? 0) + 1;
    const what = op.kind === "delete" ? op.href : op.item.event.title || op.item.key;
    report.errors.push(`${op.kind} ${what}: ${err.message}`);
  };

  /** Writes a group of operations of one kind: one request with batches, else one each. */
  const write = async (ops: Operation[]): Promise<ItemResult<unknown>[]> => {
    const batch = destination.batch;
    const one = (op: Operation) =>
      asResult((): Promise<unknown> =>
        op.kind === "create"
          ? destination.create(op.item)
          : op.kind === "update"
          ? destination.update(op.href, op.etag, op.item)
          : destination.remove(op.href, op.etag)
      );
    if (!batch) return [await retry(() => one(ops[0]).then(throwIfRetryable))];
    const kind = ops[0].kind;
    return await retry((): Promise<ItemResult<unknown>[]> =>
      kind === "create"
        ? batch.createBatch(ops.map((op) => (op as CreateOp).item))
        : kind === "update"
        ? batch.updateBatch(ops.map((op) => op as UpdateOp))
        : batch.removeBatch(ops.map((op) => op as DeleteOp))
    );
  };

  const groups = groupOperations(plan.operations, destination.batch?.batchSize ?? 1);
  await pool(groups, options.concurrency ?? 4, async (ops) => {
    if (refused || outage.down) return;
    await options.beforeWrite?.();
    for (const op of ops) {
      if (op.kind !== "create") continue;
      const href = destination.hrefFor?.(op.item) ?? "";
      await store.saveDestinationEntry(id, { key: op.item.key, href, etag: null, hash: null });
    }
    let results: ItemResult<unknown>[];
    try {
      results = await write(ops);
    } catch (err) {
      for (const op of ops) fail(op, err);
      return;
    }
    for (const [i, op] of ops.entries()) {
      try {
        await settle(op, results[i]);
      } catch (err) {
        fail(op, err);
      }
    }
  });

  // Every later request would be refused too, and count against the account's lockout.
  if (refused) throw refused;
  // The entries of completed writes are saved already; the engine records what waits.
  if (outage.down) throw outage.down;
  const wrote = report.created + report.updated + report.deleted > 0;
  // With strays about, the next run must list again to adopt them rather than create.
  const nextToken = report.strays > 0
    ? null
    : wrote
    ? await retry(() => destination.changeToken())
    : token;
  await store.saveDestinationState(id, {
    ...(state ?? EMPTY_DESTINATION_STATE),
    change_token: nextToken,
    last_reconcile_at: toInstant(now()),
    last_error: report.errors[0] ?? null,
    pending: report.failed,
    auth_refusal: null,
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
