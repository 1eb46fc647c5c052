/**
 * A source's warnings as the stores keep them: the `WarningSummary` of its last applied
 * snapshot, as JSON.
 *
 * @module
 */
import { noWarnings, WarningSummary } from "../../shared/warnings.ts";

/**
 * The summary stored as `json`; none when absent (a source that never sent a snapshot,
 * or one stored before warnings were kept) or unreadable, which must not hide the source.
 */
export function storedWarnings(json: string | undefined | null): WarningSummary {
  if (json === undefined || json === null) return noWarnings();
  try {
    return WarningSummary.parse(JSON.parse(json));
  } catch {
    return noWarnings();
  }
}
