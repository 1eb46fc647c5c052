/**
 * The properties of a calendar item, one table in schema order: which field URI and
 * element each has, whether `FindItem` may return it, which base shape includes it, how it
 * is written and, for the settable ones, read. Requests are checked against the same table,
 * so an unknown element or one out of schema order is refused as Exchange refuses it.
 *
 * @module
 */
import type { Mailbox } from "./store.ts";
import {
  type Attendee,
  extendedKey,
  type ExtendedUri,
  type ExtendedValue,
  type ItemFields,
  type ItemView,
  type Person,
} from "./model.ts";
import { EwsError, NS, SchemaViolation } from "./soap.ts";
import {
  displayNameOf,
  formatDateTime,
  ianaOf,
  parseDateTime,
  type YearlyTransition,
  zoneRule,
} from "./timezones.ts";
import { writeRecurrence } from "./recurrence_xml.ts";
import { child, children, el, text, type XmlElement } from "./xml.ts";

/** A value that restrictions compare. */
export type Comparable = string | number | boolean | string[];

/** What writing an item needs besides the item. */
export interface WriteContext {
  mailbox: Mailbox;
  /** The `BodyType` of the shape: `Best` keeps the stored type. */
  bodyType: "Best" | "Text" | "HTML";
}

/** What reading an item needs: the zone of times written without an offset. */
export interface ReadContext {
  timeZone: string;
}

/** One property of a calendar item. */
export interface ItemProperty {
  /** The field URI, such as `calendar:Start`. */
  uri: string;
  /** The element name in the types namespace. */
  element: string;
  /** Whether `FindItem` may return (and be asked for) it. */
  findable: boolean;
  /** The smallest base shape that includes it; `explicit` ones only when asked for. */
  shape: "Default" | "AllProperties" | "explicit";
  /** Its markup for an item, or null when the item has no value for it. */
  write(view: ItemView, ctx: WriteContext): string | null;
  /** Its value from a request element; absent for read-only properties. */
  read?(element: XmlElement, ctx: ReadContext): Partial<ItemFields>;
  /** The value `DeleteItemField` leaves; absent when it cannot be deleted. */
  cleared?: Partial<ItemFields>;
  /** Its value for restrictions. */
  value?(view: ItemView, mailbox: Mailbox): Comparable | undefined;
}

const t = (name: string, value: string | number | boolean) => text(`t:${name}`, value);

function invalid(element: XmlElement, type: string): SchemaViolation {
  return new SchemaViolation(
    `The '${NS.t}:${element.name}' element is invalid - The value '${element.text}' is ` +
      `invalid according to its datatype '${NS.t}:${type}'.`,
  );
}

function readEnum<T extends string>(values: readonly T[], type: string) {
  return (element: XmlElement): T => {
    const value = element.text.trim() as T;
    if (!values.includes(value)) throw invalid(element, type);
    return value;
  };
}

function readBoolean(element: XmlElement): boolean {
  const value = element.text.trim();
  if (["true", "1"].includes(value)) return true;
  if (["false", "0"].includes(value)) return false;
  throw invalid(element, "boolean");
}

function readInteger(element: XmlElement): number {
  if (!/^-?\d+$/.test(element.text.trim())) throw invalid(element, "int");
  return Number(element.text.trim());
}

function readDateTime(element: XmlElement, ctx: ReadContext): number {
  const instant = parseDateTime(element.text, ctx.timeZone);
  if (instant === null) throw invalid(element, "dateTime");
  return instant;
}

function readZone(element: XmlElement): string {
  const id = element.attrs.Id;
  if (id === undefined) {
    throw new SchemaViolation(`The required attribute 'Id' is missing on '${element.name}'.`);
  }
  if (!ianaOf(id)) throw new EwsError("ErrorTimeZone", `The time zone '${id}' is not valid.`);
  return id;
}

function readMailbox(element: XmlElement): Person {
  const mailbox = child(element, NS.t, "Mailbox") ?? element;
  return {
    name: child(mailbox, NS.t, "Name")?.text ?? "",
    email: child(mailbox, NS.t, "EmailAddress")?.text ?? "",
  };
}

const RESPONSES = ["Unknown", "Organizer", "Tentative", "Accept", "Decline", "NoResponseReceived"];

function readAttendees(element: XmlElement): Attendee[] {
  return children(element, NS.t, "Attendee").map((attendee) => {
    const response = child(attendee, NS.t, "ResponseType");
    if (response && !RESPONSES.includes(response.text.trim())) {
      throw invalid(response, "ResponseTypeType");
    }
    return {
      ...readMailbox(attendee),
      response: (response?.text.trim() ?? "Unknown") as Attendee["response"],
    };
  });
}

function writeMailbox(person: Person): string {
  return el(
    "t:Mailbox",
    {},
    t("Name", person.name),
    t("EmailAddress", person.email),
    t("RoutingType", "SMTP"),
    t("MailboxType", "Mailbox"),
  );
}

function writeAttendees(name: string, attendees: Attendee[]): string | null {
  if (attendees.length === 0) return null;
  return el(
    `t:${name}`,
    {},
    ...attendees.map((a) => el("t:Attendee", {}, writeMailbox(a), t("ResponseType", a.response))),
  );
}

/** Plain text of an HTML body, and an HTML body of plain text, as Exchange converts them. */
function convertBody(fields: ItemFields, wanted: WriteContext["bodyType"]): [string, string] {
  if (wanted === "Best" || wanted === fields.bodyType) return [fields.bodyType, fields.body];
  if (wanted === "Text") {
    const plain = fields.body.replace(/<br\s*\/?>|<\/p>|<\/div>/gi, "\r\n").replace(/<[^>]*>/g, "")
      .replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&amp;/g, "&");
    return ["Text", plain.trim()];
  }
  const escaped = fields.body.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/\r?\n/g, "<br>\r\n");
  return [
    "HTML",
    '<html>\r\n<head>\r\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\r\n' +
    `</head>\r\n<body>\r\n<div>${escaped}</div>\r\n</body>\r\n</html>\r\n`,
  ];
}

/** xs:duration of a span, as Exchange writes `Duration` (`PT1H30M`, `P1D`). */
function isoDuration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const time = (hours ? `${hours}H` : "") + (minutes % 60 ? `${minutes % 60}M` : "");
  const duration = `P${days ? `${days}D` : ""}${time ? `T${time}` : ""}`;
  return duration === "P" ? "PT0S" : duration;
}

/** An xs:duration of minutes, as time zone definitions write them (`PT2H`, `-PT5H30M`). */
function minutesDuration(minutes: number): string {
  const abs = Math.abs(minutes);
  const rest = abs % 60 ? `${abs % 60}M` : "";
  return `${minutes < 0 ? "-" : ""}PT${Math.floor(abs / 60)}H${rest}`;
}

const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/**
 * A full time zone definition as Exchange writes `StartTimeZone` and `EndTimeZone`: the
 * standard (and daylight) periods, one transitions group with the yearly changes in force
 * in `year`, and the transition to that group. Clients such as the EWS Managed API refuse
 * a definition without periods and transitions.
 */
function writeTimeZone(element: string, windowsId: string, year: number): string {
  const rule = zoneRule(windowsId, year);
  const periodId = (kind: string) => `trule:Microsoft/Registry/${windowsId}/${year}-${kind}`;
  const period = (kind: string, offset: number) =>
    el("t:Period", { Bias: minutesDuration(-offset), Name: kind, Id: periodId(kind) });
  const change = (to: string, at: YearlyTransition) =>
    el(
      "t:RecurringDayTransition",
      {},
      text("t:To", periodId(to), { Kind: "Period" }),
      t("TimeOffset", minutesDuration(at.timeOfDay)),
      t("Month", at.month),
      t("DayOfWeek", WEEKDAYS[at.weekday]),
      t("Occurrence", at.occurrence),
    );
  const periods = [period("Standard", rule.standardOffset)];
  const group = rule.daylight
    ? [change("Daylight", rule.daylight.start), change("Standard", rule.daylight.end)]
    : [el("t:Transition", {}, text("t:To", periodId("Standard"), { Kind: "Period" }))];
  if (rule.daylight) periods.push(period("Daylight", rule.daylight.offset));
  return el(
    `t:${element}`,
    { Id: windowsId, Name: displayNameOf(windowsId) },
    el("t:Periods", {}, ...periods),
    el("t:TransitionsGroups", {}, el("t:TransitionsGroup", { Id: 0 }, ...group)),
    el("t:Transitions", {}, el("t:Transition", {}, text("t:To", 0, { Kind: "Group" }))),
  );
}

const yearOf = (instant: number) => new Date(instant).getUTCFullYear();

const isMeeting = (view: ItemView) =>
  view.fields.requiredAttendees.length + view.fields.optionalAttendees.length > 0;

const isOccurrence = (view: ItemView) => view.type === "Occurrence" || view.type === "Exception";

function itemIdOf(view: ItemView, mailbox: Mailbox): string {
  return view.originalStart === null
    ? mailbox.idOf({ kind: "item", object: view.item.object })
    : mailbox.idOf({
      kind: "occurrence",
      object: view.item.object,
      originalStart: view.originalStart,
    });
}

/** The `t:ItemId` of an item as seen in a view. */
export function writeItemId(view: ItemView, mailbox: Mailbox): string {
  return el("t:ItemId", {
    Id: itemIdOf(view, mailbox),
    ChangeKey: mailbox.changeKey("calendarItem", view.changeNumber),
  });
}

const EXTENDED_PROPERTY_ELEMENT = "ExtendedProperty";

/** The calendar item properties, in the order of the types schema. */
export const ITEM_PROPERTIES: ItemProperty[] = [
  {
    uri: "item:ItemId",
    element: "ItemId",
    findable: true,
    shape: "Default",
    write: (view, ctx) => writeItemId(view, ctx.mailbox),
    value: (view, mailbox) => itemIdOf(view, mailbox),
  },
  {
    uri: "item:ParentFolderId",
    element: "ParentFolderId",
    findable: true,
    shape: "AllProperties",
    write: (view, ctx) => {
      const folder = ctx.mailbox.folders.get(view.item.folder)!;
      return el("t:ParentFolderId", {
        Id: ctx.mailbox.idOf({ kind: "folder", object: folder.object }),
        ChangeKey: ctx.mailbox.changeKey("folder", folder.changeNumber),
      });
    },
  },
  {
    uri: "item:ItemClass",
    element: "ItemClass",
    findable: true,
    shape: "AllProperties",
    write: () => t("ItemClass", "IPM.Appointment"),
    // Accepted as Exchange does; calendar items keep IPM.Appointment here.
    read: () => ({}),
    value: () => "IPM.Appointment",
  },
  {
    uri: "item:Subject",
    element: "Subject",
    findable: true,
    shape: "Default",
    write: (view) => t("Subject", view.fields.subject),
    read: (element) => ({ subject: element.text }),
    cleared: { subject: "" },
    value: (view) => view.fields.subject,
  },
  {
    uri: "item:Sensitivity",
    element: "Sensitivity",
    findable: true,
    shape: "AllProperties",
    write: (view) => t("Sensitivity", view.fields.sensitivity),
    read: (element) => ({
      sensitivity: readEnum(
        ["Normal", "Personal", "Private", "Confidential"] as const,
        "SensitivityChoicesType",
      )(element),
    }),
    value: (view) => view.fields.sensitivity,
  },
  {
    uri: "item:Body",
    element: "Body",
    findable: false,
    shape: "AllProperties",
    write: (view, ctx) => {
      const [type, body] = convertBody(view.fields, ctx.bodyType);
      return text("t:Body", body, { BodyType: type, IsTruncated: false });
    },
    read: (element) => ({
      body: element.text,
      bodyType: readEnum(["Text", "HTML"] as const, "BodyTypeType")({
        ...element,
        text: element.attrs.BodyType ?? "",
      }),
    }),
    cleared: { body: "", bodyType: "Text" },
  },
  {
    uri: "item:DateTimeReceived",
    element: "DateTimeReceived",
    findable: true,
    shape: "AllProperties",
    write: (view) => t("DateTimeReceived", formatDateTime(view.item.created)),
    value: (view) => view.item.created,
  },
  {
    uri: "item:Size",
    element: "Size",
    findable: true,
    shape: "AllProperties",
    write: (view) => t("Size", 1024 + view.fields.body.length + view.fields.subject.length),
  },
  {
    uri: "item:Categories",
    element: "Categories",
    findable: true,
    shape: "AllProperties",
    write: (view) =>
      view.fields.categories.length === 0
        ? null
        : el("t:Categories", {}, ...view.fields.categories.map((c) => t("String", c))),
    read: (element) => ({ categories: children(element, NS.t, "String").map((s) => s.text) }),
    cleared: { categories: [] },
    value: (view) => view.fields.categories,
  },
  {
    uri: "item:Importance",
    element: "Importance",
    findable: true,
    shape: "AllProperties",
    write: (view) => t("Importance", view.fields.importance),
    read: (element) => ({
      importance: readEnum(["Low", "Normal", "High"] as const, "ImportanceChoicesType")(element),
    }),
    value: (view) => view.fields.importance,
  },
  ...["IsSubmitted", "IsDraft", "IsFromMe", "IsResend"].map((name): ItemProperty => ({
    uri: `item:${name}`,
    element: name,
    findable: true,
    shape: "AllProperties",
    write: () => t(name, false),
  })),
  {
    uri: "item:IsUnmodified",
    element: "IsUnmodified",
    findable: true,
    shape: "AllProperties",
    write: (view) => t("IsUnmodified", view.lastModified === view.item.created),
  },
  {
    uri: "item:DateTimeSent",
    element: "DateTimeSent",
    findable: true,
    shape: "AllProperties",
    write: (view) => t("DateTimeSent", formatDateTime(view.item.created)),
  },
  {
    uri: "item:DateTimeCreated",
    element: "DateTimeCreated",
    findable: true,
    shape: "AllProperties",
    write: (view) => t("DateTimeCreated", formatDateTime(view.item.created)),
    value: (view) => view.item.created,
  },
  {
    uri: "item:ReminderIsSet",
    element: "ReminderIsSet",
    findable: true,
    shape: "AllProperties",
    write: (view) => t("ReminderIsSet", view.fields.reminderIsSet),
    read: (element) => ({ reminderIsSet: readBoolean(element) }),
  },
  {
    uri: "item:ReminderMinutesBeforeStart",
    element: "ReminderMinutesBeforeStart",
    findable: true,
    shape: "AllProperties",
    write: (view) => t("ReminderMinutesBeforeStart", view.fields.reminderMinutes),
    read: (element) => ({ reminderMinutes: readInteger(element) }),
  },
  {
    uri: "item:DisplayCc",
    element: "DisplayCc",
    findable: true,
    shape: "AllProperties",
    write: (view) => t("DisplayCc", view.fields.optionalAttendees.map((a) => a.name).join("; ")),
  },
  {
    uri: "item:DisplayTo",
    element: "DisplayTo",
    findable: true,
    shape: "AllProperties",
    write: (view) => t("DisplayTo", view.fields.requiredAttendees.map((a) => a.name).join("; ")),
  },
  {
    uri: "item:HasAttachments",
    element: "HasAttachments",
    findable: true,
    shape: "Default",
    write: () => t("HasAttachments", false),
  },
  {
    uri: "item:Culture",
    element: "Culture",
    findable: true,
    shape: "AllProperties",
    write: () => t("Culture", "en-US"),
    read: () => ({}),
  },
  {
    uri: "item:LastModifiedName",
    element: "LastModifiedName",
    findable: true,
    shape: "AllProperties",
    write: (_view, ctx) => t("LastModifiedName", ctx.mailbox.displayName),
  },
  {
    uri: "item:LastModifiedTime",
    element: "LastModifiedTime",
    findable: true,
    shape: "AllProperties",
    write: (view) => t("LastModifiedTime", formatDateTime(view.lastModified)),
    value: (view) => view.lastModified,
  },
  {
    uri: "item:IsAssociated",
    element: "IsAssociated",
    findable: true,
    shape: "AllProperties",
    write: () => t("IsAssociated", false),
  },
  {
    uri: "calendar:UID",
    element: "UID",
    findable: true,
    shape: "AllProperties",
    write: (view) => t("UID", view.fields.uid),
    read: (element) => ({ uid: element.text.trim() }),
    value: (view) => view.fields.uid,
  },
  {
    uri: "calendar:RecurrenceId",
    element: "RecurrenceId",
    findable: true,
    shape: "AllProperties",
    write: (view) =>
      view.originalStart === null ? null : t("RecurrenceId", formatDateTime(view.originalStart)),
    value: (view) => view.originalStart ?? undefined,
  },
  {
    uri: "calendar:DateTimeStamp",
    element: "DateTimeStamp",
    findable: true,
    shape: "AllProperties",
    write: (view) => t("DateTimeStamp", formatDateTime(view.item.created)),
  },
  {
    uri: "calendar:Start",
    element: "Start",
    findable: true,
    shape: "Default",
    write: (view) => t("Start", formatDateTime(view.fields.start)),
    read: (element, ctx) => ({ start: readDateTime(element, ctx) }),
    value: (view) => view.fields.start,
  },
  {
    uri: "calendar:End",
    element: "End",
    findable: true,
    shape: "Default",
    write: (view) => t("End", formatDateTime(view.fields.end)),
    read: (element, ctx) => ({ end: readDateTime(element, ctx) }),
    value: (view) => view.fields.end,
  },
  {
    uri: "calendar:OriginalStart",
    element: "OriginalStart",
    findable: false,
    shape: "AllProperties",
    write: (view) =>
      view.originalStart === null ? null : t("OriginalStart", formatDateTime(view.originalStart)),
  },
  {
    uri: "calendar:IsAllDayEvent",
    element: "IsAllDayEvent",
    findable: true,
    shape: "AllProperties",
    write: (view) => t("IsAllDayEvent", view.fields.isAllDay),
    read: (element) => ({ isAllDay: readBoolean(element) }),
    value: (view) => view.fields.isAllDay,
  },
  {
    uri: "calendar:LegacyFreeBusyStatus",
    element: "LegacyFreeBusyStatus",
    findable: true,
    shape: "Default",
    write: (view) => t("LegacyFreeBusyStatus", view.fields.freeBusy),
    read: (element) => ({
      freeBusy: readEnum(
        ["Free", "Tentative", "Busy", "OOF", "WorkingElsewhere", "NoData"] as const,
        "LegacyFreeBusyType",
      )(element),
    }),
    value: (view) => view.fields.freeBusy,
  },
  {
    uri: "calendar:Location",
    element: "Location",
    findable: true,
    shape: "Default",
    write: (view) => view.fields.location === "" ? null : t("Location", view.fields.location),
    read: (element) => ({ location: element.text }),
    cleared: { location: "" },
    value: (view) => view.fields.location,
  },
  {
    uri: "calendar:IsMeeting",
    element: "IsMeeting",
    findable: true,
    shape: "AllProperties",
    write: (view) => t("IsMeeting", isMeeting(view)),
    value: (view) => isMeeting(view),
  },
  {
    uri: "calendar:IsCancelled",
    element: "IsCancelled",
    findable: true,
    shape: "AllProperties",
    write: (view) => t("IsCancelled", view.fields.isCancelled),
    value: (view) => view.fields.isCancelled,
  },
  {
    uri: "calendar:IsRecurring",
    element: "IsRecurring",
    findable: true,
    shape: "AllProperties",
    write: (view) => t("IsRecurring", isOccurrence(view)),
    value: (view) => isOccurrence(view),
  },
  {
    uri: "calendar:MeetingRequestWasSent",
    element: "MeetingRequestWasSent",
    findable: true,
    shape: "AllProperties",
    write: (view) => t("MeetingRequestWasSent", view.item.sentInvitations),
  },
  {
    uri: "calendar:IsResponseRequested",
    element: "IsResponseRequested",
    findable: true,
    shape: "AllProperties",
    write: (view) => t("IsResponseRequested", isMeeting(view)),
    // Accepted and not stored: Exchange asks for responses whenever there are attendees.
    read: () => ({}),
  },
  {
    uri: "calendar:CalendarItemType",
    element: "CalendarItemType",
    findable: true,
    shape: "Default",
    write: (view) => t("CalendarItemType", view.type),
    value: (view) => view.type,
  },
  {
    uri: "calendar:MyResponseType",
    element: "MyResponseType",
    findable: true,
    shape: "AllProperties",
    write: (view) => t("MyResponseType", view.fields.myResponse),
    value: (view) => view.fields.myResponse,
  },
  {
    uri: "calendar:Organizer",
    element: "Organizer",
    findable: true,
    shape: "Default",
    write: (view) =>
      view.fields.organizer ? el("t:Organizer", {}, writeMailbox(view.fields.organizer)) : null,
    value: (view) => view.fields.organizer?.email,
  },
  {
    uri: "calendar:RequiredAttendees",
    element: "RequiredAttendees",
    findable: false,
    shape: "AllProperties",
    write: (view) => writeAttendees("RequiredAttendees", view.fields.requiredAttendees),
    read: (element) => ({ requiredAttendees: readAttendees(element) }),
    cleared: { requiredAttendees: [] },
  },
  {
    uri: "calendar:OptionalAttendees",
    element: "OptionalAttendees",
    findable: false,
    shape: "AllProperties",
    write: (view) => writeAttendees("OptionalAttendees", view.fields.optionalAttendees),
    read: (element) => ({ optionalAttendees: readAttendees(element) }),
    cleared: { optionalAttendees: [] },
  },
  {
    uri: "calendar:Resources",
    element: "Resources",
    findable: false,
    shape: "AllProperties",
    write: () => null,
    // Rooms and equipment are not modelled; the element is valid, so it is accepted.
    read: () => ({}),
  },
  {
    uri: "calendar:Duration",
    element: "Duration",
    findable: true,
    shape: "AllProperties",
    write: (view) => t("Duration", isoDuration(view.fields.end - view.fields.start)),
  },
  {
    uri: "calendar:TimeZone",
    element: "TimeZone",
    findable: true,
    shape: "AllProperties",
    write: (view) => t("TimeZone", displayNameOf(view.fields.startTimeZone)),
  },
  {
    uri: "calendar:AppointmentSequenceNumber",
    element: "AppointmentSequenceNumber",
    findable: false,
    shape: "AllProperties",
    write: () => t("AppointmentSequenceNumber", 0),
  },
  {
    uri: "calendar:AppointmentState",
    element: "AppointmentState",
    findable: true,
    shape: "AllProperties",
    // Bit flags of PidLidAppointmentStateFlags: 1 meeting, 4 cancelled.
    write: (view) =>
      t(
        "AppointmentState",
        (isMeeting(view) ? 1 : 0) + (view.fields.isCancelled ? 4 : 0),
      ),
  },
  {
    uri: "calendar:Recurrence",
    element: "Recurrence",
    findable: false,
    shape: "AllProperties",
    write: (view) =>
      view.type === "RecurringMaster"
        ? writeRecurrence(view.item.recurrence!.rrule, view.fields)
        : null,
    // Read by readItem itself: the rule depends on the item's settled start and zone.
    read: () => ({}),
  },
  {
    uri: "calendar:ModifiedOccurrences",
    element: "ModifiedOccurrences",
    findable: false,
    shape: "AllProperties",
    write: (view, ctx) => {
      const exceptions = view.type === "RecurringMaster"
        ? [...view.item.recurrence!.exceptions.entries()]
        : [];
      if (exceptions.length === 0) return null;
      return el(
        "t:ModifiedOccurrences",
        {},
        ...exceptions.sort(([a], [b]) => a - b).map(([originalStart, exception]) => {
          const fields = { ...view.fields, ...exception.fields };
          return el(
            "t:Occurrence",
            {},
            el("t:ItemId", {
              Id: ctx.mailbox.idOf({ kind: "occurrence", object: view.item.object, originalStart }),
              ChangeKey: ctx.mailbox.changeKey("calendarItem", exception.changeNumber),
            }),
            t("Start", formatDateTime(fields.start ?? originalStart)),
            t("End", formatDateTime(fields.end)),
            t("OriginalStart", formatDateTime(originalStart)),
          );
        }),
      );
    },
  },
  {
    uri: "calendar:DeletedOccurrences",
    element: "DeletedOccurrences",
    findable: false,
    shape: "AllProperties",
    write: (view) => {
      const deleted = view.type === "RecurringMaster" ? [...view.item.recurrence!.deleted] : [];
      if (deleted.length === 0) return null;
      return el(
        "t:DeletedOccurrences",
        {},
        ...deleted.sort((a, b) => a - b).map((start) =>
          el("t:DeletedOccurrence", {}, t("Start", formatDateTime(start)))
        ),
      );
    },
  },
  {
    uri: "calendar:StartTimeZone",
    element: "StartTimeZone",
    findable: true,
    shape: "AllProperties",
    write: (view) =>
      writeTimeZone("StartTimeZone", view.fields.startTimeZone, yearOf(view.fields.start)),
    read: (element) => ({ startTimeZone: readZone(element) }),
  },
  {
    uri: "calendar:EndTimeZone",
    element: "EndTimeZone",
    findable: true,
    shape: "AllProperties",
    write: (view) => writeTimeZone("EndTimeZone", view.fields.endTimeZone, yearOf(view.fields.end)),
    read: (element) => ({ endTimeZone: readZone(element) }),
  },
  ...[["ConferenceType", 0], ["AllowNewTimeProposal", true], ["IsOnlineMeeting", false]].map((
    [name, value],
  ): ItemProperty => ({
    uri: `calendar:${name}`,
    element: name as string,
    findable: true,
    shape: "AllProperties",
    write: () => t(name as string, value),
    // Valid to set; the fake keeps Exchange's defaults.
    read: () => ({}),
  })),
  {
    uri: "calendar:StartTimeZoneId",
    element: "StartTimeZoneId",
    findable: true,
    shape: "explicit",
    write: (view) => t("StartTimeZoneId", view.fields.startTimeZone),
  },
  {
    uri: "calendar:EndTimeZoneId",
    element: "EndTimeZoneId",
    findable: true,
    shape: "explicit",
    write: (view) => t("EndTimeZoneId", view.fields.endTimeZone),
  },
];

const BY_URI = new Map(ITEM_PROPERTIES.map((p) => [p.uri, p]));
const BY_ELEMENT = new Map(ITEM_PROPERTIES.map((p) => [p.element, p]));
/** Schema positions; `ExtendedProperty` sits between `HasAttachments` and `Culture`. */
const ORDER = new Map<string, number>(ITEM_PROPERTIES.map((p, i) => [p.element, i * 2]));
ORDER.set(EXTENDED_PROPERTY_ELEMENT, ORDER.get("HasAttachments")! + 1);

/** The property of a field URI, if calendar items have it. */
export function propertyOf(uri: string): ItemProperty | undefined {
  return BY_URI.get(uri);
}

const MAPI_TYPES = new Set([
  "ApplicationTime",
  "ApplicationTimeArray",
  "Binary",
  "BinaryArray",
  "Boolean",
  "CLSID",
  "CLSIDArray",
  "Currency",
  "CurrencyArray",
  "Double",
  "DoubleArray",
  "Float",
  "FloatArray",
  "Integer",
  "IntegerArray",
  "Long",
  "LongArray",
  "Short",
  "ShortArray",
  "SystemTime",
  "SystemTimeArray",
  "String",
  "StringArray",
]);

/** Reads a `t:ExtendedFieldURI`, checking the combinations Exchange allows. */
export function readExtendedUri(element: XmlElement): ExtendedUri {
  const a = element.attrs;
  if (!a.PropertyType || !MAPI_TYPES.has(a.PropertyType)) {
    throw new SchemaViolation(
      `The 'PropertyType' attribute is invalid - The value '${a.PropertyType ?? ""}' is invalid ` +
        `according to its datatype '${NS.t}:MapiPropertyTypeType'.`,
    );
  }
  const sets = [a.PropertySetId, a.DistinguishedPropertySetId].filter(Boolean).length;
  const names = [a.PropertyName, a.PropertyId].filter(Boolean).length;
  const valid = a.PropertyTag ? sets === 0 && names === 0 : sets === 1 && names === 1;
  if (!valid) {
    throw new EwsError(
      "ErrorInvalidExtendedProperty",
      "The extended property attribute combination is invalid.",
    );
  }
  return {
    propertySet: a.PropertySetId?.toLowerCase(),
    distinguishedSet: a.DistinguishedPropertySetId,
    propertyName: a.PropertyName,
    propertyId: a.PropertyId,
    propertyTag: a.PropertyTag,
    propertyType: a.PropertyType,
  };
}

/** Writes a `t:ExtendedFieldURI` as Exchange echoes it. */
export function writeExtendedUri(uri: ExtendedUri): string {
  return el("t:ExtendedFieldURI", {
    DistinguishedPropertySetId: uri.distinguishedSet,
    PropertySetId: uri.propertySet,
    PropertyTag: uri.propertyTag,
    PropertyName: uri.propertyName,
    PropertyId: uri.propertyId,
    PropertyType: uri.propertyType,
  });
}

function checkExtendedValue(type: string, value: string): void {
  const base = type.replace(/Array$/, "");
  const ok = base === "Integer" || base === "Long" || base === "Short"
    ? /^-?\d+$/.test(value)
    : base === "Boolean"
    ? ["true", "false", "1", "0"].includes(value)
    : base === "SystemTime"
    ? parseDateTime(value, "UTC") !== null
    : true;
  if (!ok) {
    throw new EwsError(
      "ErrorInvalidExtendedPropertyValue",
      `The extended property value '${value}' is not valid for its type ${type}.`,
    );
  }
}

/** Reads a `t:ExtendedProperty` with its `Value` or `Values`. */
export function readExtendedProperty(element: XmlElement): ExtendedValue {
  const uriElement = child(element, NS.t, "ExtendedFieldURI");
  if (!uriElement) throw new SchemaViolation("'ExtendedProperty' needs an 'ExtendedFieldURI'.");
  const uri = readExtendedUri(uriElement);
  const single = child(element, NS.t, "Value");
  const many = child(element, NS.t, "Values");
  const values = single
    ? [single.text]
    : many
    ? children(many, NS.t, "Value").map((v) => v.text)
    : null;
  if (!values) throw new SchemaViolation("'ExtendedProperty' needs a 'Value' or 'Values'.");
  for (const value of values) checkExtendedValue(uri.propertyType, value);
  return { uri, values };
}

/** Writes an extended property of an item. */
export function writeExtendedProperty(value: ExtendedValue): string {
  const values = value.uri.propertyType.endsWith("Array")
    ? el("t:Values", {}, ...value.values.map((v) => t("Value", v)))
    : t("Value", value.values[0]);
  return el("t:ExtendedProperty", {}, writeExtendedUri(value.uri), values);
}

/** The content of a `t:CalendarItem` in a request: field values and extended properties. */
export interface ItemPatch {
  fields: Partial<ItemFields>;
  /** The field URIs (and `ext:` keys) it sets. */
  touched: string[];
  extended: ExtendedValue[];
  /** A `t:Recurrence` to read once the item's fields are settled. */
  recurrence?: XmlElement;
}

/**
 * Reads the properties of a `t:CalendarItem` of `CreateItem` or `SetItemField`: unknown
 * elements and elements out of schema order fail validation, read-only ones fail with
 * `ErrorInvalidPropertySet`.
 */
export function readItem(element: XmlElement, ctx: ReadContext): ItemPatch {
  const patch: ItemPatch = { fields: {}, touched: [], extended: [] };
  let position = -1;
  for (const property of element.children) {
    const order = property.ns === NS.t ? ORDER.get(property.name) : undefined;
    if (order === undefined || order < position) {
      throw new SchemaViolation(
        `The element '${element.name}' in namespace '${NS.t}' has invalid child element ` +
          `'${property.name}' in namespace '${property.ns}'.`,
      );
    }
    position = order;
    if (property.name === EXTENDED_PROPERTY_ELEMENT) {
      const value = readExtendedProperty(property);
      patch.extended.push(value);
      patch.touched.push(`ext:${extendedKey(value.uri)}`);
      continue;
    }
    if (property.name === "Recurrence") {
      patch.recurrence = property;
      patch.touched.push("calendar:Recurrence");
      continue;
    }
    const definition = BY_ELEMENT.get(property.name)!;
    if (!definition.read) {
      throw new EwsError("ErrorInvalidPropertySet", "Set action is invalid for property.");
    }
    Object.assign(patch.fields, definition.read(property, ctx));
    patch.touched.push(definition.uri);
  }
  return patch;
}
