/**
 * Reading a Graph `event` (a single instance, an occurrence or an exception, as a
 * calendarView returns them; "event resource type",
 * https://learn.microsoft.com/en-us/graph/api/resources/event?view=graph-rest-1.0) as a
 * calsync occurrence, keyed as the EWS and Outlook sources key the same meeting: the
 * series' iCalendar UID and the occurrence's original start.
 *
 * Graph's `iCalUId` differs for each occurrence of a series, so occurrences and exceptions
 * take the UID of their series master (`seriesMasterId`), which the caller looks up.
 *
 * @module
 */
import type {
  Attendee as GraphAttendee,
  DateTimeTimeZone,
  Event,
} from "@microsoft/microsoft-graph-types";
import { Occurrence, type OccurrenceInput } from "../model.ts";
import { toInstant } from "../time.ts";
import { resolveZone, wallMillis, zonedToUtc, zoneOffset } from "../timezones.ts";
import { type ReadWarning, readWarning } from "../warnings.ts";

const SHOW_AS: Record<string, Occurrence["show_as"]> = {
  free: "free",
  tentative: "tentative",
  busy: "busy",
  oof: "oof",
  workingElsewhere: "elsewhere",
};

const SENSITIVITY: Record<string, Occurrence["sensitivity"]> = {
  normal: "normal",
  personal: "private",
  private: "private",
  confidential: "confidential",
};

const ATTENDEE_STATUS: Record<string, Occurrence["attendees"][number]["status"]> = {
  accepted: "accepted",
  organizer: "accepted",
  tentativelyAccepted: "tentative",
  declined: "declined",
};

const ATTENDEE_ROLE: Record<string, Occurrence["attendees"][number]["role"]> = {
  required: "required",
  optional: "optional",
  resource: "non-participant",
};

const MY_RESPONSE: Record<string, NonNullable<Occurrence["response_status"]>> = {
  organizer: "organizer",
  accepted: "accepted",
  tentativelyAccepted: "tentative",
  declined: "declined",
};

/** `2026-12-01T09:00:00.0000000` as its parts; null when it is not that. */
function wallParts(dateTime: string) {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d))?/.exec(dateTime);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1).map((v) => Number(v ?? 0));
  return { year, month, day, hour, minute, second };
}

/** A `dateTimeTimeZone` as epoch ms; null when it cannot be read. */
function instantOf(value: DateTimeTimeZone | null | undefined): number | null {
  const parts = value?.dateTime ? wallParts(value.dateTime) : null;
  if (parts === null) return null;
  const zone = resolveZone(value?.timeZone ?? "UTC");
  if (zone === undefined) return null;
  return zone === "UTC" || zone === "Etc/UTC"
    ? wallMillis(parts)
    : zonedToUtc(parts, zone).getTime();
}

/** The calendar date of an instant in an IANA zone. */
function dateIn(millis: number, zone: string): string {
  return new Date(millis + zoneOffset(zone, millis)).toISOString().slice(0, 10);
}

function attendeesOf(list: GraphAttendee[] | null | undefined): OccurrenceInput["attendees"] {
  return (list ?? []).map((a) => ({
    name: a.emailAddress?.name ?? "",
    email: a.emailAddress?.address ?? "",
    role: ATTENDEE_ROLE[a.type ?? "required"] ?? "required",
    status: ATTENDEE_STATUS[a.status?.response ?? "none"] ?? "needs-action",
  }));
}

/** Options of {@link readGraphEvent}. */
export interface ReadGraphEventOptions {
  /** The iCalendar UID of the series an occurrence or exception belongs to. */
  seriesUid: string | null;
  /** Whether to keep the body as the description. */
  includeBody: boolean;
}

/**
 * The occurrence a Graph event stands for (null for a cancelled one, which the calendar
 * does not show), and what was repaired on the way. Throws when the event has no usable
 * start or end.
 */
export function readGraphEvent(
  event: Event,
  options: ReadGraphEventOptions,
): { occurrence: Occurrence | null; warnings: ReadWarning[] } {
  const warnings: ReadWarning[] = [];
  if (event.isCancelled) return { occurrence: null, warnings };
  const id = event.id ?? "(no id)";
  const start = instantOf(event.start);
  let end = instantOf(event.end);
  if (start === null || end === null) {
    throw new Error(
      `the event has no readable start or end (${JSON.stringify(event.start)} – ` +
        `${JSON.stringify(event.end)})`,
    );
  }
  if (end < start) {
    warnings.push(readWarning("timing-repaired", `${id}: end before start; made zero-length`));
    end = start;
  }
  const named = event.originalStartTimeZone ?? null;
  let zone = named === null ? null : resolveZone(named) ?? null;
  if (named !== null && zone === null) {
    warnings.push(
      readWarning("timezone-unknown", `${id}: zone "${named}" is not known; times kept in UTC`),
    );
  }
  if (zone === "Etc/UTC") zone = "UTC";
  const allDay = event.isAllDay === true;
  // An all-day event keeps its midnights in its own zone whatever outlook.timezone asks,
  // so its dates are read as written.
  const dateOf = (value: DateTimeTimeZone | null | undefined) => value!.dateTime!.slice(0, 10);
  const inSeries = event.type === "occurrence" || event.type === "exception";
  const originalStart = inSeries && event.originalStart ? Date.parse(event.originalStart) : null;
  let uid = inSeries ? options.seriesUid : null;
  uid ||= event.iCalUId ?? null;
  if (!uid) {
    warnings.push(readWarning("missing-uid", `${id}: no iCalUId; the Graph id stands in`));
    uid = event.id ?? null;
  }
  if (!uid) throw new Error("the event has neither iCalUId nor id");
  const organizer = event.organizer?.emailAddress;
  const modified = event.lastModifiedDateTime ? Date.parse(event.lastModifiedDateTime) : NaN;
  const response = event.responseStatus?.response;
  const occurrence = Occurrence.parse(
    {
      uid,
      recurrence_id: originalStart === null || Number.isNaN(originalStart)
        ? null
        : allDay
        ? dateIn(originalStart, zone ?? "UTC")
        : toInstant(new Date(originalStart)),
      all_day: allDay,
      start: allDay ? dateOf(event.start) : toInstant(new Date(start)),
      end: allDay ? dateOf(event.end) : toInstant(new Date(end)),
      timezone: zone,
      title: event.subject ?? "",
      location: event.location?.displayName ?? "",
      description: options.includeBody ? event.body?.content ?? "" : "",
      status: "confirmed",
      show_as: SHOW_AS[event.showAs ?? "busy"] ?? "busy",
      sensitivity: SENSITIVITY[event.sensitivity ?? "normal"] ?? "normal",
      categories: event.categories ?? [],
      organizer: organizer ? { name: organizer.name ?? "", email: organizer.address ?? "" } : null,
      attendees: attendeesOf(event.attendees),
      response_status: response ? MY_RESPONSE[response] ?? "none" : null,
      last_modified: Number.isNaN(modified) ? null : toInstant(new Date(modified)),
    } satisfies OccurrenceInput,
  );
  return { occurrence, warnings };
}
