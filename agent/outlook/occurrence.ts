/**
 * An Outlook item, as the script prints it, turned into a calsync occurrence. The script
 * passes Outlook's numbers through untouched; their meaning is settled here.
 *
 * @module
 */
import type { z } from "zod";
import { type Attendee, Occurrence, type OccurrenceInput } from "../../shared/model.ts";
import { addDays } from "../../shared/time.ts";
import { resolveZone, zoneOffset } from "../../shared/timezones.ts";
import { icalUidFromGlobalId } from "./global_id.ts";
import type { OutlookAttendee, OutlookItem } from "./output.ts";

const DAY_MS = 86_400_000;

/**
 * The longest description an occurrence may carry; a longer body is cut rather than
 * failing the whole calendar's snapshot.
 */
const MAX_DESCRIPTION = 262_144;

/** OlBusyStatus. */
const SHOW_AS: Partial<Record<number, Occurrence["show_as"]>> = {
  0: "free",
  1: "tentative",
  2: "busy",
  3: "oof",
  4: "elsewhere",
};

/** OlSensitivity: "personal" has no iCalendar counterpart and is kept from others. */
const SENSITIVITY: Partial<Record<number, Occurrence["sensitivity"]>> = {
  0: "normal",
  1: "private",
  2: "private",
  3: "confidential",
};

/** OlMeetingStatus values of a cancelled meeting (olMeetingCanceled, olMeetingReceivedAndCanceled). */
const CANCELLED = new Set([5, 7]);

/** OlRecurrenceState of an occurrence or an exception of a series. */
const IN_SERIES = new Set([2, 3]);

/** OlMeetingRecipientType. */
const ROLE: Partial<Record<number, z.input<typeof Attendee>["role"]>> = {
  1: "required",
  2: "optional",
  3: "non-participant",
};

/** OlResponseStatus of an attendee; the organizer counts as accepted. */
const ATTENDEE_STATUS: Partial<Record<number, z.input<typeof Attendee>["status"]>> = {
  0: "needs-action",
  1: "accepted",
  2: "tentative",
  3: "accepted",
  4: "declined",
  5: "needs-action",
};

/** OlResponseStatus of the calendar's owner. */
const RESPONSE: Partial<Record<number, NonNullable<Occurrence["response_status"]>>> = {
  1: "organizer",
  2: "tentative",
  3: "accepted",
  4: "declined",
};

/** OlResponseStatus olResponseOrganized: the recipient who organized the meeting. */
const ORGANIZED = 1;

/** How an item is read. */
export interface ItemOptions {
  /** Whether the body becomes the description. */
  includeBody: boolean;
  /** The zone all-day items are dated in when theirs is missing or unknown. */
  fallbackZone: string;
}

/**
 * The date of an all-day boundary in `zone`. Outlook keeps all-day items at local
 * midnight of their zone; rounding to the nearest midnight keeps the right date even
 * when the zone had to be guessed and is a few hours off.
 */
function dateIn(instant: string, zone: string): string {
  const millis = Date.parse(instant);
  const wall = millis + zoneOffset(zone, millis);
  return new Date(Math.round(wall / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
}

/** An address fit for an e-mail field; Exchange's internal X.500 names are not. */
function email(address: string): string {
  return address.includes("@") ? address : "";
}

function attendee(a: z.output<typeof OutlookAttendee>): z.input<typeof Attendee> {
  return {
    name: a.name,
    email: email(a.address),
    role: ROLE[a.type] ?? "required",
    status: ATTENDEE_STATUS[a.response] ?? "needs-action",
  };
}

/** The organizer by name, with the address of the recipient who organized, if listed. */
function organizer(item: OutlookItem): OccurrenceInput["organizer"] {
  if (item.organizer === "") return null;
  const listed = item.attendees.find((a) => a.response === ORGANIZED && a.name === item.organizer);
  return { name: item.organizer, email: listed ? email(listed.address) : "" };
}

/**
 * The occurrence an Outlook item stands for. Timed items keep their UTC instants and
 * their zone in IANA form; all-day items become plain dates in their own zone. An
 * occurrence or exception of a series is keyed by the start it had in the series.
 * Throws when the item breaks the event model (its end before its start, say).
 */
export function outlookOccurrence(item: OutlookItem, options: ItemOptions): Occurrence {
  const zone = resolveZone(item.start_time_zone) ?? null;
  const dateZone = zone ?? options.fallbackZone;
  const value = (instant: string) => item.all_day ? dateIn(instant, dateZone) : instant;
  const start = value(item.start_utc);
  const end = value(item.end_utc);
  // An occurrence that was not moved starts at its original start, which Outlook may
  // then leave out.
  const recurrenceId = IN_SERIES.has(item.recurrence_state)
    ? value(item.original_start_utc ?? item.start_utc)
    : null;
  return Occurrence.parse(
    {
      // The UID the same meeting has in ICS, CalDAV and EWS, so that it merges with them.
      uid: icalUidFromGlobalId(item.global_appointment_id),
      recurrence_id: recurrenceId,
      all_day: item.all_day,
      start,
      // An all-day item covers at least its first day, whatever its end says.
      end: item.all_day && end <= start ? addDays(start, 1) : end,
      timezone: zone,
      title: item.subject,
      location: item.location,
      description: options.includeBody ? (item.body ?? "").slice(0, MAX_DESCRIPTION) : "",
      status: CANCELLED.has(item.meeting_status) ? "cancelled" : "confirmed",
      show_as: SHOW_AS[item.busy_status] ?? "busy",
      sensitivity: SENSITIVITY[item.sensitivity] ?? "normal",
      categories: item.categories.map((c) => c.trim()).filter((c) => c !== ""),
      organizer: organizer(item),
      attendees: item.attendees.map(attendee),
      response_status: RESPONSE[item.response_status] ?? "none",
      last_modified: item.last_modification_utc,
    } satisfies OccurrenceInput,
  );
}
