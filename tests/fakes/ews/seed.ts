/**
 * The test-facing view of a mailbox: seeding appointments (singles and series with
 * modified and deleted occurrences) and OWA options, and reading back folders and stored
 * items.
 *
 * @module
 */
import { decodeId } from "./ids.ts";
import { defaultFields, newUid, settle } from "./items.ts";
import type {
  Attendee,
  FreeBusy,
  ItemFields,
  ResponseType,
  Sensitivity,
  StoredItem,
} from "./model.ts";
import { isValidRrule, occurrenceView } from "./recurrence.ts";
import type { FolderGrant } from "./permissions.ts";
import type { Mailbox } from "./store.ts";
import { formatDateTime, ianaOf, instantOf } from "./timezones.ts";

/** An appointment to put into a mailbox. */
export type SeedAppointment = {
  subject: string;
  /** ISO instants; for all-day events midnight in `timeZone` (a plain date also works). */
  start: string;
  end: string;
  /** A Windows zone id, default "UTC". */
  timeZone?: string;
  isAllDay?: boolean;
  location?: string;
  body?: string;
  uid?: string;
  freeBusy?: FreeBusy;
  sensitivity?: Sensitivity;
  categories?: string[];
  /** Default: the mailbox's owner. */
  organizer?: { name: string; email: string };
  attendees?: { name: string; email: string; optional?: boolean; response?: ResponseType }[];
  /** Default: `Organizer` when the owner organizes, else `NoResponseReceived`. */
  myResponse?: ResponseType;
  isCancelled?: boolean;
  recurrence?: {
    /** An RRULE without DTSTART, such as `FREQ=WEEKLY;BYDAY=MO;COUNT=10`. */
    rrule: string;
    exceptions?: { originalStart: string; start?: string; end?: string; subject?: string }[];
    /** Original starts of deleted occurrences. */
    deleted?: string[];
  };
};

/** A stored item as tests read it back. */
export type FakeItem = {
  id: string;
  changeKey: string;
  subject: string;
  start: string;
  end: string;
  isAllDay: boolean;
  /** Windows zone ids of `StartTimeZone` and `EndTimeZone`. */
  startTimeZone: string;
  endTimeZone: string;
  reminderIsSet: boolean;
  location: string;
  body: string;
  uid: string;
  /** By `GUID:Name` (lower-case GUID); array types as a JSON array. */
  extendedProperties: Record<string, string>;
  sentInvitations: boolean;
};

/** A folder as tests read it back. */
export type FakeFolder = {
  id: string;
  displayName: string;
  parentId: string | null;
  itemCount: number;
};

function instant(value: string, zone: string): number {
  const parsed = /^\d{4}-\d{2}-\d{2}$/.test(value)
    ? instantOf(Temporal.PlainDate.from(value).toPlainDateTime(), zone)
    : Date.parse(value);
  if (Number.isNaN(parsed)) throw new Error(`not an ISO instant: ${value}`);
  return parsed;
}

function attendees(seed: SeedAppointment, optional: boolean): Attendee[] {
  return (seed.attendees ?? []).filter((a) => (a.optional ?? false) === optional)
    .map((a) => ({ name: a.name, email: a.email, response: a.response ?? "Unknown" }));
}

/** The stored fields of a seeded appointment. */
function fieldsOf(mailbox: Mailbox, seed: SeedAppointment): ItemFields {
  const zone = seed.timeZone ?? "UTC";
  if (!ianaOf(zone)) throw new Error(`unknown Windows time zone: ${zone}`);
  const defaults = defaultFields(mailbox, zone);
  const organizer = seed.organizer ?? defaults.organizer!;
  const ownOrganizer = organizer.email.toLowerCase() === mailbox.address;
  return settle({
    ...defaults,
    subject: seed.subject,
    start: instant(seed.start, zone),
    end: instant(seed.end, zone),
    isAllDay: seed.isAllDay ?? false,
    location: seed.location ?? "",
    body: seed.body ?? "",
    uid: seed.uid ?? newUid(),
    freeBusy: seed.freeBusy ?? "Busy",
    sensitivity: seed.sensitivity ?? "Normal",
    categories: seed.categories ?? [],
    organizer,
    requiredAttendees: attendees(seed, false),
    optionalAttendees: attendees(seed, true),
    myResponse: seed.myResponse ?? (ownOrganizer ? "Organizer" : "NoResponseReceived"),
    isCancelled: seed.isCancelled ?? false,
  });
}

/** Adds the series part of a seed to a stored master, checking every original start. */
function addRecurrence(item: StoredItem, seed: NonNullable<SeedAppointment["recurrence"]>) {
  const rrule = seed.rrule.replace(/^RRULE:/i, "");
  if (!isValidRrule(rrule)) throw new Error(`not an RRULE: ${seed.rrule}`);
  item.recurrence = { rrule, exceptions: new Map(), deleted: new Set() };
  const zone = item.fields.startTimeZone;
  const duration = item.fields.end - item.fields.start;
  const occurrence = (value: string) => {
    const start = instant(value, zone);
    if (!occurrenceView(item, start)) {
      throw new Error(`${value} is not an occurrence of the series`);
    }
    return start;
  };
  for (const exception of seed.exceptions ?? []) {
    const originalStart = occurrence(exception.originalStart);
    const start = exception.start === undefined ? undefined : instant(exception.start, zone);
    const fields: Partial<ItemFields> = {};
    if (exception.subject !== undefined) fields.subject = exception.subject;
    if (start !== undefined) fields.start = start;
    if (exception.end !== undefined) fields.end = instant(exception.end, zone);
    else if (start !== undefined) fields.end = start + duration;
    item.recurrence.exceptions.set(originalStart, {
      fields,
      changeNumber: item.changeNumber,
      lastModified: item.lastModified,
    });
  }
  for (const deleted of seed.deleted ?? []) item.recurrence.deleted.add(occurrence(deleted));
}

/** A test's handle on one mailbox. */
export class FakeMailboxHandle {
  constructor(readonly mailbox: Mailbox) {}

  /** The Calendar folder's id. */
  get calendarId(): string {
    return this.mailbox.idOf({ kind: "folder", object: this.mailbox.calendar.object });
  }

  #folder(id: string | undefined): string {
    if (id === undefined) return this.mailbox.calendar.object;
    const decoded = decodeId(id);
    if (decoded?.kind !== "folder" || !this.mailbox.folders.has(decoded.object)) {
      throw new Error(`no folder ${id} in ${this.mailbox.address}`);
    }
    return decoded.object;
  }

  /** Creates a calendar folder under `parentId` (default: the Calendar); returns its id. */
  addFolder(displayName: string, parentId?: string): string {
    const folder = this.mailbox.addFolder(this.#folder(parentId), displayName);
    return this.mailbox.idOf({ kind: "folder", object: folder.object });
  }

  /** Every folder of the mailbox. */
  folders(): FakeFolder[] {
    return [...this.mailbox.folders.values()].map((folder) => ({
      id: this.mailbox.idOf({ kind: "folder", object: folder.object }),
      displayName: folder.displayName,
      parentId: folder.parent === null
        ? null
        : this.mailbox.idOf({ kind: "folder", object: folder.parent }),
      itemCount: this.mailbox.itemsIn(folder.object).length,
    }));
  }

  /** Stores an appointment in a folder (default: the Calendar); returns its item id. */
  addAppointment(seed: SeedAppointment, folderId?: string): string {
    const item = this.mailbox.addItem(this.#folder(folderId), fieldsOf(this.mailbox, seed));
    if (seed.recurrence) addRecurrence(item, seed.recurrence);
    return this.mailbox.idOf({ kind: "item", object: item.object });
  }

  /**
   * Sets the `timezone` of the mailbox's OWA options (`OWA.UserOptions` in the root folder);
   * null removes the configuration object, as for a user who never opened OWA.
   */
  setOwaTimeZone(windowsId: string | null): void {
    if (windowsId === null) {
      this.mailbox.owaOptions = null;
      return;
    }
    if (!ianaOf(windowsId)) throw new Error(`unknown Windows time zone: ${windowsId}`);
    this.mailbox.owaOptions = {
      object: this.mailbox.owaOptions?.object ?? crypto.randomUUID(),
      timeZone: windowsId,
    };
  }

  /**
   * Grants `user` rights on this mailbox: `all` folders, or the Calendar and its
   * sub-folders. Once a mailbox has a grant, other users reach only what they were granted.
   */
  grant(user: string, folder: FolderGrant): void {
    this.mailbox.grants.set(user.toLowerCase(), folder);
  }

  /** The stored items (singles and masters) of a folder, default the Calendar. */
  items(folderId?: string): FakeItem[] {
    return this.mailbox.itemsIn(this.#folder(folderId)).map((item) => ({
      id: this.mailbox.idOf({ kind: "item", object: item.object }),
      changeKey: this.mailbox.changeKey("calendarItem", item.changeNumber),
      subject: item.fields.subject,
      start: formatDateTime(item.fields.start),
      end: formatDateTime(item.fields.end),
      isAllDay: item.fields.isAllDay,
      startTimeZone: item.fields.startTimeZone,
      endTimeZone: item.fields.endTimeZone,
      reminderIsSet: item.fields.reminderIsSet,
      location: item.fields.location,
      body: item.fields.body,
      uid: item.fields.uid,
      extendedProperties: Object.fromEntries(
        [...item.extended].map(([key, value]) => [
          key,
          value.uri.propertyType.endsWith("Array") ? JSON.stringify(value.values) : value.values[0],
        ]),
      ),
      sentInvitations: item.sentInvitations,
    }));
  }
}
