/**
 * Outlook's GlobalAppointmentID as an iCalendar UID, with Microsoft's own examples:
 *
 * - [MS-OXOCAL] PidLidGlobalObjectId sample, an exception moved from 2008-03-25
 *   https://learn.microsoft.com/en-us/openspecs/exchange_server_protocols/ms-oxocal/3a11139f-52fa-4d2d-9b43-9f3007e38f08
 *   (layout: [MS-OXOCAL] 2.2.1.27, clean id: 2.2.1.28)
 * - [MS-ASEMAIL] 4.3 Converting a GlobalObjId to a UID, Examples 1 and 2
 *   https://learn.microsoft.com/en-us/openspecs/exchange_server_protocols/ms-asemail/e7424ddc-dd10-431e-a0b7-5c794863370e
 * - [MS-OXCICAL] 2.1.3.1.1.20.26 Property: UID
 *   https://learn.microsoft.com/en-us/openspecs/exchange_server_protocols/ms-oxcical/ac8c1e68-de58-4230-a2e2-79aae754a055
 */
import assert from "node:assert/strict";
import { icalUidFromGlobalId } from "../../agent/outlook/global_id.ts";
import { outlookOccurrence } from "../../agent/outlook/occurrence.ts";
import type { OutlookItem } from "../../agent/outlook/output.ts";
import { ews } from "../../shared/ews/library.ts";
import { readOccurrence } from "../../shared/ews/occurrence.ts";
import { parseIcs } from "../../shared/ics/parse.ts";

function encodeHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The hex Outlook's GlobalAppointmentID would show for a base64 GlobalObjId. */
function hexOfBase64(base64: string): string {
  return encodeHex(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))).toUpperCase();
}

const BYTE_ARRAY_ID = "040000008200E00074C5B7101A82E008";

/**
 * The PidLidGlobalObjectId Exchange gives a meeting imported with a third-party `uid`
 * ([MS-ASEMAIL] 2.2.2.37 VCALID: "vCal-Uid", version 01 00 00 00, the UID, a NUL), on
 * the instance date `instanceDate` (YH YL M D in hex; zero for a series or single).
 */
function vcalGlobalId(uid: string, instanceDate = "00000000"): string {
  const data = "vCal-Uid" + "\x01\0\0\0";
  const bytes = new Uint8Array([
    ...new TextEncoder().encode(data),
    ...new TextEncoder().encode(uid),
    0,
  ]);
  const size = new Uint8Array(4);
  new DataView(size.buffer).setUint32(0, bytes.length, true);
  const creation = "0000000000000000";
  const reserved = "0000000000000000";
  return (BYTE_ARRAY_ID + instanceDate + creation + reserved + encodeHex(size) + encodeHex(bytes))
    .toUpperCase();
}

// [MS-OXOCAL] sample: the exception's PidLidGlobalObjectId (cb: 56), instance date
// 07 D8 03 19 = 2008-03-25, and the same id with that date zeroed.
const OXOCAL_EXCEPTION =
  "040000008200E00074C5B7101A82E00807D803195025D461E473C8010000000000000000100000002A5844B3A444F74A9C246C60886F116B";
const OXOCAL_CLEAN =
  "040000008200E00074C5B7101A82E008000000005025D461E473C8010000000000000000100000002A5844B3A444F74A9C246C60886F116B";

Deno.test("[MS-OXOCAL] PidLidGlobalObjectId sample: the exception of 2008-03-25 becomes the clean id in hex", () => {
  assert.equal(OXOCAL_EXCEPTION.length, 2 * 56);
  assert.equal(icalUidFromGlobalId(OXOCAL_EXCEPTION), OXOCAL_CLEAN);
});

Deno.test("[MS-OXOCAL] 2.2.1.28: a series' clean id and its exception's id give one UID", () => {
  // The series (and every occurrence) carries the clean id; it is its own UID.
  assert.equal(icalUidFromGlobalId(OXOCAL_CLEAN), OXOCAL_CLEAN);
  assert.equal(icalUidFromGlobalId(OXOCAL_EXCEPTION), icalUidFromGlobalId(OXOCAL_CLEAN));
  // Another exception of the same series, dated 2008-04-01.
  const april = OXOCAL_CLEAN.slice(0, 32) + "07D80401" + OXOCAL_CLEAN.slice(40);
  assert.equal(icalUidFromGlobalId(april), OXOCAL_CLEAN);
});

Deno.test("[MS-ASEMAIL] 4.3 Example 1: an OutlookID's UID is its hex with bytes 17-20 zeroed", () => {
  const globalObjId = hexOfBase64(
    "BAAAAIIA4AB0xbcQGoLgCAfUCRDgQMnBJoXEAQAAAAAAAAAAEAAAAAvw7UtuTulOnjnjhns3jvM=",
  );
  assert.equal(globalObjId.slice(32, 40), "07D40910"); // 2004-09-16
  assert.equal(
    icalUidFromGlobalId(globalObjId),
    "040000008200E00074C5B7101A82E00800000000E040C9C12685C4010000000000000000100000000BF0ED4B6E4EE94E9E39E3867B378EF3",
  );
});

Deno.test("[MS-ASEMAIL] 4.3 Example 2: a vCal-Uid id gives back the UID it carries", () => {
  const globalObjId = hexOfBase64(
    "BAAAAIIA4AB0xbcQGoLgCAAAAAAAAAAAAAAAAAAAAAAAAAAAMwAAAHZDYWwtVWlkAQAAAHs4MTQxMkQzQy0yQTI0LTRFOUQtQjIwRS0xMUY3QkJFOTI3OTl9AA==",
  );
  assert.equal(icalUidFromGlobalId(globalObjId), "{81412D3C-2A24-4E9D-B20E-11F7BBE92799}");
  // The helper builds exactly the bytes of Microsoft's example.
  assert.equal(vcalGlobalId("{81412D3C-2A24-4E9D-B20E-11F7BBE92799}"), globalObjId);
});

Deno.test("vCal-Uid: a meeting from Google Calendar keeps Google's UID, in the series and its exceptions", () => {
  assert.equal(icalUidFromGlobalId(vcalGlobalId("abc123xyz@google.com")), "abc123xyz@google.com");
  assert.equal(
    icalUidFromGlobalId(vcalGlobalId("abc123xyz@google.com", "07EA0401")),
    "abc123xyz@google.com",
  );
});

Deno.test("vCal-Uid: a meeting from iCloud keeps its UUID", () => {
  const uuid = "3F2B9C4E-7A1D-4E8B-9C2F-5D6A7B8C9D0E";
  assert.equal(icalUidFromGlobalId(vcalGlobalId(uuid)), uuid);
});

Deno.test("vCal-Uid: the UID is UTF-8, stops at its NUL and is trimmed", () => {
  assert.equal(
    icalUidFromGlobalId(vcalGlobalId("réunion-42@exämple.org")),
    "réunion-42@exämple.org",
  );
  assert.equal(
    icalUidFromGlobalId(vcalGlobalId(" padded@example.org \0garbage")),
    "padded@example.org",
  );
});

Deno.test("vCal-Uid: a marker without version 1, or an empty UID, is kept as the hex id", () => {
  const version2 = vcalGlobalId("abc123xyz@google.com").replace(
    "7643616C2D55696401",
    "7643616C2D55696402",
  );
  assert.equal(icalUidFromGlobalId(version2), version2);
  const empty = vcalGlobalId("");
  assert.equal(icalUidFromGlobalId(empty), empty);
});

Deno.test("the hex may come in any case and with whitespace", () => {
  assert.equal(icalUidFromGlobalId(OXOCAL_EXCEPTION.toLowerCase()), OXOCAL_CLEAN);
  const spaced = OXOCAL_EXCEPTION.match(/../g)!.join(" ");
  assert.equal(icalUidFromGlobalId(`  ${spaced}\n`), OXOCAL_CLEAN);
  const wrapped = OXOCAL_EXCEPTION.match(/.{1,32}/g)!.join("\r\n\t");
  assert.equal(icalUidFromGlobalId(wrapped), OXOCAL_CLEAN);
});

Deno.test("what is not a Global Object ID comes back unchanged, only trimmed", () => {
  const cases = {
    // An EntryID, which the script reports when an item has no GlobalAppointmentID.
    "another prefix": "00000000A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F",
    "odd length": OXOCAL_EXCEPTION.slice(0, -1),
    "not hex": OXOCAL_EXCEPTION.slice(0, -2) + "ZZ",
    "the prefix alone": BYTE_ARRAY_ID,
    "a header cut short": OXOCAL_EXCEPTION.slice(0, 78),
    "Size beyond the data": OXOCAL_EXCEPTION.slice(0, -2),
    "a UID already": "abc123xyz@google.com",
  };
  for (const [what, id] of Object.entries(cases)) {
    assert.equal(icalUidFromGlobalId(id), id, what);
    assert.equal(icalUidFromGlobalId(` ${id}\n`), id, `${what}, trimmed`);
  }
  // Lowercase that is not an id stays lowercase.
  assert.equal(icalUidFromGlobalId("deadbeef"), "deadbeef");
});

function outlookItem(globalId: string, extra: Partial<OutlookItem> = {}): OutlookItem {
  return {
    global_appointment_id: globalId,
    entry_id: "00000000AB",
    start_utc: "2026-05-12T08:00:00Z",
    end_utc: "2026-05-12T09:00:00Z",
    start_time_zone: "UTC",
    end_time_zone: "UTC",
    all_day: false,
    subject: "Quarterly review",
    location: "",
    body: null,
    busy_status: 2,
    sensitivity: 0,
    categories: [],
    meeting_status: 1,
    response_status: 3,
    organizer: "",
    attendees: [],
    last_modification_utc: null,
    recurrence_state: 0,
    original_start_utc: null,
    ...extra,
  };
}

/** An appointment as EWS returns it, with only what the mapping reads. */
function ewsAppointment(iCalUid: string): ews.Appointment {
  return {
    ICalUid: iCalUid,
    Id: { UniqueId: "AAMkAGI2TG93AAA=" },
    Start: { TotalMilliSeconds: Date.parse("2026-05-12T08:00:00Z") },
    End: { TotalMilliSeconds: Date.parse("2026-05-12T09:00:00Z") },
    AppointmentType: ews.AppointmentType.Single,
    Subject: "Quarterly review",
  } as unknown as ews.Appointment;
}

function icsUid(uid: string): string {
  const ics = [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN",
    "BEGIN:VEVENT",
    `UID:${uid}`,
    "DTSTART:20260512T080000Z",
    "DTEND:20260512T090000Z",
    "SUMMARY:Quarterly review",
    "END:VEVENT",
    "END:VCALENDAR",
    "",
  ].join("\r\n");
  const occurrences = parseIcs(ics, { start: "2026-05-01T00:00:00Z", end: "2026-06-01T00:00:00Z" });
  assert.equal(occurrences.length, 1);
  return occurrences[0].uid;
}

Deno.test("end to end: an Outlook item has the uid EWS and ICS give the same meeting", () => {
  const options = { includeBody: false, fallbackZone: "UTC" };

  // Made in Outlook: the item shows the id in hex; EWS's ICalUid and the ICS export's
  // UID are that id, clean, in uppercase hex ([MS-ASEMAIL] 4.3 Example 1).
  const outlookMade = hexOfBase64(
    "BAAAAIIA4AB0xbcQGoLgCAfUCRDgQMnBJoXEAQAAAAAAAAAAEAAAAAvw7UtuTulOnjnjhns3jvM=",
  );
  const exchangeUid =
    "040000008200E00074C5B7101A82E00800000000E040C9C12685C4010000000000000000100000000BF0ED4B6E4EE94E9E39E3867B378EF3";
  const fromOutlook = outlookOccurrence(outlookItem(outlookMade.toLowerCase()), options);
  assert.equal(fromOutlook.uid, readOccurrence(ewsAppointment(exchangeUid), false).uid);
  assert.equal(fromOutlook.uid, icsUid(exchangeUid));

  // Made in Google Calendar: Outlook keeps Google's UID inside a vCal-Uid id.
  const fromGoogle = outlookOccurrence(outlookItem(vcalGlobalId("abc123xyz@google.com")), options);
  assert.equal(fromGoogle.uid, readOccurrence(ewsAppointment("abc123xyz@google.com"), false).uid);
  assert.equal(fromGoogle.uid, icsUid("abc123xyz@google.com"));
});
