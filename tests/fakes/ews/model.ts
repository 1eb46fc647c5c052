/**
 * What the fake Exchange stores: folders and calendar items of a mailbox, with the
 * bookkeeping Exchange keeps for concurrency (a change number per object and per field).
 *
 * @module
 */

/** `LegacyFreeBusyStatus` values. */
export type FreeBusy = "Free" | "Tentative" | "Busy" | "OOF" | "WorkingElsewhere" | "NoData";
/** `Sensitivity` values. */
export type Sensitivity = "Normal" | "Personal" | "Private" | "Confidential";
/** `ResponseType` values, for attendees and `MyResponseType`. */
export type ResponseType =
  | "Unknown"
  | "Organizer"
  | "Tentative"
  | "Accept"
  | "Decline"
  | "NoResponseReceived";

/** A mailbox as `t:Mailbox` carries it. */
export interface Person {
  name: string;
  email: string;
}

/** A meeting attendee. */
export interface Attendee extends Person {
  response: ResponseType;
}

/** The identity of an extended property, as `t:ExtendedFieldURI` writes it. */
export interface ExtendedUri {
  /** `PropertySetId` (a GUID, lower case) or `DistinguishedPropertySetId`. */
  propertySet?: string;
  distinguishedSet?: string;
  propertyName?: string;
  propertyId?: string;
  propertyTag?: string;
  propertyType: string;
}

/** An extended property on an item: single values keep one entry in `values`. */
export interface ExtendedValue {
  uri: ExtendedUri;
  values: string[];
}

/** The key of an extended property: `GUID:Name` for named ones, as the test API shows. */
export function extendedKey(uri: ExtendedUri): string {
  const set = uri.propertySet ?? uri.distinguishedSet ?? "tag";
  return `${set}:${uri.propertyName ?? uri.propertyId ?? uri.propertyTag}`;
}

/** The readable and writable content of a calendar item (times in epoch ms). */
export interface ItemFields {
  subject: string;
  body: string;
  bodyType: "Text" | "HTML";
  start: number;
  end: number;
  /** Windows zone ids, as `StartTimeZone`/`EndTimeZone` carry them. */
  startTimeZone: string;
  endTimeZone: string;
  isAllDay: boolean;
  location: string;
  freeBusy: FreeBusy;
  sensitivity: Sensitivity;
  categories: string[];
  importance: "Low" | "Normal" | "High";
  reminderIsSet: boolean;
  reminderMinutes: number;
  organizer: Person | null;
  requiredAttendees: Attendee[];
  optionalAttendees: Attendee[];
  myResponse: ResponseType;
  isCancelled: boolean;
  /** The iCalendar UID, shared by every occurrence of a series. */
  uid: string;
}

/** A modified occurrence: the fields that differ from the series. */
export interface RecurrenceException {
  fields: Partial<ItemFields>;
  changeNumber: number;
  lastModified: number;
}

/** A series: an RRULE (without DTSTART, which is the master's start in its zone). */
export interface Recurrence {
  rrule: string;
  /** Keyed by the original start (epoch ms). */
  exceptions: Map<number, RecurrenceException>;
  /** Original starts of deleted occurrences. */
  deleted: Set<number>;
}

/** A stored calendar item: a single appointment or a recurring master. */
export interface StoredItem {
  /** UUID of the object; the item id is written from it. */
  object: string;
  /** UUID of the folder it lives in. */
  folder: string;
  fields: ItemFields;
  extended: Map<string, ExtendedValue>;
  recurrence: Recurrence | null;
  created: number;
  lastModified: number;
  /** The change number of the last modification, written into the change key. */
  changeNumber: number;
  /** Per field URI (and `ext:` key), the change number of its last modification. */
  fieldChanges: Map<string, number>;
  /** Whether a meeting request went out for it (a mode other than `SendToNone`). */
  sentInvitations: boolean;
}

/** A stored folder. */
export interface StoredFolder {
  object: string;
  parent: string | null;
  displayName: string;
  /** `IPF.Appointment` for calendars; null for the roots. */
  folderClass: string | null;
  /** The `DistinguishedFolderId` name, such as `calendar`. */
  distinguished: string | null;
  changeNumber: number;
}

/** How an item appears to a client: a single, a master, or one occurrence of a series. */
export type CalendarItemType = "Single" | "Occurrence" | "Exception" | "RecurringMaster";

/** One item as seen by a request: the stored item and, for an occurrence, its own state. */
export interface ItemView {
  item: StoredItem;
  type: CalendarItemType;
  /** The effective fields: the series' with the exception's applied. */
  fields: ItemFields;
  /** The original start of an occurrence or exception; null otherwise. */
  originalStart: number | null;
  changeNumber: number;
  lastModified: number;
}
