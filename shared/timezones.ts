/**
 * Time zone names and wall-clock arithmetic.
 *
 * Calendars name zones in several ways: IANA names (`Europe/Berlin`), Windows names as
 * Outlook and Exchange write them (`W. Europe Standard Time`), and IANA names behind a
 * vendor prefix (`/mozilla.org/20050126_1/Europe/Berlin`). {@link resolveZone} turns all
 * of them into an IANA name; {@link zonedToUtc} turns a wall-clock time in such a zone
 * into an instant, with the RFC 5545 rules for times that a DST change skips or repeats.
 *
 * @module
 */
import { WINDOWS_TO_IANA_MAP } from "windows-iana";

/** A wall-clock time: what a clock on the wall in some zone shows. Months count from 1. */
export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** The UTC offset in milliseconds (east of Greenwich positive) in force at an instant. */
export type OffsetAt = (utcMillis: number) => number;

const DAY_MS = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat | null>();

/** A cached formatter for an IANA zone, or null when the runtime does not know the zone. */
function formatterFor(zone: string): Intl.DateTimeFormat | null {
  let formatter = formatters.get(zone);
  if (formatter === undefined) {
    try {
      formatter = new Intl.DateTimeFormat("en-US", {
        timeZone: zone,
        hourCycle: "h23",
        year: "numeric",
        month: "numeric",
        day: "numeric",
        hour: "numeric",
        minute: "numeric",
        second: "numeric",
      });
    } catch {
      formatter = null;
    }
    formatters.set(zone, formatter);
  }
  return formatter;
}

const windowsZones = new Map<string, string>(
  WINDOWS_TO_IANA_MAP.filter((entry) => entry.territory === "001").map((
    entry,
  ) => [entry.windowsName.toLowerCase(), entry.iana[0]]),
);

/** The IANA spelling of a name the runtime accepts, or undefined. */
function ianaName(name: string): string | undefined {
  const formatter = formatterFor(name);
  if (formatter === null) return undefined;
  const canonical = formatter.resolvedOptions().timeZone;
  // Keep aliases such as Asia/Kolkata as written (the runtime would swap in its own
  // canonical spelling); only fix the letter case of a name written in the wrong case.
  return canonical.toLowerCase() === name.toLowerCase() ? canonical : name;
}

/**
 * Whether `zone` is an IANA zone name this runtime knows. Nothing is cached: the name may
 * come from a request, and a cache of every name ever asked would grow without bound.
 */
export function isKnownZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * The IANA zone for a TZID as calendars write it: an IANA name, a Windows zone name
 * (mapped through CLDR's default "001" territory), a quoted name, or a name behind a
 * vendor prefix such as `/mozilla.org/20050126_1/Europe/Berlin`. Undefined when unknown.
 */
export function resolveZone(tzid: string): string | undefined {
  const name = tzid.trim().replace(/^"(.*)"$/, "$1").trim();
  if (name === "") return undefined;
  const parts = name.split("/");
  // Prefixed forms end in the zone name: try the whole name, then ever shorter tails, so
  // that three-part names such as America/Argentina/Buenos_Aires win over their last part
  // and Exchange's "tzone://Microsoft/Utc" still ends in a name.
  for (let i = 0; i < parts.length; i++) {
    const tail = parts.slice(i).join("/");
    const zone = ianaName(tail) ?? windowsZones.get(tail.toLowerCase());
    if (zone !== undefined) return zone;
  }
  return undefined;
}

/** The offset an Intl formatter reports for an instant, at whole seconds. */
function formattedOffset(formatter: Intl.DateTimeFormat, utcMillis: number): number {
  const seconds = Math.floor(utcMillis / 1000) * 1000;
  const fields: Record<string, number> = {};
  for (const part of formatter.formatToParts(seconds)) {
    if (part.type !== "literal") fields[part.type] = Number(part.value);
  }
  const wall = Date.UTC(
    fields.year,
    fields.month - 1,
    fields.day,
    fields.hour,
    fields.minute,
    fields.second,
  );
  return wall - seconds;
}

/** Offset changes of one zone within one UTC year, and the offset the year starts with. */
interface YearOffsets {
  initial: number;
  changes: { at: number; offset: number }[];
}

const yearTables = new Map<string, Map<number, YearOffsets>>();

/**
 * Finds a year's offset changes: a daily sample shows where the offset changes, and a
 * bisection to the second finds when. Asking Intl once per lookup instead costs a few
 * microseconds each, which dominates expanding thousands of occurrences.
 */
function yearOffsets(zone: string, formatter: Intl.DateTimeFormat, year: number): YearOffsets {
  let tables = yearTables.get(zone);
  if (!tables) yearTables.set(zone, tables = new Map());
  let table = tables.get(year);
  if (table) return table;
  const start = Date.UTC(year, 0, 1);
  const end = Date.UTC(year + 1, 0, 1);
  table = { initial: formattedOffset(formatter, start), changes: [] };
  let previous = table.initial;
  for (let day = start + DAY_MS; day <= end; day += DAY_MS) {
    const offset = formattedOffset(formatter, day);
    if (offset === previous) continue;
    let low = day - DAY_MS;
    let high = day;
    while (high - low > 1000) {
      const middle = low + Math.floor((high - low) / 2000) * 1000;
      if (formattedOffset(formatter, middle) === previous) low = middle;
      else high = middle;
    }
    table.changes.push({ at: high, offset });
    previous = offset;
  }
  tables.set(year, table);
  return table;
}

/** The UTC offset of an IANA zone at an instant, in milliseconds east of Greenwich. */
export function zoneOffset(zone: string, utcMillis: number): number {
  const formatter = formatterFor(zone);
  if (formatter === null) throw new RangeError(`unknown time zone "${zone}"`);
  const table = yearOffsets(zone, formatter, new Date(utcMillis).getUTCFullYear());
  let offset = table.initial;
  for (const change of table.changes) {
    if (change.at > utcMillis) break;
    offset = change.offset;
  }
  return offset;
}

/**
 * Milliseconds of a wall-clock time counted as if it were UTC. Calendar arithmetic on
 * these numbers ("add one day", "next Monday") is plain arithmetic, free of DST.
 */
export function wallMillis(local: WallTime): number {
  const date = new Date(0);
  date.setUTCFullYear(local.year, local.month - 1, local.day);
  date.setUTCHours(local.hour, local.minute, local.second, 0);
  return date.getTime();
}

/**
 * The instant of a wall-clock time (given as {@link wallMillis}) in a zone described by
 * its offsets. A time that a DST change skips is read with the offset before the gap, so
 * it moves forward by the gap (RFC 5545 §3.3.5); a time that occurs twice is the first.
 */
export function wallToUtc(wall: number, offsetAt: OffsetAt): number {
  // Offsets a day either side are the ones around any transition near this wall time;
  // the larger offset gives the earlier instant, so trying it first picks the first of
  // two repeated times.
  const before = offsetAt(wall - DAY_MS);
  const after = offsetAt(wall + DAY_MS);
  for (const offset of before >= after ? [before, after] : [after, before]) {
    if (offsetAt(wall - offset) === offset) return wall - offset;
  }
  return wall - before;
}

/**
 * The instant of a wall-clock time in an IANA zone. In a DST gap the time moves forward
 * (02:30 on 2026-03-29 in Europe/Berlin is 03:30 CEST = 01:30Z); a repeated time is its
 * first occurrence (02:30 on 2026-10-25 in Europe/Berlin is 02:30 CEST = 00:30Z).
 */
export function zonedToUtc(local: WallTime, zone: string): Date {
  if (formatterFor(zone) === null) throw new RangeError(`unknown time zone "${zone}"`);
  return new Date(wallToUtc(wallMillis(local), (t) => zoneOffset(zone, t)));
}
