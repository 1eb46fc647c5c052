/**
 * The pure part of applying a snapshot: given what a source holds and a prepared
 * snapshot, which occurrences to insert, update and delete. Every store backend uses it,
 * so the window semantics of ARCHITECTURE.md live in one place.
 *
 * @module
 */
import type { Occurrence, TimeWindow } from "../../shared/model.ts";
import { occurrenceBounds, occurrenceKey } from "../../shared/model.ts";
import { sha256Hex } from "../../shared/hash.ts";
import type { SnapshotResult, SourceSettings } from "../../shared/protocol.ts";
import { toMillis } from "../../shared/time.ts";
import type { WarningSummary } from "../../shared/warnings.ts";

/** What a store keeps of one occurrence to decide about it. */
export type HeldOccurrence = { key: string; hash: string; start_ms: number; end_ms: number };

/** An occurrence ready to be written: its key, hash, indexed bounds and JSON. */
export type OccurrenceRow = HeldOccurrence & { data: string };

/** What a validated snapshot says besides its events. */
export type SnapshotHeader = {
  window: TimeWindow;
  generated_at: string;
  settings: SourceSettings;
  /** What the agent repaired or skipped reading the source; kept as the source's latest. */
  warnings: WarningSummary;
};

/** A validated snapshot whose events are ready to be written. */
export type PreparedSnapshot = SnapshotHeader & { rows: OccurrenceRow[] };

/** The writes that apply a snapshot, and the counts the API reports. */
export type SnapshotPlan<R extends HeldOccurrence = OccurrenceRow> = {
  /** The incoming occurrences that are new or whose hash changed. */
  upserts: R[];
  deletes: string[];
  result: SnapshotResult;
};

/**
 * The row a store writes for a validated occurrence serialised as `data`. The hash is
 * taken over that JSON: zod builds every output object in schema order, so equal
 * occurrences serialise equally without a second, key-sorting pass.
 */
export function toRow(
  event: Occurrence,
  data = JSON.stringify(event),
  hash = sha256Hex(data),
): OccurrenceRow {
  const [start_ms, end_ms] = occurrenceBounds(event);
  return { key: occurrenceKey(event), hash, start_ms, end_ms, data };
}

/**
 * Plans a snapshot: every held occurrence overlapping `window` and absent from `rows` is
 * deleted; a snapshot event is inserted, updated when its content hash differs, or left
 * alone. Held occurrences outside the window are never touched. Only rows `listed` says
 * so of go into `upserts`; the others count all the same, for a store that writes them
 * by other means and would rather not hold 100,000 of them at once.
 */
export function planSnapshot<R extends HeldOccurrence>(
  held: Iterable<HeldOccurrence>,
  rows: Iterable<R>,
  window: TimeWindow,
  listed: (row: R) => boolean = () => true,
): SnapshotPlan<R> {
  const byKey = new Map<string, HeldOccurrence>();
  for (const h of held) byKey.set(h.key, h);
  const result: SnapshotResult = { added: 0, updated: 0, removed: 0, unchanged: 0 };
  const upserts: R[] = [];
  const incoming = new Set<string>();
  for (const row of rows) {
    incoming.add(row.key);
    const old = byKey.get(row.key);
    if (old === undefined) result.added++;
    else if (old.hash !== row.hash) result.updated++;
    else {
      result.unchanged++;
      continue;
    }
    if (listed(row)) upserts.push(row);
  }
  const winStart = toMillis(window.start);
  const winEnd = toMillis(window.end);
  const deletes: string[] = [];
  for (const h of byKey.values()) {
    if (!incoming.has(h.key) && h.start_ms < winEnd && h.end_ms > winStart) deletes.push(h.key);
  }
  result.removed = deletes.length;
  return { upserts, deletes, result };
}

/** How far ahead of the master's clock a snapshot's `generated_at` may lie. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/**
 * Why a snapshot generated at `generatedAt` is stale against the source's
 * `lastGenerated`, or null when it may be applied. A `lastGenerated` later than the
 * master's `now` came from an agent clock that ran ahead before such snapshots were
 * refused; it is ignored, so a source poisoned that way heals with its next snapshot
 * instead of refusing every one until that future date arrives.
 */
export function staleReason(
  generatedAt: string,
  lastGenerated: string | null | undefined,
  now: string,
): string | null {
  if (!lastGenerated || lastGenerated > now || generatedAt >= lastGenerated) return null;
  return `this snapshot was generated at ${generatedAt}, before the one already ` +
    `applied (${lastGenerated}); send a fresh snapshot`;
}
