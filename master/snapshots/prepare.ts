/**
 * Turns snapshot bodies into rows ready to be written. An event whose JSON is byte for
 * byte one the source already holds was validated when it was stored, so only new or
 * changed events are checked: an unchanged resend costs a hash per event. Agents send
 * events as the schema outputs them, which is what makes them byte-identical, and what
 * lets an event already in that form skip the zod schema (`isCanonicalOccurrence`).
 *
 * @module
 */
import { isCanonicalOccurrence } from "../../shared/canonical_occurrence.ts";
import { Occurrence } from "../../shared/model.ts";
import { SnapshotEnvelope, SnapshotEventChecker } from "../../shared/protocol.ts";
import type { TimeWindow } from "../../shared/model.ts";
import { sha256Hex } from "../../shared/hash.ts";
import { formatPath } from "../../shared/json_path.ts";
import { HttpError, validationError } from "../http/errors.ts";
import { type OccurrenceRow, type PreparedSnapshot, toRow } from "./plan.ts";

/** A snapshot body without its events: what `SnapshotHeader` is validated from. */
export const SnapshotHeaderBody = SnapshotEnvelope.omit({ events: true });

/**
 * The row of `item`, the event at `events[index]`; `knownHashes` are the content hashes
 * the source holds. Throws a 400 `HttpError` naming the first bad field.
 */
export function eventRow(
  item: unknown,
  index: number,
  knownHashes: ReadonlySet<string>,
): OccurrenceRow {
  let data: string | undefined;
  let hash: string | undefined;
  if (knownHashes.size > 0) {
    data = JSON.stringify(item);
    hash = sha256Hex(data);
    if (knownHashes.has(hash)) return toRow(item as Occurrence, data, hash);
  }
  if (isCanonicalOccurrence(item)) return toRow(item, data, hash);
  const parsed = Occurrence.safeParse(item);
  if (!parsed.success) throw validationError(parsed.error, item, ["events", index]);
  return toRow(parsed.data);
}

/** Throws a 400 naming the first problem of the checked events against `window`. */
export function refuseEventIssues(checker: SnapshotEventChecker, window: TimeWindow): void {
  const [issue] = checker.issues(window);
  if (!issue) return;
  const field = formatPath(issue.path);
  throw new HttpError(400, "invalid_field", `${field}: ${issue.message}`, field);
}

/**
 * Validates `body` (parsed JSON) as a snapshot. `knownHashes` are the content hashes the
 * source holds; throws a 400 `HttpError` naming the first bad field.
 */
export function prepareSnapshot(
  body: unknown,
  knownHashes: ReadonlySet<string> = new Set(),
): PreparedSnapshot {
  const envelope = SnapshotEnvelope.safeParse(body);
  if (!envelope.success) throw validationError(envelope.error, body);
  const checker = new SnapshotEventChecker();
  const rows = envelope.data.events.map((item, i) => {
    const row = eventRow(item, i, knownHashes);
    checker.add(row.key, row.start_ms, row.end_ms);
    return row;
  });
  refuseEventIssues(checker, envelope.data.window);
  const { window, generated_at, settings, warnings } = envelope.data;
  return { window, generated_at, settings, warnings, rows };
}
