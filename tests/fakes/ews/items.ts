/**
 * The rules a calendar item obeys whoever writes it (`CreateItem`, `UpdateItem` or a test
 * seeding a mailbox): Exchange's defaults, all-day items on local midnights, an end not
 * before the start, and UIDs in Exchange's own format.
 *
 * @module
 */
import type { ItemFields } from "./model.ts";
import { EwsError } from "./soap.ts";
import type { Mailbox } from "./store.ts";
import { instantOf, wallClock } from "./timezones.ts";

const HALF_HOUR = 1_800_000;

function randomHex(bytes: number): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(bytes)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("").toUpperCase();
}

/**
 * A new UID as Exchange writes one: the hex of a PidLidGlobalObjectId (the Outlook class
 * id, a zero instance date, a creation time and a random GUID).
 */
export function newUid(): string {
  return "040000008200E00074C5B7101A82E008" + "00000000" + randomHex(8) + "0000000000000000" +
    "10000000" + randomHex(16);
}

/**
 * The fields of a new item before any property is set: Exchange's defaults. A new calendar
 * item rings 15 minutes before its start unless the request says otherwise: in
 * https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/how-to-process-calendar-items-in-batches-in-exchange
 * the "Food bank delivery" item is created without a reminder and GetItem reads back
 * `ReminderMinutesBeforeStart` 15.
 */
export function defaultFields(mailbox: Mailbox, timeZone: string): ItemFields {
  const start = Math.ceil(Date.now() / HALF_HOUR) * HALF_HOUR;
  return {
    subject: "",
    body: "",
    bodyType: "Text",
    start,
    end: start + HALF_HOUR,
    startTimeZone: timeZone,
    endTimeZone: timeZone,
    isAllDay: false,
    location: "",
    freeBusy: "Busy",
    sensitivity: "Normal",
    categories: [],
    importance: "Normal",
    reminderIsSet: true,
    reminderMinutes: 15,
    organizer: { name: mailbox.displayName, email: mailbox.address },
    requiredAttendees: [],
    optionalAttendees: [],
    myResponse: "Organizer",
    isCancelled: false,
    uid: newUid(),
  };
}

/**
 * Applies Exchange's rules to fields about to be saved: the end may not come before the
 * start, and all-day items span whole days. How to create all-day events
 * (https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/how-to-create-all-day-events-by-using-ews-in-exchange)
 * says a start off midnight moves to the midnight before it and an end to the midnight
 * after it, in the time zone of the request or appointment: the item's start zone, which
 * is the request's `TimeZoneContext` (else UTC) when the request gives none. Both zones of
 * the item become that zone, as the days are counted in it.
 */
export function settle(fields: ItemFields): ItemFields {
  const settled = { ...fields };
  if (settled.isAllDay) {
    const zone = settled.startTimeZone;
    settled.endTimeZone = zone;
    const startDay = wallClock(settled.start, zone).toPlainDate();
    const endWall = wallClock(settled.end, zone);
    const endDay = endWall.toPlainTime().equals(new Temporal.PlainTime())
      ? endWall.toPlainDate()
      : endWall.toPlainDate().add({ days: 1 });
    settled.start = instantOf(startDay.toPlainDateTime(), zone);
    settled.end = instantOf(
      (Temporal.PlainDate.compare(endDay, startDay) > 0 ? endDay : startDay.add({ days: 1 }))
        .toPlainDateTime(),
      zone,
    );
  }
  if (settled.end < settled.start) {
    throw new EwsError(
      "ErrorCalendarEndDateIsEarlierThanStartDate",
      "EndDate is earlier than StartDate",
    );
  }
  return settled;
}

/** Whether a meeting request would reach anyone: a sending mode and some attendees. */
export function invitesSomeone(mode: string, fields: ItemFields): boolean {
  return mode !== "SendToNone" &&
    fields.requiredAttendees.length + fields.optionalAttendees.length > 0;
}
