/**
 * The dates and instants the master's query parameters accept: the years `FIRST_YEAR` to
 * `LAST_YEAR`, as for stored occurrences. Outside them no event can exist, and a page or
 * range around year 0 or 9999 costs seconds to lay out or breaks `Date` arithmetic.
 *
 * @module
 */
import { FIRST_YEAR, LAST_YEAR } from "../../shared/model.ts";
import { Instant, PlainDate } from "../../shared/time.ts";

const EARLIEST = Date.UTC(FIRST_YEAR, 0, 1);
const AFTER_LATEST = Date.UTC(LAST_YEAR + 1, 0, 1);

/** What an out-of-range value is told, so the message names the range and the fix. */
const OUT_OF_RANGE =
  `must lie in the years ${FIRST_YEAR}-${LAST_YEAR} (UTC); pick a date inside them`;

/** Whether a canonical instant or a plain date lies in the supported years (one parse). */
function supported(value: string): boolean {
  const ms = Date.parse(value);
  return ms >= EARLIEST && ms < AFTER_LATEST;
}

/** An instant query parameter (`start`, `end`) in the supported years. */
export const QueryInstant = Instant.refine(supported, { error: OUT_OF_RANGE });

/** A plain date query parameter (the page's `date`) in the supported years. */
export const QueryDate = PlainDate.refine(supported, { error: OUT_OF_RANGE });
