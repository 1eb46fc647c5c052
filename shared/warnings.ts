/**
 * What a source reader repaired or skipped, in a form that can be counted, sent with a
 * snapshot and shown to the admin: a reason code, the line it concerns and a sentence.
 *
 * @module
 */
import { z } from "zod";

/**
 * Why a warning was raised. Each names one kind of repair or skip, so that an admin can
 * see at a glance whether a feed lost events (`event-skipped`) or only needed mending.
 */
export const WarningReason = z.enum([
  /** A VEVENT had no UID; one was derived from its content. */
  "missing-uid",
  /** A TZID was no known zone; it was mapped from its name or offset. */
  "timezone-guessed",
  /** A TZID could not be mapped; its times were read as floating. */
  "timezone-unknown",
  /** Two VEVENTs claimed one occurrence; the newer (SEQUENCE, then LAST-MODIFIED) won. */
  "duplicate-event",
  /** A content line could not be read and was left out; its component was kept. */
  "malformed-line",
  /** A property value could not be read and was left out or replaced by its default. */
  "malformed-value",
  /** DTSTART, DTEND or DURATION disagreed and were reconciled as major clients do. */
  "timing-repaired",
  /** Text after END:VCALENDAR was ignored. */
  "trailing-data",
  /** A whole event (or item, or calendar object) could not be used and was left out. */
  "event-skipped",
]);
/** A warning reason code. */
export type WarningReason = z.output<typeof WarningReason>;

/** One repair or skip. */
export const ReadWarning = z.object({
  reason: WarningReason,
  /** 1-based line in the source file or object it concerns, when there is one. */
  line: z.number().int().positive().nullable().default(null),
  /** A readable sentence naming what was found and what was done. */
  message: z.string().max(2000),
});
/** A validated warning. */
export type ReadWarning = z.output<typeof ReadWarning>;

/** How many samples a summary keeps: enough to show, few enough to send every pass. */
export const WARNING_SAMPLES = 20;

/** Warnings of one source reading, counted per reason, with the first few as samples. */
export const WarningSummary = z.object({
  /** Every warning of the reading. */
  count: z.number().int().min(0),
  /** Counts per reason code; reasons without a warning are left out. */
  by_reason: z.partialRecord(WarningReason, z.number().int().min(0)),
  /** The first warnings, in reading order. */
  samples: z.array(ReadWarning).max(WARNING_SAMPLES),
});
/** A validated warning summary. */
export type WarningSummary = z.output<typeof WarningSummary>;

/** A fresh summary of no warnings (fresh: callers may add to it). */
export function noWarnings(): WarningSummary {
  return { count: 0, by_reason: {}, samples: [] };
}

/** Builds a warning; `message` should say what was found and what was done about it. */
export function readWarning(
  reason: WarningReason,
  message: string,
  line: number | null = null,
): ReadWarning {
  return { reason, line, message: message.length > 2000 ? `${message.slice(0, 1999)}…` : message };
}

/** Counts `warnings` per reason and keeps the first {@link WARNING_SAMPLES}. */
export function summarizeWarnings(warnings: readonly ReadWarning[]): WarningSummary {
  const byReason: Partial<Record<WarningReason, number>> = {};
  for (const w of warnings) byReason[w.reason] = (byReason[w.reason] ?? 0) + 1;
  return {
    count: warnings.length,
    by_reason: byReason,
    samples: warnings.slice(0, WARNING_SAMPLES),
  };
}

/** Prefixes a warning's message with where it was found (a file, a URL, an href). */
export function locatedWarning(origin: string, warning: ReadWarning): ReadWarning {
  return readWarning(warning.reason, `${origin}: ${warning.message}`, warning.line);
}

/** A warning as one log line: `[reason] message`. */
export function formatWarning(warning: ReadWarning): string {
  return `[${warning.reason}] ${warning.message}`;
}
