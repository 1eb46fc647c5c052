/**
 * Turns a configured source into a validated snapshot, and hashes snapshots so an
 * unchanged source need not be uploaded again.
 *
 * @module
 */
import { contentHash } from "../shared/hash.ts";
import { type Occurrence, occurrenceKey, overlaps, type TimeWindow } from "../shared/model.ts";
import { Snapshot } from "../shared/protocol.ts";
import { toInstant, toMillis } from "../shared/time.ts";
import { formatPath } from "../shared/json_path.ts";
import { type ReadWarning, readWarning, summarizeWarnings } from "../shared/warnings.ts";
import type { ConfiguredSource } from "./config.ts";
import type { FetchLike } from "./http.ts";
import type { SourceRegistry } from "./sources/mod.ts";

/** A source's snapshot and what was noticed while reading it. */
export interface SourceSnapshot {
  /** The validated snapshot, events in a stable order. */
  snapshot: Snapshot;
  /** Repairs and skips while reading, for the log and the master. */
  warnings: ReadWarning[];
}

/** What reading a source needs. */
export interface ReadOptions {
  /** Source types by name. */
  registry: SourceRegistry;
  /** The sync window. */
  window: TimeWindow;
  /** Folder of the config file. */
  configDir: string;
  /** HTTP access. */
  fetch: FetchLike;
  /** Stamped as `generated_at`. */
  now: Date;
}

function byStartThenKey(a: Occurrence, b: Occurrence): number {
  const key = (o: Occurrence) => occurrenceKey(o);
  return toMillis(a.start) - toMillis(b.start) || (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
}

/**
 * Reads `source` and builds its snapshot. Events are sorted so a feed that merely
 * reorders its entries hashes the same; a repeated occurrence is dropped with a warning
 * rather than failing the whole source, as broken feeds do repeat UIDs.
 */
export async function readSourceSnapshot(
  source: ConfiguredSource,
  options: ReadOptions,
): Promise<SourceSnapshot> {
  const sourceType = options.registry.get(source.type);
  if (sourceType === undefined) throw new Error(`unknown source type "${source.type}"`);
  const reading = await sourceType.read(source.settings, {
    window: options.window,
    configDir: options.configDir,
    fetch: options.fetch,
  });
  const warnings = [...reading.warnings];
  const seen = new Set<string>();
  const events: Occurrence[] = [];
  for (const occurrence of reading.occurrences) {
    if (!overlaps(occurrence, options.window)) continue;
    const key = occurrenceKey(occurrence);
    if (seen.has(key)) {
      const rid = occurrence.recurrence_id === null ? "" : ` (${occurrence.recurrence_id})`;
      warnings.push(
        readWarning(
          "duplicate-event",
          `uid ${occurrence.uid}${rid} appears more than once; kept the first`,
        ),
      );
      continue;
    }
    seen.add(key);
    events.push(occurrence);
  }
  events.sort(byStartThenKey);
  const parsed = Snapshot.safeParse({
    window: options.window,
    generated_at: toInstant(options.now),
    settings: source.display,
    warnings: summarizeWarnings(warnings),
    events,
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const index = issue.path[0] === "events" ? issue.path[1] : undefined;
    const uid = typeof index === "number" ? ` (uid ${events[index]?.uid})` : "";
    throw new Error(
      `the source gave invalid data at ${formatPath(issue.path)}${uid}: ${issue.message}`,
    );
  }
  return { snapshot: parsed.data, warnings };
}

/**
 * Hash of what a snapshot says, `{window, settings, warnings, events}`; `generated_at` is
 * left out. Settings count: changing a source's privacy or label must reach the master;
 * so do warnings, so that the master shows those of the latest reading.
 */
export function snapshotHash(snapshot: Snapshot): string {
  const { window, settings, warnings, events } = snapshot;
  return contentHash({ window, settings, warnings, events });
}

/**
 * From how many events a source that suddenly reads none is held back: fewer is a
 * calendar that plausibly emptied itself (the last meeting of a small calendar ended).
 */
export const MANY_EVENTS = 5;

/** What the agent knows when deciding whether an empty reading may be uploaded. */
export interface EmptyReadingContext {
  /** Events in the last snapshot of this source the master accepted; null: none known. */
  acceptedEvents: number | null;
  /** The admin said the calendar was really emptied (`agent once --allow-empty`). */
  allowEmpty: boolean;
}

/**
 * Why a reading must not be uploaded, or null when it may be. A reading with no events is
 * refused when every event was skipped (a broken feed), or when the last accepted
 * snapshot held {@link MANY_EVENTS} or more (a feed that came back empty by mistake):
 * uploading it would delete every copy from the destinations.
 */
export function emptyReadingProblem(
  reading: SourceSnapshot,
  context: EmptyReadingContext,
): string | null {
  if (reading.snapshot.events.length > 0) return null;
  const skipped = reading.warnings.find((w) => w.reason === "event-skipped");
  if (skipped !== undefined) {
    return `all events were skipped: ${skipped.message}; not uploaded, so the destinations ` +
      "keep the events sent before";
  }
  const before = context.acceptedEvents;
  if (before !== null && before >= MANY_EVENTS && !context.allowEmpty) {
    return `source went from ${before} events to none; not uploaded, so the destinations ` +
      "keep them. If the calendar was really emptied, run `agent once --allow-empty` " +
      "(on Windows `.\\agent.exe once --allow-empty`) once to send the empty calendar";
  }
  return null;
}
