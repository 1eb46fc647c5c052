/**
 * The reconcile plan: the fewest writes that make a destination hold the desired items,
 * computed without I/O from the desired items, the status table (what calsync
 * remembers writing) and, when it was read, the destination's own listing.
 *
 * @module
 */
import type { DestinationItem, RemoteItem } from "../destinations/types.ts";
import type { DestinationEntry } from "../store/types.ts";

/** One write to a destination. */
export type Operation =
  | { kind: "create"; item: DestinationItem }
  | { kind: "update"; item: DestinationItem; href: string; etag: string | null }
  | {
    kind: "delete";
    key: string;
    href: string;
    etag: string | null;
    /** A second copy of an item that stays: its status entry is the kept one's. */
    duplicate?: boolean;
  };

/** The writes to make, and status-table corrections that need no write. */
export type ReconcilePlan = {
  operations: Operation[];
  /** Owned items found in the destination that the status table lacks, already right. */
  adopt: { entry: DestinationEntry }[];
  /** Status entries whose item is gone from the destination and no longer desired. */
  forget: string[];
  /**
   * Owned items neither desired nor known to the status table: kept, because a store
   * that is new or restored from a backup cannot tell them from items its agents have
   * not uploaded again yet. They are adopted once desired.
   */
  strays: string[];
};

/**
 * Plans a reconcile. Without a listing (`remote` null, the destination reported no
 * change since calsync's last write) the status table is trusted. With a listing, which
 * the caller has cross-checked for every item the status table knows (so a missing item
 * is really gone): an owned item missing is re-created, one whose etag is not the one
 * calsync wrote (edited by hand) is written again, and an owned item the status table
 * does not know (a lost or restored store) is adopted when desired and otherwise left
 * alone: only a newer snapshot removes events (ARCHITECTURE.md, invariant 2). Items
 * without the calsync marker never appear. An intent (an entry without hash: a create
 * that may or may not have landed) is created again, adopted when it landed, or deleted
 * when no longer desired. `deleteStrays`, an admin's explicit clean-up, deletes the
 * strays instead of keeping them. `deleteDuplicates`, for servers that name items
 * themselves (EWS), deletes every owned copy of a key but one: the one the status table
 * names, else the first listed. There, a second copy is calsync's own (a create whose
 * answer was lost, or an earlier version's marker that could not be read back).
 * `keepEndedBefore` (epoch ms) is the retention horizon: an item known to have ended
 * before it stays even though nothing desires it, because its occurrence may have been
 * pruned from the store, which is no delete by its source; its entry is forgotten only
 * once a listing shows the item gone.
 */
export function planReconcile(
  desired: ReadonlyMap<string, DestinationItem>,
  entries: Iterable<DestinationEntry>,
  remote: RemoteItem[] | null,
  { deleteStrays = false, deleteDuplicates = false, keepEndedBefore = -Infinity }: {
    deleteStrays?: boolean;
    deleteDuplicates?: boolean;
    keepEndedBefore?: number;
  } = {},
): ReconcilePlan {
  const status = new Map<string, DestinationEntry>();
  for (const e of entries) status.set(e.key, e);
  const plan: ReconcilePlan = { operations: [], adopt: [], forget: [], strays: [] };
  const owned = new Map<string, RemoteItem>();
  for (const r of remote ?? []) {
    if (r.key === null) continue;
    const first = owned.get(r.key);
    if (first === undefined || !deleteDuplicates) {
      owned.set(r.key, r);
      continue;
    }
    const [kept, extra] = r.href === status.get(r.key)?.href ? [r, first] : [first, r];
    owned.set(r.key, kept);
    plan.operations.push({
      kind: "delete",
      key: r.key,
      href: extra.href,
      etag: extra.etag,
      duplicate: true,
    });
  }

  for (const [key, item] of desired) {
    const known = status.get(key);
    if (remote === null) {
      if (!known || known.hash === null) plan.operations.push({ kind: "create", item });
      else if (known.hash !== item.hash) {
        plan.operations.push({ kind: "update", item, href: known.href, etag: known.etag });
      }
      continue;
    }
    const found = owned.get(key);
    if (!found) plan.operations.push({ kind: "create", item });
    else if (known && found.etag === known.etag && known.hash === item.hash) continue;
    else if (
      (!known || known.hash === null || known.etag === null) && found.hash === item.hash &&
      found.etag !== null
    ) {
      // What is there is what calsync would write, and nothing says it was edited since.
      plan.adopt.push({ entry: { key, href: found.href, etag: found.etag, hash: item.hash } });
    } else plan.operations.push({ kind: "update", item, href: found.href, etag: found.etag });
  }

  for (const [key, known] of status) {
    if (desired.has(key)) continue;
    const agedOut = known.end_ms != null && known.end_ms < keepEndedBefore;
    if (agedOut) {
      if (remote !== null && !owned.has(key)) plan.forget.push(key);
      continue;
    }
    if (remote === null) {
      plan.operations.push({ kind: "delete", key, href: known.href, etag: known.etag });
      continue;
    }
    const found = owned.get(key);
    if (found) plan.operations.push({ kind: "delete", key, href: found.href, etag: found.etag });
    else plan.forget.push(key);
  }
  for (const [key, found] of owned) {
    if (desired.has(key) || status.has(key)) continue;
    if (deleteStrays) {
      plan.operations.push({ kind: "delete", key, href: found.href, etag: found.etag });
    } else plan.strays.push(key);
  }
  return plan;
}
