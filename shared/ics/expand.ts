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

/** Every start of a series near the range: DTSTART, RRULEs and RDATE, minus EXDATE. */
function seriesStarts(master: EventData, range: TimeWindow): { start: Moment; span: Duration }[] {
  const spanMs = master.span.days * DAY_MS + master.span.exactMs;
  const from = Date.parse(range.start) - spanMs - SLACK_MS;
  const to = Date.parse(range.end) + SLACK_MS;
  const starts = [{ start: master.start, span: master.span }];
  for (const rule of master.rules) {
    for (const wall of expandRule(rule, master.start, from, to)) {
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

/**
 * The key an override's RECURRENCE-ID refers to, in the terms of its master. Outlook and
 * Exchange give moved occurrences of all-day series a DATE-TIME RECURRENCE-ID (midnight
 * in some zone, or that midnight in UTC): it names the day nearest to it. A DATE on a
 * timed series names the occurrence at the series' time of day.
 */
function overrideKey(override: EventData, master: EventData | undefined): string {
  const rid = override.recurrenceId!;
  if (!master) return recurrenceKey(rid);
  if (master.start.zone === null) {
    return dateString(Math.round(rid.wall / DAY_MS) * DAY_MS);
  }
  if (rid.zone === null) {
    const timeOfDay = ((master.start.wall % DAY_MS) + DAY_MS) % DAY_MS;
    return recurrenceKey({ wall: rid.wall + timeOfDay, zone: master.start.zone });
  }
  return recurrenceKey(rid);
}

/** Whether `a` is a later revision than `b`: higher SEQUENCE, then later LAST-MODIFIED. */
function newer(a: EventData, b: EventData): boolean {
  return a.sequence !== b.sequence ? a.sequence > b.sequence : a.revisedAt > b.revisedAt;
}

/** The newest of VEVENTs that claim the same occurrence; the others are reported. */
function newest(
  claims: EventData[],
  what: string,
  warnings: ReadWarning[],
): EventData {
  const winner = claims.reduce((best, e) => (newer(e, best) ? e : best));
  for (const loser of claims) {
    if (loser === winner) continue;
    warnings.push(readWarning(
      "duplicate-event",
      `VEVENT at line ${loser.line} (UID ${loser.uid}${what}, SEQUENCE ${loser.sequence}) ` +
        `left out: the VEVENT at line ${winner.line} (SEQUENCE ${winner.sequence}) is newer ` +
        "or came first",
      loser.line,
    ));
  }
  return winner;
}

/** An override that also moves every later occurrence (RANGE=THISANDFUTURE). */
interface RangeOverride {
  from: number;
  shiftMs: number;
  event: EventData;
}

/** The master's own occurrences, minus those that an override replaces. */
function masterOccurrences(
  master: EventData,
  overridden: Set<string>,
  ranges: RangeOverride[],
  range: TimeWindow,
): Occurrence[] {
  if (master.rules.length === 0 && master.rdates.length === 0) {
    return overridden.has(recurrenceKey(master.start))
      ? []
      : [build(master, master.start, master.span, null)];
  }
  const occurrences: Occurrence[] = [];
  const seen = new Set<string>();
  for (const { start, span } of seriesStarts(master, range)) {
    const key = recurrenceKey(start);
    if (seen.has(key) || overridden.has(key)) continue;
    seen.add(key);
    const at = instantOf(start);
    const change = ranges.findLast((r) => r.from < at);
    if (change) {
      // RFC 5545 §3.8.4.4: later instances take the override's shift, length and details.
      const moved = { wall: start.wall + change.shiftMs, zone: start.zone };
      occurrences.push(build({ ...change.event, uid: master.uid }, moved, change.event.span, key));
    } else {
      occurrences.push(build(master, start, span, key));
    }
  }
  return occurrences;
}

/**
 * The occurrences of a set of events that overlap `range`. Events sharing a UID form one
 * series: the one without RECURRENCE-ID is the master, the others override occurrences.
 * Where several VEVENTs claim the same master or occurrence, the highest SEQUENCE (then
 * the latest LAST-MODIFIED or DTSTAMP, then the first in the file) wins, with a warning.
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
    const masters = group.filter((e) => e.recurrenceId === null);
    const master = masters.length > 0 ? newest(masters, "", warnings) : undefined;
    const claims = new Map<string, EventData[]>();
    for (const override of group.filter((e) => e.recurrenceId !== null)) {
      const key = overrideKey(override, master);
      claims.set(key, [...(claims.get(key) ?? []), override]);
    }
    const ranges: RangeOverride[] = [];
    for (const [key, claim] of claims) {
      const override = newest(claim, `, RECURRENCE-ID ${key}`, warnings);
      occurrences.push(build(override, override.start, override.span, key));
      if (override.thisAndFuture) {
        ranges.push({
          from: instantOf(override.recurrenceId!),
          shiftMs: instantOf(override.start) - instantOf(override.recurrenceId!),
          event: override,
        });
      }
    }
    if (!master) continue;
    ranges.sort((a, b) => a.from - b.from);
    try {
      const overridden = new Set(claims.keys());
      for (const o of masterOccurrences(master, overridden, ranges, range)) occurrences.push(o);
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
