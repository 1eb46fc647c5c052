/**
 * An instance written as a Graph `event` ("event resource type",
 * https://learn.microsoft.com/en-us/graph/api/resources/event?view=graph-rest-1.0): every
 * property Graph returns by default, `start`/`end` in the zone of `Prefer:
 * outlook.timezone` (UTC without it), `@odata.etag` from the change key, `transactionId`
 * only when the client set one, `originalStart` for occurrences and exceptions, extended
 * properties only when `$expand`ed, and `$select` keeping `id` and `@odata.etag` plus what
 * was asked.
 *
 * @module
 */
import type { Event, SingleValueLegacyExtendedProperty } from "@microsoft/microsoft-graph-types";
import { badRequest } from "./errors.ts";
import type { Instance } from "./instances.ts";
import { dateTimeTimeZone, wallClock } from "./zones.ts";

/** An event as Graph sends it, with its OData annotations. */
export type GraphEvent = Event & { "@odata.etag": string; "@odata.type"?: string };

/** How a response shapes events. */
export interface Shape {
  /** The zone of `Prefer: outlook.timezone`, "UTC" when absent. */
  zone: string;
  /** `$select`, null when absent. */
  select: string[] | null;
  /** `$expand=singleValueExtendedProperties(...)`: the ids to include, [] for all; null when absent. */
  expandExtended: string[] | null;
}

/** Graph's seven-digit UTC timestamps (`createdDateTime`…). */
const utc = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$10000Z");

function allDayValue(ms: number, zone: string) {
  const date = wallClock(ms, zone).toPlainDate();
  return { dateTime: `${date.toString()}T00:00:00.0000000`, timeZone: zone };
}

function preview(body: Event["body"]): string {
  const text = body?.contentType === "html"
    ? (body.content ?? "").replace(/<[^>]*>/g, " ")
    : body?.content ?? "";
  return text.replace(/\s+/g, " ").trim().slice(0, 255);
}

/** The full default representation of an instance. */
function full(instance: Instance): GraphEvent {
  const f = instance.fields;
  const startZone = f.start?.timeZone ?? "UTC";
  const endZone = f.end?.timeZone ?? startZone;
  const organizer = {
    emailAddress: { name: instance.event.mailbox, address: instance.event.mailbox },
  };
  const event: GraphEvent = {
    "@odata.etag": `W/"${instance.changeKey}"`,
    id: instance.id,
    createdDateTime: utc(instance.event.createdMs),
    lastModifiedDateTime: utc(instance.modifiedMs),
    changeKey: instance.changeKey,
    categories: f.categories ?? [],
    originalStartTimeZone: startZone,
    originalEndTimeZone: endZone,
    iCalUId: instance.event.iCalUId,
    reminderMinutesBeforeStart: f.reminderMinutesBeforeStart ?? 15,
    isReminderOn: f.isReminderOn ?? true,
    hasAttachments: false,
    subject: f.subject ?? "",
    bodyPreview: preview(f.body),
    importance: f.importance ?? "normal",
    sensitivity: f.sensitivity ?? "normal",
    isAllDay: f.isAllDay ?? false,
    isCancelled: f.isCancelled ?? false,
    isOrganizer: true,
    responseRequested: f.responseRequested ?? true,
    seriesMasterId: instance.originalStartMs === null ? null : instance.event.id,
    showAs: f.showAs ?? "busy",
    type: instance.type,
    webLink: `https://outlook.office365.com/owa/?itemid=${encodeURIComponent(instance.id)}`,
    onlineMeetingUrl: null,
    isOnlineMeeting: f.isOnlineMeeting ?? false,
    onlineMeetingProvider: "unknown",
    allowNewTimeProposals: f.allowNewTimeProposals ?? true,
    isDraft: false,
    hideAttendees: f.hideAttendees ?? false,
    responseStatus: { response: "organizer", time: "0001-01-01T00:00:00Z" },
    body: { contentType: f.body?.contentType ?? "text", content: f.body?.content ?? "" },
    start: dateTimeTimeZone(instance.startMs, "UTC"),
    end: dateTimeTimeZone(instance.endMs, "UTC"),
    location: f.location ?? { displayName: "", locationType: "default" },
    locations: f.locations ?? [],
    recurrence: instance.type === "seriesMaster" ? f.recurrence ?? null : null,
    attendees: (f.attendees ?? []).map((a) => ({
      type: a.type ?? "required",
      status: { response: "none", time: "0001-01-01T00:00:00Z" },
      emailAddress: a.emailAddress,
    })),
    organizer,
    onlineMeeting: null,
  };
  if (f.transactionId) event.transactionId = f.transactionId;
  if (instance.originalStartMs !== null) {
    event.originalStart = new Date(instance.originalStartMs).toISOString().replace(".000", "");
  }
  return event;
}

/** The properties of `event` in v1.0, the names `$select` may use. */
const SELECTABLE: (keyof Event)[] = [
  "id",
  "createdDateTime",
  "lastModifiedDateTime",
  "changeKey",
  "categories",
  "transactionId",
  "originalStartTimeZone",
  "originalEndTimeZone",
  "iCalUId",
  "reminderMinutesBeforeStart",
  "isReminderOn",
  "hasAttachments",
  "subject",
  "bodyPreview",
  "importance",
  "sensitivity",
  "isAllDay",
  "isCancelled",
  "isOrganizer",
  "responseRequested",
  "seriesMasterId",
  "showAs",
  "type",
  "webLink",
  "onlineMeetingUrl",
  "isOnlineMeeting",
  "onlineMeetingProvider",
  "allowNewTimeProposals",
  "isDraft",
  "hideAttendees",
  "responseStatus",
  "body",
  "start",
  "end",
  "location",
  "locations",
  "recurrence",
  "attendees",
  "organizer",
  "onlineMeeting",
  "originalStart",
  "singleValueExtendedProperties",
];
const EVENT_PROPERTIES = new Set<string>(SELECTABLE);

/** Checks `$select` names as Graph does (400 for a property the type does not have). */
export function parseSelect(value: string | null): string[] | null {
  if (value === null) return null;
  const names = value.split(",").map((name) => name.trim()).filter(Boolean);
  for (const name of names) {
    if (!EVENT_PROPERTIES.has(name)) {
      throw badRequest(
        `Could not find a property named '${name}' on type 'microsoft.graph.event'.`,
        "RequestBroker--ParseUri",
      );
    }
  }
  return names;
}

function extendedOf(
  stored: SingleValueLegacyExtendedProperty[],
  ids: string[],
): SingleValueLegacyExtendedProperty[] {
  const wanted = ids.map((id) => id.toLowerCase());
  return stored
    .filter((p) => wanted.length === 0 || wanted.includes(p.id!.toLowerCase()))
    .map((p) => ({ id: p.id, value: p.value }));
}

/** An instance as a response shows it. */
export function shapeEvent(instance: Instance, shape: Shape): GraphEvent {
  const event = full(instance);
  if (event.isAllDay) {
    // All-day events keep midnight in their own zone whatever the Prefer header asks.
    event.start = allDayValue(instance.startMs, event.originalStartTimeZone!);
    event.end = allDayValue(instance.endMs, event.originalStartTimeZone!);
  } else {
    event.start = dateTimeTimeZone(instance.startMs, shape.zone);
    event.end = dateTimeTimeZone(instance.endMs, shape.zone);
  }
  if (shape.expandExtended !== null) {
    const props = extendedOf(instance.event.extended, shape.expandExtended);
    if (props.length > 0) event.singleValueExtendedProperties = props;
  }
  if (shape.select === null) return event;
  const picked: GraphEvent = { "@odata.etag": event["@odata.etag"], id: event.id };
  const source = event as unknown as Record<string, unknown>;
  const target = picked as unknown as Record<string, unknown>;
  for (const name of [...shape.select, "singleValueExtendedProperties"]) {
    if (name in source) target[name] = source[name];
  }
  return picked;
}
