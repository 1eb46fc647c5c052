/**
 * Turns a snapshot body into a `PreparedSnapshot`. An event whose JSON is byte for byte
 * one the source already holds was validated when it was stored, so only new or changed
 * events go through the zod schema: an unchanged resend costs a hash per event. Agents
 * send events as the schema outputs them, which is what makes them byte-identical.
 *
 * @module
 */
import { Occurrence } from "../../shared/model.ts";
import { SnapshotEnvelope, snapshotEventIssues } from "../../shared/protocol.ts";
import { sha256Hex } from "../../shared/hash.ts";
import { formatPath } from "../../shared/json_path.ts";
import { HttpError, validationError } from "../http/errors.ts";
import { type OccurrenceRow, type PreparedSnapshot, toRow } from "./plan.ts";

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
  const rows: OccurrenceRow[] = envelope.data.events.map((item, i) => {
    if (knownHashes.size > 0) {
      const data = JSON.stringify(item);
      const hash = sha256Hex(data);
      if (knownHashes.has(hash)) return toRow(item as Occurrence, data, hash);
    }
    const parsed = Occurrence.safeParse(item);
    if (!parsed.success) throw validationError(parsed.error, item, ["events", i]);
    return toRow(parsed.data);
  });
  const [issue] = snapshotEventIssues(rows.map((r) => r.event), envelope.data.window);
  if (issue) {
    const field = formatPath(issue.path);
    throw new HttpError(400, "invalid_field", `${field}: ${issue.message}`, field);
  }
  const { window, generated_at, settings, warnings } = envelope.data;
  return { window, generated_at, settings, warnings, rows };
}
