/**
 * The body of "Create event"
 * (https://learn.microsoft.com/en-us/graph/api/user-post-events?view=graph-rest-1.0) and
 * "Update event" (https://learn.microsoft.com/en-us/graph/api/event-update?view=graph-rest-1.0)
 * read as Graph reads it: a property the `event` type does not have is refused the way
 * OData refuses it, read-only properties are ignored, enumerations must hold one of their
 * members, `dateTimeTimeZone` zones must be known, and an all-day event must start and end
 * at midnight ("event resource type", `isAllDay`).
 *
 * @module
 */
import type {
  Event,
  FreeBusyStatus,
  Importance,
  SingleValueLegacyExtendedProperty,
} from "@microsoft/microsoft-graph-types";
import { badRequest } from "./errors.ts";
import { validateRecurrence } from "./recurrence.ts";
import { instantOf, UnknownZone } from "./zones.ts";

/** Properties a client may write. */
const WRITABLE: (keyof Event)[] = [
  "subject",
  "body",
  "start",
  "end",
  "isAllDay",
  "location",
  "locations",
  "attendees",
  "categories",
  "showAs",
  "sensitivity",
  "importance",
  "isReminderOn",
  "reminderMinutesBeforeStart",
  "recurrence",
  "transactionId",
  "responseRequested",
  "allowNewTimeProposals",
  "hideAttendees",
  "isOnlineMeeting",
  "isCancelled",
  "originalStartTimeZone",
  "originalEndTimeZone",
];

/** Properties Graph returns but ignores on write. */
const READ_ONLY: (keyof Event)[] = [
  "id",
  "changeKey",
  "createdDateTime",
  "lastModifiedDateTime",
  "iCalUId",
  "type",
  "seriesMasterId",
  "originalStart",
  "organizer",
  "isOrganizer",
  "webLink",
  "bodyPreview",
  "hasAttachments",
  "responseStatus",
  "onlineMeetingUrl",
  "onlineMeeting",
  "onlineMeetingProvider",
  "isDraft",
];

const ENUMS: Partial<Record<keyof Event, { type: string; members: string[] }>> = {
  showAs: {
    type: "freeBusyStatus",
    members: [
      "unknown",
      "free",
      "tentative",
      "busy",
      "oof",
      "workingElsewhere",
    ] satisfies FreeBusyStatus[],
  },
  sensitivity: {
    type: "sensitivity",
    members: ["normal", "personal", "private", "confidential"],
  },
  importance: { type: "importance", members: ["low", "normal", "high"] satisfies Importance[] },
};

const EXTENDED_ID =
  /^(String|Integer|Boolean|SystemTime|Double|Binary|Long|Short|Float)\s+(\{[0-9a-f-]{36}\}\s+(Name|Id)\s+\S.*|0x[0-9a-f]{4})$/i;

/** An event body, checked and split into Graph fields and extended properties. */
export interface EventBody {
  fields: Event;
  /** Undefined when the body does not set extended properties. */
  extended?: SingleValueLegacyExtendedProperty[];
}

const unknownProperty = (name: string) =>
  badRequest(
    `The property '${name}' does not exist on type 'microsoft.graph.event'. Make sure to only ` +
      "use property names that are defined by the type or mark the type as open type.",
    "RequestBodyRead",
  );

/** Reads a create or update body. */
export function readEventBody(body: Record<string, unknown>): EventBody {
  const fields: Record<string, unknown> = {};
  let extended: SingleValueLegacyExtendedProperty[] | undefined;
  for (const [name, value] of Object.entries(body)) {
    if (name.startsWith("@odata.")) continue;
    if (name === "singleValueExtendedProperties") {
      extended = readExtended(value);
      continue;
    }
    if ((READ_ONLY as string[]).includes(name)) continue;
    if (!(WRITABLE as string[]).includes(name)) throw unknownProperty(name);
    const enumeration = ENUMS[name as keyof Event];
    if (enumeration && !enumeration.members.includes(value as string)) {
      throw badRequest(
        `Cannot convert the literal '${value}' to the expected type ` +
          `'microsoft.graph.${enumeration.type}'.`,
        "RequestBodyRead",
      );
    }
    fields[name] = value;
  }
  const event = fields as Event;
  if (event.recurrence) validateRecurrence(event.recurrence);
  return extended === undefined ? { fields: event } : { fields: event, extended };
}

function readExtended(value: unknown): SingleValueLegacyExtendedProperty[] {
  if (!Array.isArray(value)) {
    throw badRequest("singleValueExtendedProperties must be an array.", "RequestBodyRead");
  }
  return value.map((entry) => {
    const { id, value: text } = (entry ?? {}) as SingleValueLegacyExtendedProperty;
    if (typeof id !== "string" || !EXTENDED_ID.test(id.trim()) || typeof text !== "string") {
      throw badRequest(
        `The extended property id '${id}' is not valid: use '{type} {guid} Name {name}' or ` +
          "'{type} {proptag}', with a string value.",
        "ErrorInvalidProperty",
      );
    }
    return { id: id.trim(), value: text };
  });
}

/** The instants of an event's `start` and `end`, checked (zones known, order, all-day midnights). */
export function timesOf(fields: Event): { startMs: number; endMs: number } {
  if (!fields.start?.dateTime || !fields.end?.dateTime) {
    throw badRequest("The event needs start and end, each with dateTime and timeZone.");
  }
  let startMs: number;
  let endMs: number;
  try {
    startMs = instantOf(fields.start);
    endMs = instantOf(fields.end);
  } catch (error) {
    if (!(error instanceof UnknownZone) && !(error instanceof RangeError)) throw error;
    const zone = error instanceof UnknownZone ? error.message : "";
    throw badRequest(
      error instanceof UnknownZone
        ? `A valid TimeZone value must be specified. The following TimeZone value is not supported: '${zone}'.`
        : "The dateTime of start or end is not an ISO 8601 date and time.",
      error instanceof UnknownZone ? "TimeZoneNotSupportedException" : "ErrorInvalidRequest",
    );
  }
  if (endMs < startMs) {
    throw badRequest("The end time of the event must not be before its start time.");
  }
  if (fields.isAllDay) {
    const midnight = (text: string) => /T00:00(:00(\.0+)?)?$/.test(text) || !text.includes("T");
    if (!midnight(fields.start.dateTime) || !midnight(fields.end.dateTime) || endMs === startMs) {
      throw badRequest(
        "An all-day event must start and end at midnight (isAllDay): set start and end to " +
          "T00:00:00 of its first day and of the day after its last day.",
        "ErrorPropertyValidationFailure",
      );
    }
  }
  return { startMs, endMs };
}
