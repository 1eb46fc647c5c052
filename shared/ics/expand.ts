/**
 * Expanding events into occurrences inside a window: a series (RRULE, RDATE, EXDATE) and
 * its overrides (RECURRENCE-ID) become one record per occurrence, keyed by the original
 * start of each occurrence so that moving one keeps its key.
 *
 * @module
 */
import { type Occurrence, overlaps, type TimeWindow } from "../model.ts";
import { toInstant } from "../time.ts";
import type { EventData } from "./event.ts";
import { expandRule } from "./rrule.ts";
import { type ReadWarning, readWarning } from "../warnings.ts";
import { addDuration, dateString, type Duration, instantOf, type Moment } from "./values.ts";

const DAY_MS = 86_400_000;
/** More than any UTC offset: wall-clock bounds widened by it cover every zone. */
const SLACK_MS = 2 * DAY_MS;

/** The `recurrence_id` form of a start: a date for all-day series, else a UTC instant. */
function recurrenceKey(moment: Moment): string {
  return moment.zone ? toInstant(new Date(instantOf(moment))) : dateString(moment.wall);
}

function build(
  event: EventData,
  start: Moment,
  span: Duration,
  recurrenceId: string | null,
): Occurrence {
  const allDay = start.zone === null;
  return {
    uid: event.uid,
    recurrence_id: recurrenceId,
    all_day: allDay,
    start: allDay ? dateString(start.wall) : toInstant(new Date(instantOf(start))),
    end: allDay
      ? dateString(start.wall + span.days * DAY_MS)
      : toInstant(new Date(addDuration(start, span))),
    timezone: event.timezone,
    ...event.details,
  };
}

/** Every start of a series near the range: DTSTART, RRULE and RDATE, minus EXDATE. */
function seriesStarts(master: EventData, range: TimeWindow): { start: Moment; span: Duration }[] {
  const spanMs = master.span.days * DAY_MS + master.span.exactMs;
  const from = Date.parse(range.start) - spanMs - SLACK_MS;
  const to = Date.parse(range.end) + SLACK_MS;
  const starts = [{ start: master.start, span: master.span }];
  if (master.rule) {
    for (const wall of expandRule(master.rule, master.start, from, to)) {
      starts.push({ start: { wall, zone: master.start.zone }, span: master.span });
    }
  }
  for (const extra of master.rdates) {
    starts.push({ start: extra.start, span: extra.span ?? master.span });
  }
  const excludedInstants = new Set(master.exdates.filter((m) => m.zone).map(instantOf));
  // A DATE in EXDATE removes that day, also from a timed series; an all-day series
  // compares days whatever the EXDATE's type.
  const excludedDays = new Set(
    master.exdates.filter((m) => !m.zone || !master.start.zone).map((m) => dateString(m.wall)),
  );
  if (master.exdates.length === 0) return starts;
  return starts.filter(({ start }) =>
    !excludedDays.has(dateString(start.wall)) &&
    !(start.zone && excludedInstants.has(instantOf(start)))
  );
}

/** The master's own occurrences, minus those that an override replaces. */
function masterOccurrences(master: EventData, overridden: Set<string>, range: TimeWindow) {
  if (!master.rule && master.rdates.length === 0) {
    return [build(master, master.start, master.span, null)];
  }
  const occurrences: Occurrence[] = [];
  const seen = new Set<string>();
  for (const { start, span } of seriesStarts(master, range)) {
    const key = recurrenceKey(start);
    if (seen.has(key) || overridden.has(key)) continue;
    seen.add(key);
    occurrences.push(build(master, start, span, key));
  }
  return occurrences;
}

/**
 * The occurrences of a set of events that overlap `range`. Events sharing a UID form one
 * series: the one without RECURRENCE-ID is the master, the others override occurrences.
 * A series that cannot be expanded, or a second master, is left out with a warning.
 */
export function expandEvents(
  events: EventData[],
  range: TimeWindow,
  warnings: ReadWarning[],
): Occurrence[] {
  const byUid = new Map<string, EventData[]>();
  for (const event of events) {
    const group = byUid.get(event.uid);
    if (group) group.push(event);
    else byUid.set(event.uid, [event]);
  }
  const occurrences: Occurrence[] = [];
  for (const [uid, group] of byUid) {
    const overrides = group.filter((e) => e.recurrenceId !== null);
    const [master, ...duplicates] = group.filter((e) => e.recurrenceId === null);
    for (const duplicate of duplicates) {
      warnings.push(readWarning(
        "duplicate-event",
        `VEVENT at line ${duplicate.line} (UID ${uid}) skipped: the VEVENT at line ${master.line} already has this UID without RECURRENCE-ID`,
        duplicate.line,
      ));
    }
    const overridden = new Set(overrides.map((e) => recurrenceKey(e.recurrenceId!)));
    for (const override of overrides) {
      occurrences.push(
        build(override, override.start, override.span, recurrenceKey(override.recurrenceId!)),
      );
    }
    if (!master) continue;
    try {
      for (const o of masterOccurrences(master, overridden, range)) occurrences.push(o);
    } catch (error) {
      warnings.push(readWarning(
        "event-skipped",
        `VEVENT at line ${master.line} (UID ${uid}) skipped: ${(error as Error).message}`,
        master.line,
      ));
    }
  }
  return occurrences.filter((o) => overlaps(o, range));
}
