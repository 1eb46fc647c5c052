/**
 * What `agent/outlook.ps1` prints: the contract between the PowerShell script on a
 * Windows PC and the agent. The script writes one UTF-8 JSON document to stdout; the
 * agent validates it with these schemas before trusting a single field. Enumerations
 * keep Outlook's own numbers (OlBusyStatus, OlSensitivity…) so the script does no
 * interpretation.
 *
 * @module
 */
import { z } from "zod";

const UtcInstant = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/, {
    error: "expected a UTC instant such as 2026-03-29T08:00:00Z",
  });

/** An attendee as Outlook's Recipient: Type 1 required, 2 optional, 3 resource. */
export const OutlookAttendee = z.object({
  name: z.string(),
  address: z.string(),
  type: z.number().int(),
  /** OlResponseStatus of that attendee. */
  response: z.number().int(),
});

/** One occurrence from `Items` with `IncludeRecurrences`, as the script emits it. */
export const OutlookItem = z.object({
  global_appointment_id: z.string().min(1),
  entry_id: z.string(),
  start_utc: UtcInstant,
  end_utc: UtcInstant,
  /** Windows zone ids (`W. Europe Standard Time`); empty when Outlook gives none. */
  start_time_zone: z.string(),
  end_time_zone: z.string(),
  all_day: z.boolean(),
  subject: z.string(),
  location: z.string(),
  /** Only when the source sets `include_body: true`; null otherwise. */
  body: z.string().nullable(),
  /** OlBusyStatus: 0 free, 1 tentative, 2 busy, 3 out of office, 4 working elsewhere. */
  busy_status: z.number().int(),
  /** OlSensitivity: 0 normal, 1 personal, 2 private, 3 confidential. */
  sensitivity: z.number().int(),
  /** Outlook's `Categories` split on the list separator. */
  categories: z.array(z.string()),
  /** OlMeetingStatus: 0 not a meeting, 1 meeting, 3 received, 5 canceled, 7 received and canceled. */
  meeting_status: z.number().int(),
  /** OlResponseStatus of the calendar's owner: 0 none, 1 organized, 2 tentative, 3 accepted, 4 declined, 5 not responded. */
  response_status: z.number().int(),
  organizer: z.string(),
  attendees: z.array(OutlookAttendee),
  last_modification_utc: UtcInstant.nullable(),
  /** OlRecurrenceState: 0 not recurring, 1 master, 2 occurrence, 3 exception. */
  recurrence_state: z.number().int(),
  /** The start the occurrence had in its series (for occurrences and exceptions). */
  original_start_utc: UtcInstant.nullable(),
});
/** One Outlook occurrence. */
export type OutlookItem = z.output<typeof OutlookItem>;

/** A calendar folder as the script reports it. */
export const OutlookCalendar = z.object({
  name: z.string(),
  /** `FolderPath`, such as `\\john@corp.example\Calendar\Team`: what `calendar_name` may be. */
  path: z.string(),
  store: z.string(),
  /** The mailbox owner for shared calendars, else the store's owner or empty. */
  owner: z.string(),
  item_count: z.number().int(),
  is_default: z.boolean(),
  /**
   * Another person's calendar opened through sharing (read with `owner`); listings before
   * this field have none.
   */
  shared: z.boolean().default(false),
  /** For a shared calendar: whether it is its owner's default one (`owner` alone reads it). */
  shared_default: z.boolean().default(false),
  /** Outlook's ids of the folder, which the agent hands back to open it without a search. */
  entry_id: z.string().default(""),
  store_id: z.string().default(""),
});
/** A calendar folder. */
export type OutlookCalendar = z.output<typeof OutlookCalendar>;

/** Why the script failed; `calendars` lists what exists when a calendar was not found. */
export const OutlookFailure = z.object({
  ok: z.literal(false),
  error: z.object({
    code: z.enum([
      "outlook_not_installed",
      "calendar_not_found",
      "access_denied",
      "permission_denied",
      "timeout",
      "failed",
    ]),
    message: z.string(),
    /** The COM or Windows error behind it, such as `0x80040102`; null when there is none. */
    hresult: z.string().regex(/^0x[0-9A-F]{8}$/).nullable().default(null),
    calendars: z.array(OutlookCalendar).optional(),
  }),
});

/** `-Mode read`: the occurrences of one calendar inside the window. */
export const OutlookReadOutput = z.discriminatedUnion("ok", [
  z.object({ ok: z.literal(true), calendar: OutlookCalendar, items: z.array(OutlookItem) }),
  OutlookFailure,
]);
/** What a read printed. */
export type OutlookReadOutput = z.output<typeof OutlookReadOutput>;

/** `-Mode list`: every calendar folder of every store. */
export const OutlookListOutput = z.discriminatedUnion("ok", [
  z.object({ ok: z.literal(true), calendars: z.array(OutlookCalendar) }),
  OutlookFailure,
]);
/** What a listing printed. */
export type OutlookListOutput = z.output<typeof OutlookListOutput>;
