/**
 * Series expansion as Exchange's calendar view does it: occurrences follow the RRULE in
 * the series' own zone (09:00 Berlin stays 09:00 across a DST change), keep the master's
 * duration (whole days for all-day series), skip deleted occurrences and take the fields of
 * modified ones, which may have moved anywhere.
 *
 * @module
 */
import rrulePkg from "rrule";
import type { ItemFields, ItemView, StoredItem } from "./model.ts";
import { instantOf, wallClock } from "./timezones.ts";

const { RRule } = rrulePkg;
const DAY_MS = 86_400_000;

/** `rrule` expands in "floating" time: a wall-clock time stored in a Date's UTC fields. */
function floating(wall: Temporal.PlainDateTime): Date {
  return new Date(
    Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second),
  );
}

function unfloat(date: Date): Temporal.PlainDateTime {
  return Temporal.PlainDateTime.from(date.toISOString().slice(0, 19));
}

/** Whether an RRULE (without DTSTART) is one this server can expand. */
export function isValidRrule(rrule: string): boolean {
  try {
    return RRule.parseString(rrule).freq !== undefined;
  } catch {
    return false;
  }
}

/** The series' rule in floating time, starting at the master's wall-clock start. */
function floatingRule(item: StoredItem) {
  const { start, startTimeZone } = item.fields;
  const options = RRule.parseString(item.recurrence!.rrule);
  options.dtstart = floating(wallClock(start, startTimeZone));
  if (options.until) options.until = floating(wallClock(options.until.getTime(), startTimeZone));
  return new RRule(options);
}

/** The original starts (epoch ms) of a series' occurrences that lie in `[from, to]`. */
export function occurrenceStarts(item: StoredItem, from: number, to: number): number[] {
  // Widened by two days on each side: floating times differ from instants by the offset.
  return floatingRule(item)
    .between(new Date(from - 2 * DAY_MS), new Date(to + 2 * DAY_MS), true)
    .map((date) => instantOf(unfloat(date), item.fields.startTimeZone))
    .filter((instant) => instant >= from && instant <= to);
}

/** The original start of the series' `index`th occurrence (from 1), as `InstanceIndex`. */
export function nthOccurrenceStart(item: StoredItem, index: number): number | null {
  const dates = floatingRule(item).all((_date, count) => count < index);
  return index >= 1 && dates.length === index
    ? instantOf(unfloat(dates[index - 1]), item.fields.startTimeZone)
    : null;
}

/** The end of the occurrence that starts at `start`, keeping the master's duration. */
function occurrenceEnd(fields: ItemFields, start: number): number {
  if (!fields.isAllDay) return start + (fields.end - fields.start);
  const days = wallClock(fields.start, fields.startTimeZone).toPlainDate()
    .until(wallClock(fields.end, fields.startTimeZone).toPlainDate()).days;
  return instantOf(wallClock(start, fields.startTimeZone).add({ days }), fields.startTimeZone);
}

/** An item as itself: a single appointment or a recurring master. */
export function itemView(item: StoredItem): ItemView {
  return {
    item,
    type: item.recurrence ? "RecurringMaster" : "Single",
    fields: item.fields,
    originalStart: null,
    changeNumber: item.changeNumber,
    lastModified: item.lastModified,
  };
}

/**
 * One occurrence of a series by its original start; null when the series has no such
 * occurrence. A deleted occurrence is returned as `"deleted"`.
 */
export function occurrenceView(
  item: StoredItem,
  originalStart: number,
): ItemView | "deleted" | null {
  const recurrence = item.recurrence;
  if (!recurrence) return null;
  const exception = recurrence.exceptions.get(originalStart);
  if (!exception && !occurrenceStarts(item, originalStart, originalStart).includes(originalStart)) {
    return null;
  }
  if (recurrence.deleted.has(originalStart)) return "deleted";
  const fields = {
    ...item.fields,
    start: originalStart,
    end: occurrenceEnd(item.fields, originalStart),
    ...exception?.fields,
  };
  return {
    item,
    type: exception ? "Exception" : "Occurrence",
    fields,
    originalStart,
    changeNumber: Math.max(item.changeNumber, exception?.changeNumber ?? 0),
    lastModified: Math.max(item.lastModified, exception?.lastModified ?? 0),
  };
}

/** Whether an item's time overlaps `[from, to)`, as the calendar view decides it. */
function overlaps(fields: ItemFields, from: number, to: number): boolean {
  return fields.start < to && (fields.end > from || fields.start === from);
}

/** What a calendar view of `[from, to)` shows of one stored item, in start order. */
export function viewsInRange(item: StoredItem, from: number, to: number): ItemView[] {
  if (!item.recurrence) return overlaps(item.fields, from, to) ? [itemView(item)] : [];
  const duration = occurrenceEnd(item.fields, item.fields.start) - item.fields.start;
  const candidates = new Set([
    ...occurrenceStarts(item, from - duration - DAY_MS, to),
    ...item.recurrence.exceptions.keys(),
  ]);
  const views: ItemView[] = [];
  for (const originalStart of candidates) {
    const view = occurrenceView(item, originalStart);
    if (view && view !== "deleted" && overlaps(view.fields, from, to)) views.push(view);
  }
  return views.sort((a, b) => a.fields.start - b.fields.start);
}
