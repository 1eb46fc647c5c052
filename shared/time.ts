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

/** Accepts any ISO 8601 date-time with `Z` or an offset; outputs the canonical UTC instant. */
export const Instant = z
  .string({ error: `expected ${INSTANT_HINT}` })
  .refine((s) => z.iso.datetime({ offset: true }).safeParse(s).success, {
    error: `expected ${INSTANT_HINT}`,
  })
  .transform((s) => toInstant(new Date(s)));

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
    if (s.length > 10 && z.iso.datetime({ offset: true }).safeParse(s).success) {
      return toInstant(new Date(s));
    }
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
