/**
 * The events a view shows: single instances, and a series expanded into its `occurrence`s
 * and `exception`s (deleted occurrences left out), as "List calendarView"
 * (https://learn.microsoft.com/en-us/graph/api/user-list-calendarview?view=graph-rest-1.0)
 * describes; and the lookup of any of them by id.
 *
 * @module
 */
import type { Event, EventType } from "@microsoft/microsoft-graph-types";
import { type IdTarget, occurrenceId } from "./ids.ts";
import { durationOf, type Mailbox, seriesStarts, type StoredEvent } from "./store.ts";

/** One event as a view shows it. */
export interface Instance {
  id: string;
  event: StoredEvent;
  type: EventType;
  /** The occurrence's start in the series; null for a single instance or a master. */
  originalStartMs: number | null;
  startMs: number;
  endMs: number;
  /** The event's properties with the exception's changes applied. */
  fields: Event;
  changeKey: string;
  modifiedMs: number;
  seq: number;
}

/** Whether `[startMs, endMs)` shows in `[fromMs, toMs)` (zero-length events at their start). */
export function overlaps(startMs: number, endMs: number, fromMs: number, toMs: number): boolean {
  return startMs < toMs && (endMs > fromMs || (endMs === startMs && startMs >= fromMs));
}

/** The single instance or series master of a stored event. */
export function eventInstance(event: StoredEvent): Instance {
  return {
    id: event.id,
    event,
    type: event.fields.recurrence ? "seriesMaster" : "singleInstance",
    originalStartMs: null,
    startMs: event.startMs,
    endMs: event.endMs,
    fields: event.fields,
    changeKey: event.changeKey,
    modifiedMs: event.modifiedMs,
    seq: event.seq,
  };
}

/** The occurrence (or exception) of a series starting originally at `originalStartMs`. */
export function occurrence(event: StoredEvent, originalStartMs: number): Instance {
  const change = event.exceptions.get(originalStartMs);
  const base = {
    id: occurrenceId(event.mailbox, event.serial, originalStartMs),
    event,
    originalStartMs,
  };
  if (change) {
    return {
      ...base,
      type: "exception",
      startMs: change.startMs,
      endMs: change.endMs,
      fields: { ...event.fields, ...change.fields, recurrence: null },
      changeKey: change.changeKey,
      modifiedMs: change.modifiedMs,
      seq: Math.max(event.seq, change.seq),
    };
  }
  return {
    ...base,
    type: "occurrence",
    startMs: originalStartMs,
    endMs: originalStartMs + durationOf(event),
    fields: { ...event.fields, recurrence: null },
    changeKey: event.changeKey,
    modifiedMs: event.modifiedMs,
    seq: event.seq,
  };
}

/** The instances of one stored event overlapping `[fromMs, toMs)`. */
export function expand(event: StoredEvent, fromMs: number, toMs: number): Instance[] {
  if (!event.fields.recurrence) {
    return overlaps(event.startMs, event.endMs, fromMs, toMs) ? [eventInstance(event)] : [];
  }
  const found: Instance[] = [];
  for (const start of seriesStarts(event, fromMs, toMs)) {
    if (event.deletedOccurrences.has(start) || event.exceptions.has(start)) continue;
    found.push(occurrence(event, start));
  }
  // An exception may have moved anywhere, in or out of the window.
  for (const [start, change] of event.exceptions) {
    if (overlaps(change.startMs, change.endMs, fromMs, toMs)) found.push(occurrence(event, start));
  }
  return found;
}

/** The view of a calendar over `[fromMs, toMs)`, by start then id. */
export function calendarView(
  mailbox: Mailbox,
  calendarId: string,
  fromMs: number,
  toMs: number,
): Instance[] {
  return [...mailbox.events.values()]
    .filter((event) => event.calendarId === calendarId)
    .flatMap((event) => expand(event, fromMs, toMs))
    .sort((a, b) => a.startMs - b.startMs || a.id.localeCompare(b.id));
}

/** The instance an id names, or null when it names nothing (any more). */
export function instanceOf(mailbox: Mailbox, target: IdTarget): Instance | null {
  const event = mailbox.events.get(target.serial);
  if (!event || target.mailbox !== mailbox.upn) return null;
  if (target.kind === "event") return eventInstance(event);
  const start = target.originalStartMs;
  if (!event.fields.recurrence || event.deletedOccurrences.has(start)) return null;
  if (event.exceptions.has(start)) return occurrence(event, start);
  const hit = seriesStarts(event, start, start + 1).includes(start);
  return hit ? occurrence(event, start) : null;
}
