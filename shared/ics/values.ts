/**
 * Typed property values of RFC 5545 §3.3: DATE, DATE-TIME, PERIOD, DURATION and TEXT
 * lists. Times are kept as wall-clock milliseconds plus the zone that gives them meaning,
 * because recurrence rules run on the wall clock and only the result becomes an instant.
 *
 * @module
 */
import { convertIcsText } from "ts-ics";
import { type OffsetAt, wallToUtc } from "../timezones.ts";

/** A zone that turns wall-clock times into instants. */
export interface Zone {
  /** The IANA name, "UTC", or null when only offsets are known (a custom VTIMEZONE). */
  name: string | null;
  offsetAt: OffsetAt;
}

/**
 * A DATE or DATE-TIME value: wall-clock milliseconds (see `wallMillis`) and, for a
 * DATE-TIME, its zone. A DATE has no zone: it is the same calendar day everywhere.
 */
export interface Moment {
  wall: number;
  zone: Zone | null;
}

/** Finds the zone of a DATE-TIME: `utc` for a `Z` suffix, else its TZID or floating (null). */
export type ZoneLookup = (tzid: string | null, utc: boolean) => Zone;

/** A nominal duration: days move the wall clock, `exactMs` adds elapsed time. */
export interface Duration {
  days: number;
  exactMs: number;
}

const DAY_MS = 86_400_000;
const DATE = /^(\d{4})(\d{2})(\d{2})$/;
/** Seconds may be missing or carry a fraction: producers write both, clients accept both. */
const DATE_TIME = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})?(?:[.,]\d+)?(Z?)$/i;
const EXTENDED = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2})?(?:[.,]\d+)?Z?)?$/i;
/**
 * RFC 5545 durations, plus weeks combined with days or written after the T (`PT1W`), which
 * Outlook and some feeds produce and the major parsers read as weeks.
 */
const DURATION =
  /^([+-])?P(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)W)?(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/i;

/** The instant of a moment; a DATE counts from its UTC midnight, as calsync places it. */
export function instantOf(moment: Moment): number {
  return moment.zone ? wallToUtc(moment.wall, moment.zone.offsetAt) : moment.wall;
}

/** `YYYY-MM-DD` of a wall time. */
export function dateString(wall: number): string {
  return new Date(wall).toISOString().slice(0, 10);
}

function checkedWall(
  y: string,
  mo: string,
  d: string,
  h = "0",
  mi = "0",
  s = "0",
): number | undefined {
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number);
  const date = new Date(Date.UTC(2000, month - 1, day, hour, minute, Math.min(second, 59)));
  date.setUTCFullYear(year);
  const valid = date.getUTCMonth() === month - 1 && date.getUTCDate() === day &&
    hour < 24 && minute < 60 && second <= 60;
  return valid ? date.getTime() : undefined;
}

/**
 * Parses one DATE or DATE-TIME value. `VALUE=DATE` or an 8-digit value makes a DATE.
 * Throws a message naming the property when the text is no such value.
 */
export function parseMoment(
  text: string,
  params: Map<string, string[]>,
  property: string,
  lookup: ZoneLookup,
): Moment {
  const written = text.trim();
  // ISO 8601's extended form (`2026-03-29T09:00:00Z`), which some feeds write, is the
  // basic form with separators.
  const value = EXTENDED.test(written) ? written.replace(/[-:]/g, "") : written;
  const type = params.get("VALUE")?.[0]?.toUpperCase();
  const date = DATE.exec(value);
  // Eight digits are a date whatever VALUE claims: no clock time can be made up for them.
  if (date) {
    const wall = checkedWall(date[1], date[2], date[3]);
    if (wall !== undefined) return { wall, zone: null };
  }
  const dateTime = DATE_TIME.exec(value);
  if (dateTime) {
    const [, y, mo, d, h, mi, s = "0", z] = dateTime;
    // `VALUE=DATE` on a date-time value: the date part is what the producer meant.
    if (type === "DATE") return parseMoment(`${y}${mo}${d}`, params, property, lookup);
    const wall = checkedWall(y, mo, d, h, mi, s);
    if (wall !== undefined) {
      const tzid = params.get("TZID")?.join(",") ?? null;
      return { wall, zone: lookup(z === "" ? tzid : null, z !== "") };
    }
  }
  const expected = type === "DATE"
    ? "a date such as 20260329"
    : "a date-time such as 20260329T090000";
  throw new Error(`${property} "${written}" is not ${expected}`);
}

/** Parses a comma-separated list of DATE or DATE-TIME values (EXDATE, RDATE). */
export function parseMomentList(
  text: string,
  params: Map<string, string[]>,
  property: string,
  lookup: ZoneLookup,
): Moment[] {
  return text.split(",").filter((v) => v.trim() !== "").map((v) =>
    parseMoment(v, params, property, lookup)
  );
}

/** A DURATION value and whether it was negative. */
export interface SignedDuration extends Duration {
  negative: boolean;
}

/**
 * Parses a DURATION value such as `PT1H30M`, `P1D` or `PT1W`. Throws a message naming the
 * property when the text is no duration; a negative one is returned with `negative` set.
 */
export function parseDuration(text: string, property: string): SignedDuration {
  const value = text.trim();
  const match = DURATION.exec(value);
  if (!match || /P$|T$/i.test(value)) {
    throw new Error(`${property} "${value}" is not a duration such as PT1H30M`);
  }
  const [, sign, weeks, days, timeWeeks, hours, minutes, seconds] = match.map((part, i) =>
    i <= 1 ? part : Number(part ?? 0)
  ) as [string, string | undefined, number, number, number, number, number, number];
  return {
    negative: sign === "-",
    days: (weeks + timeWeeks) * 7 + days,
    exactMs: ((hours * 60 + minutes) * 60 + seconds) * 1000,
  };
}

/** The instant a duration after a start: days on the wall clock, then elapsed time. */
export function addDuration(start: Moment, duration: Duration): number {
  return instantOf({ wall: start.wall + duration.days * DAY_MS, zone: start.zone }) +
    duration.exactMs;
}

/** Unescapes a TEXT value (`\n`, `\,`, `\;`, `\\`). */
export function unescapeText(value: string): string {
  return convertIcsText(undefined, { value });
}

/** Splits a TEXT list on unescaped commas and unescapes each item. */
export function splitTextList(value: string): string[] {
  return (value.match(/(?:\\.|[^,\\])+/g) ?? []).map(unescapeText);
}
