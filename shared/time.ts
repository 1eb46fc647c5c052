/**
 * Instants and dates as calsync writes them on the wire: UTC instants with second
 * precision (`2026-03-29T08:00:00Z`) and plain calendar dates (`2026-03-29`).
 *
 * @module
 */
import { z } from "zod";

const INSTANT_HINT = "an ISO 8601 instant such as 2026-03-29T08:00:00Z";
const DATE_HINT = "a calendar date such as 2026-03-29";

/** Formats a `Date` as a canonical UTC instant with second precision. */
export function toInstant(date: Date): string {
  return date.toISOString().slice(0, 19) + "Z";
}

const ISO_DATETIME = z.iso.datetime({ offset: true });

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Whether year-month-day names a day that exists in the Gregorian calendar. */
function dayExists(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]);
}

/** The number written by the ASCII digits `s[from..to)`, or -1 if any is not a digit. */
function digits(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** Whether `s[4]` and `s[7]` are the dashes of `YYYY-MM-DD` and that day exists. */
function isDayAtStart(s: string): boolean {
  if (s[4] !== "-" || s[7] !== "-") return false;
  const year = digits(s, 0, 4);
  return year >= 0 && dayExists(year, digits(s, 5, 7), digits(s, 8, 10));
}

/**
 * Whether `s` is an instant exactly as calsync writes it, `2026-03-29T08:00:00Z` (what
 * `toInstant` gives), on a day that exists. Checked by character so that the events of a
 * large snapshot, all in this form, cost no regular-expression matches.
 */
export function isCanonicalInstant(s: string): boolean {
  if (s.length !== 20 || s[10] !== "T" || s[13] !== ":" || s[16] !== ":" || s[19] !== "Z") {
    return false;
  }
  const hour = digits(s, 11, 13);
  const minute = digits(s, 14, 16);
  const second = digits(s, 17, 19);
  return hour >= 0 && hour <= 23 && minute >= 0 && minute <= 59 && second >= 0 &&
    second <= 59 && isDayAtStart(s);
}

/** Whether `s` is a calendar date `YYYY-MM-DD` that exists, as `PlainDate` accepts it. */
export function isPlainDate(s: string): boolean {
  return s.length === 10 && isDayAtStart(s);
}

/**
 * The canonical instant of an ISO 8601 date-time, or null when `s` is not one. Already
 * canonical input, what agents send, is checked without a round trip through `Date`.
 */
function canonicalInstant(s: string): string | null {
  if (isCanonicalInstant(s)) return s;
  if (!ISO_DATETIME.safeParse(s).success) return null;
  const [y, mo, d] = s.slice(0, 10).split("-").map(Number);
  return dayExists(y, mo, d) ? toInstant(new Date(s)) : null;
}

/** Accepts any ISO 8601 date-time with `Z` or an offset; outputs the canonical UTC instant. */
export const Instant = z
  .string({ error: `expected ${INSTANT_HINT}` })
  .transform((s, ctx) => {
    const instant = canonicalInstant(s);
    if (instant !== null) return instant;
    ctx.addIssue({ code: "custom", message: `expected ${INSTANT_HINT}` });
    return z.NEVER;
  });

/** A calendar date `YYYY-MM-DD` that exists in the Gregorian calendar. */
export const PlainDate = z.iso.date({ error: `expected ${DATE_HINT}` });

/**
 * A plain date (kept as is) or an instant (made canonical): the value of a field that
 * holds either, such as an occurrence's start.
 */
export const DateOrInstant = z
  .string({ error: `expected ${INSTANT_HINT} or ${DATE_HINT}` })
  .transform((s, ctx) => {
    if (s.length === 10 && PlainDate.safeParse(s).success) return s;
    const instant = s.length > 10 ? canonicalInstant(s) : null;
    if (instant !== null) return instant;
    ctx.addIssue({ code: "custom", message: `expected ${INSTANT_HINT} or ${DATE_HINT}` });
    return z.NEVER;
  });

/** Adds whole days to a `YYYY-MM-DD` date. */
export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/**
 * Milliseconds since the epoch for an instant or a date. A date counts from its UTC
 * midnight, which is how calsync places all-day events against a sync window.
 */
export function toMillis(value: string): number {
  return Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value);
}
