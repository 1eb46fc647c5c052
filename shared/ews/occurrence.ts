/**
 * Reading an Exchange appointment (a single, an occurrence or an exception, as a
 * CalendarView returns them) as a calsync occurrence.
 *
 * @module
 */
import { ews } from "./library.ts";
import { Occurrence, type OccurrenceInput } from "../model.ts";
import { toInstant } from "../time.ts";
import { zoneOffset } from "../timezones.ts";
import { ianaOf } from "./zones.ts";

/** The properties {@link readOccurrence} needs; the body only when asked for. */
export function occurrenceProperties(includeBody: boolean): ews.PropertySet {
  const set = new ews.PropertySet(ews.BasePropertySet.IdOnly, [
    ews.AppointmentSchema.Subject,
    ews.AppointmentSchema.Location,
    ews.AppointmentSchema.Start,
    ews.AppointmentSchema.End,
    ews.AppointmentSchema.StartTimeZone,
    ews.AppointmentSchema.IsAllDayEvent,
    ews.AppointmentSchema.LegacyFreeBusyStatus,
    ews.AppointmentSchema.Sensitivity,
    ews.AppointmentSchema.Categories,
    ews.AppointmentSchema.Organizer,
    ews.AppointmentSchema.RequiredAttendees,
    ews.AppointmentSchema.OptionalAttendees,
    ews.AppointmentSchema.ICalUid,
    ews.AppointmentSchema.ICalRecurrenceId,
    ews.AppointmentSchema.OriginalStart,
    ews.AppointmentSchema.AppointmentType,
    ews.AppointmentSchema.IsCancelled,
    ews.AppointmentSchema.LastModifiedTime,
    ews.AppointmentSchema.MyResponseType,
  ]);
  if (includeBody) {
    set.Add(ews.AppointmentSchema.Body);
    set.RequestedBodyType = ews.BodyType.Text;
  }
  return set;
}

/**
 * A property's value, or null when the server did not send it: the library throws when
 * a property is read that the answer lacked (OriginalStart of a single, for one).
 */
function optional<T>(read: () => T): T | null {
  try {
    return read() ?? null;
  } catch {
    return null;
  }
}

const SHOW_AS: Partial<Record<number, Occurrence["show_as"]>> = {
  [ews.LegacyFreeBusyStatus.Free]: "free",
  [ews.LegacyFreeBusyStatus.Tentative]: "tentative",
  [ews.LegacyFreeBusyStatus.Busy]: "busy",
  [ews.LegacyFreeBusyStatus.OOF]: "oof",
  [ews.LegacyFreeBusyStatus.WorkingElsewhere]: "elsewhere",
};

const SENSITIVITY: Record<number, Occurrence["sensitivity"]> = {
  [ews.Sensitivity.Normal]: "normal",
  [ews.Sensitivity.Personal]: "private",
  [ews.Sensitivity.Private]: "private",
  [ews.Sensitivity.Confidential]: "confidential",
};

const ATTENDEE_STATUS: Partial<Record<number, Occurrence["attendees"][number]["status"]>> = {
  [ews.MeetingResponseType.Accept]: "accepted",
  [ews.MeetingResponseType.Organizer]: "accepted",
  [ews.MeetingResponseType.Tentative]: "tentative",
  [ews.MeetingResponseType.Decline]: "declined",
};

const MY_RESPONSE: Partial<Record<number, NonNullable<Occurrence["response_status"]>>> = {
  [ews.MeetingResponseType.Organizer]: "organizer",
  [ews.MeetingResponseType.Accept]: "accepted",
  [ews.MeetingResponseType.Tentative]: "tentative",
  [ews.MeetingResponseType.Decline]: "declined",
};

/** The calendar date of an instant in an IANA zone. */
function dateIn(millis: number, zone: string): string {
  return new Date(millis + zoneOffset(zone, millis)).toISOString().slice(0, 10);
}

function millisOf(value: ews.DateTime | null): number | null {
  return value === null ? null : value.TotalMilliSeconds;
}

function attendees(
  collection: ews.AttendeeCollection | null,
  role: "required" | "optional",
): NonNullable<OccurrenceInput["attendees"]> {
  return (collection?.GetEnumerator() ?? []).map((a) => ({
    name: a.Name ?? "",
    email: a.Address ?? "",
    role,
    status: ATTENDEE_STATUS[a.ResponseType as number] ?? "needs-action",
  }));
}

/**
 * The occurrence an appointment loaded with {@link occurrenceProperties} stands for.
 * Times are UTC instants with the appointment's zone mapped to IANA; an all-day
 * appointment becomes plain dates in its own zone (Exchange keeps its midnights there),
 * so it never shifts. Throws when the appointment lacks a start or an end.
 */
export function readOccurrence(appointment: ews.Appointment, includeBody: boolean): Occurrence {
  const a = appointment;
  const start = millisOf(optional(() => a.Start));
  const end = millisOf(optional(() => a.End));
  if (start === null || end === null) throw new Error("the appointment has no start or end");
  const zone = ianaOf(optional(() => a.StartTimeZone));
  const allDay = optional(() => a.IsAllDayEvent) === true;
  const asValue = (millis: number) =>
    allDay ? dateIn(millis, zone ?? "UTC") : toInstant(new Date(millis));
  const type = optional(() => a.AppointmentType);
  const inSeries = type === ews.AppointmentType.Occurrence ||
    type === ews.AppointmentType.Exception;
  const originalStart = inSeries
    ? millisOf(optional(() => a.OriginalStart) ?? optional(() => a.ICalRecurrenceId))
    : null;
  const organizer = optional(() => a.Organizer);
  const modified = millisOf(optional(() => a.LastModifiedTime));
  const response = optional(() => a.MyResponseType);
  return Occurrence.parse(
    {
      uid: optional(() => a.ICalUid) || a.Id.UniqueId,
      recurrence_id: originalStart === null ? null : asValue(originalStart),
      all_day: allDay,
      start: asValue(start),
      end: asValue(Math.max(end, start)),
      timezone: zone,
      title: optional(() => a.Subject) ?? "",
      location: optional(() => a.Location) ?? "",
      description: includeBody ? optional(() => a.Body?.Text) ?? "" : "",
      status: optional(() => a.IsCancelled) ? "cancelled" : "confirmed",
      show_as: SHOW_AS[optional(() => a.LegacyFreeBusyStatus) ?? -1] ?? "busy",
      sensitivity: SENSITIVITY[optional(() => a.Sensitivity) ?? -1] ?? "normal",
      categories: optional(() => a.Categories?.GetEnumerator()) ?? [],
      organizer: organizer ? { name: organizer.Name ?? "", email: organizer.Address ?? "" } : null,
      attendees: [
        ...attendees(optional(() => a.RequiredAttendees), "required"),
        ...attendees(optional(() => a.OptionalAttendees), "optional"),
      ],
      response_status: response === null ? null : MY_RESPONSE[response] ?? "none",
      last_modified: modified === null ? null : toInstant(new Date(modified)),
    } satisfies OccurrenceInput,
  );
}
