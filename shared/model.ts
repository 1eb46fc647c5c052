/**
 * The event model: one record per occurrence, as described in ARCHITECTURE.md.
 *
 * A recurring series arrives expanded; each occurrence is keyed inside its source by
 * `(uid, recurrence_id)`. Timed occurrences carry UTC instants plus the original IANA
 * zone; all-day occurrences carry plain dates that no zone ever shifts, with an exclusive
 * end as in iCalendar (a one-day event on 2026-03-29 ends on 2026-03-30).
 *
 * @module
 */
import { z } from "zod";
import { DateOrInstant, Instant, toMillis } from "./time.ts";

/**
 * The longest text and the most items each field of an occurrence may hold: the schema
 * below enforces them, and `isCanonicalOccurrence` checks the same numbers.
 */
export const OCCURRENCE_LIMITS = {
  uid: 1024,
  timezone: 128,
  title: 4096,
  location: 4096,
  description: 262_144,
  categories: 64,
  category: 256,
  attendees: 2000,
  /** A person's name or email. */
  person: 512,
} as const;

const LIMITS = OCCURRENCE_LIMITS;

/** Someone named on an event: organizer or attendee. */
export const Person = z.object({
  name: z.string().max(LIMITS.person).default(""),
  email: z.string().max(LIMITS.person).default(""),
});

/** An attendee's part in a meeting. */
export const AttendeeRole = z.enum(["chair", "required", "optional", "non-participant"]);

/** An attendee's answer to a meeting. */
export const ParticipationStatus = z.enum([
  "needs-action",
  "accepted",
  "declined",
  "tentative",
  "delegated",
]);

/** An attendee with role and participation status. */
export const Attendee = Person.extend({
  role: AttendeeRole.default("required"),
  status: ParticipationStatus.default("needs-action"),
});

/** How the event shows on a free/busy view. */
export const ShowAs = z.enum(["free", "tentative", "busy", "oof", "elsewhere"]);

/** Sensitivity as Outlook and iCalendar CLASS express it. */
export const Sensitivity = z.enum(["normal", "private", "confidential"]);

/** Lifecycle status of an occurrence. */
export const EventStatus = z.enum(["confirmed", "tentative", "cancelled"]);

/**
 * The calendar owner's answer to a meeting, where the source knows it (Outlook, EWS):
 * `organizer` for their own meetings, `none` when they have not answered.
 */
export const ResponseStatus = z.enum(["none", "organizer", "accepted", "tentative", "declined"]);

/** The first year an occurrence may lie in, as the master's date parameters accept. */
export const FIRST_YEAR = 1900;
/** The last year an occurrence may lie in. */
export const LAST_YEAR = 2200;

const EARLIEST = Date.UTC(FIRST_YEAR, 0, 1);
const AFTER_LATEST = Date.UTC(LAST_YEAR + 1, 0, 1);

/**
 * Whether an instant or date lies in the years `FIRST_YEAR`-`LAST_YEAR` in UTC. Checked
 * after normalisation because an offset can carry `9999-12-31T23:00:00-14:00` past year
 * 9999, which would store as `+010000-…` and break text order.
 */
export function inYearRange(value: string): boolean {
  const ms = toMillis(value);
  return ms >= EARLIEST && ms < AFTER_LATEST;
}

/** One occurrence of an event, validated and normalised. */
export const Occurrence = z
  .object({
    uid: z.string().min(1, { error: "uid must not be empty" }).max(LIMITS.uid),
    recurrence_id: DateOrInstant.nullable().default(null),
    all_day: z.boolean().default(false),
    start: DateOrInstant,
    end: DateOrInstant,
    timezone: z.string().max(LIMITS.timezone).nullable().default(null),
    title: z.string().max(LIMITS.title).default(""),
    location: z.string().max(LIMITS.location).default(""),
    description: z.string().max(LIMITS.description).default(""),
    status: EventStatus.default("confirmed"),
    show_as: ShowAs.default("busy"),
    sensitivity: Sensitivity.default("normal"),
    categories: z.array(z.string().max(LIMITS.category)).max(LIMITS.categories).default([]),
    organizer: Person.nullable().default(null),
    attendees: z.array(Attendee).max(LIMITS.attendees).default([]),
    response_status: ResponseStatus.nullable().default(null),
    last_modified: Instant.nullable().default(null),
  })
  .superRefine((o, ctx) => {
    const isDate = (v: string) => v.length === 10;
    for (const field of ["start", "end", "recurrence_id"] as const) {
      const value = o[field];
      if (value !== null && !inYearRange(value)) {
        ctx.addIssue({
          code: "custom",
          path: [field],
          message: `${field} must lie in the years ${FIRST_YEAR}-${LAST_YEAR} (UTC); got ${value}`,
        });
        return;
      }
    }
    for (const field of ["start", "end"] as const) {
      if (isDate(o[field]) !== o.all_day) {
        ctx.addIssue({
          code: "custom",
          path: [field],
          message: o.all_day
            ? `an all-day event needs ${field} as a date such as 2026-03-29`
            : `a timed event needs ${field} as an instant such as 2026-03-29T08:00:00Z (or set all_day: true)`,
        });
        return;
      }
    }
    // Both are canonical and of one form here, so text order is time order.
    if (o.end < o.start) {
      ctx.addIssue({ code: "custom", path: ["end"], message: "end must not be before start" });
    }
  });

/** A validated, normalised occurrence. */
export type Occurrence = z.output<typeof Occurrence>;
/** An occurrence as a sender may write it (defaults may be left out). */
export type OccurrenceInput = z.input<typeof Occurrence>;

/** A half-open time range `[start, end)` of UTC instants. */
export const TimeWindow = z
  .object({ start: Instant, end: Instant })
  .refine((w) => Date.parse(w.end) > Date.parse(w.start), {
    path: ["end"],
    error: "end must be after start",
  });

/** A validated time window. */
export type TimeWindow = z.output<typeof TimeWindow>;

/**
 * The key of an occurrence inside its source, `(uid, recurrence_id)` as JSON text: no
 * separator character can collide with a UID, and it stores safely as SQL text.
 */
export function occurrenceKey(o: Pick<Occurrence, "uid" | "recurrence_id">): string {
  return JSON.stringify([o.uid, o.recurrence_id]);
}

/**
 * The bounds of an occurrence in epoch milliseconds, as windows see it: an all-day date
 * counts from UTC midnight and a zero-length occurrence still occupies its start instant.
 */
export function occurrenceBounds(o: Pick<Occurrence, "start" | "end">): [number, number] {
  const start = toMillis(o.start);
  return [start, Math.max(toMillis(o.end), start + 1)];
}

/** Whether an occurrence overlaps the half-open window `[start, end)`. */
export function overlaps(
  o: Pick<Occurrence, "start" | "end">,
  window: { start: string; end: string },
): boolean {
  const [start, end] = occurrenceBounds(o);
  return start < toMillis(window.end) && end > toMillis(window.start);
}
