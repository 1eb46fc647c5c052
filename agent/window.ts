/**
 * The sync window an agent reads its sources in.
 *
 * @module
 */
import type { TimeWindow } from "../shared/model.ts";
import { addDays, toInstant } from "../shared/time.ts";

/** How far the window reaches around today, in whole days. */
export interface WindowSpan {
  /** Days before today's UTC midnight. */
  past_days: number;
  /** Days after today's UTC midnight. */
  future_days: number;
}

/**
 * The window `[today 00:00Z − past_days, today 00:00Z + future_days)`. Aligning to the UTC
 * day keeps the window, and so the snapshot of an unchanged calendar, identical for the
 * whole day, which lets the agent skip re-uploading it.
 */
export function syncWindow(now: Date, span: WindowSpan): TimeWindow {
  const today = toInstant(now).slice(0, 10);
  return {
    start: `${addDays(today, -span.past_days)}T00:00:00Z`,
    end: `${addDays(today, span.future_days)}T00:00:00Z`,
  };
}
