/**
 * How the iCalendar reader copes with the defects real files have: each test is one
 * class of defect seen in the wild, the events a mainstream client would show, and the
 * warning that tells the admin what was mended.
 */
import assert from "node:assert/strict";
import { parseIcsDetailed } from "../../shared/ics/mod.ts";
import type { WarningReason } from "../../shared/warnings.ts";

const YEAR = { start: "2026-01-01T00:00:00Z", end: "2027-01-01T00:00:00Z" };

function ics(...lines: string[]): string {
  return ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Test//EN", ...lines, "END:VCALENDAR"]
    .join("\r\n") + "\r\n";
}

function read(text: string, floatingZone = "UTC") {
  const { occurrences, warnings } = parseIcsDetailed(text, YEAR, { floatingZone });
  return { occurrences, reasons: warnings.map((w) => w.reason), warnings };
}

function reasons(...list: WarningReason[]): WarningReason[] {
  return list;
}

Deno.test("a VEVENT without UID gets a UID derived from its content, the same on every read", () => {
  const file = ics(
    "BEGIN:VEVENT",
    "DTSTART:20260310T090000Z",
    "DTEND:20260310T100000Z",
    "SUMMARY:Board meeting",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "DTSTART:20260311T090000Z",
    "SUMMARY:Other",
    "END:VEVENT",
  );
  const first = read(file);
  assert.equal(first.occurrences.length, 2);
  assert.match(first.occurrences[0].uid, /^calsync-[0-9a-f]{32}$/);
  assert.notEqual(first.occurrences[0].uid, first.occurrences[1].uid);
  assert.deepEqual(first.reasons, reasons("missing-uid", "missing-uid"));
  assert.equal(read(file).occurrences[0].uid, first.occurrences[0].uid);
});

Deno.test("Exchange display names and bare offsets as TZID map to zones", () => {
  const { occurrences, reasons: found } = read(ics(
    "BEGIN:VEVENT",
    "UID:ny",
    "DTSTART;TZID=(UTC-05:00) Eastern Time (US & Canada):20260701T090000",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "UID:quoted",
    'DTSTART;TZID="(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna":20260701T090000',
    "END:VEVENT",
    "BEGIN:VEVENT",
    "UID:offset",
    "DTSTART;TZID=UTC+01:20260701T090000",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "UID:gmt",
    'DTSTART;TZID="(GMT +01:00)":20260701T100000',
    "END:VEVENT",
  ));
  const start = Object.fromEntries(occurrences.map((o) => [o.uid, [o.start, o.timezone]]));
  // New York keeps its daylight saving time in July; a bare offset has none.
  assert.deepEqual(start.ny, ["2026-07-01T13:00:00Z", "America/New_York"]);
  assert.deepEqual(start.quoted, ["2026-07-01T07:00:00Z", "Europe/Berlin"]);
  assert.deepEqual(start.offset, ["2026-07-01T08:00:00Z", "Etc/GMT-1"]);
  assert.deepEqual(start.gmt, ["2026-07-01T09:00:00Z", "Etc/GMT-1"]);
  assert.deepEqual(found, reasons(...Array(4).fill("timezone-guessed")));
});

Deno.test("of two VEVENTs with one UID the higher SEQUENCE wins, then the later LAST-MODIFIED", () => {
  const { occurrences, reasons: found } = read(ics(
    "BEGIN:VEVENT",
    "UID:moved",
    "SEQUENCE:2",
    "DTSTART:20260310T090000Z",
    "SUMMARY:New time",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "UID:moved",
    "SEQUENCE:1",
    "DTSTART:20260309T090000Z",
    "SUMMARY:Old time",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "UID:series",
    "DTSTART:20260302T090000Z",
    "RRULE:FREQ=WEEKLY;COUNT=3",
    "SUMMARY:Weekly",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "UID:series",
    "RECURRENCE-ID:20260309T090000Z",
    "SEQUENCE:1",
    "LAST-MODIFIED:20260201T000000Z",
    "DTSTART:20260309T100000Z",
    "SUMMARY:First move",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "UID:series",
    "RECURRENCE-ID:20260309T090000Z",
    "SEQUENCE:1",
    "LAST-MODIFIED:20260202T000000Z",
    "DTSTART:20260309T110000Z",
    "SUMMARY:Second move",
    "END:VEVENT",
  ));
  assert.deepEqual(occurrences.map((o) => [o.uid, o.recurrence_id, o.start, o.title]), [
    ["series", "2026-03-02T09:00:00Z", "2026-03-02T09:00:00Z", "Weekly"],
    ["series", "2026-03-09T09:00:00Z", "2026-03-09T11:00:00Z", "Second move"],
    ["moved", null, "2026-03-10T09:00:00Z", "New time"],
    ["series", "2026-03-16T09:00:00Z", "2026-03-16T09:00:00Z", "Weekly"],
  ]);
  assert.deepEqual(found, reasons("duplicate-event", "duplicate-event"));
});

Deno.test("an all-day series overridden with a DATE-TIME RECURRENCE-ID replaces that day", () => {
  for (
    const rid of [
      "RECURRENCE-ID;TZID=W. Europe Standard Time:20260310T000000",
      "RECURRENCE-ID:20260309T230000Z",
    ]
  ) {
    const { occurrences } = read(ics(
      "BEGIN:VEVENT",
      "UID:holiday",
      "DTSTART;VALUE=DATE:20260303",
      "DTEND;VALUE=DATE:20260304",
      "RRULE:FREQ=WEEKLY;COUNT=3",
      "SUMMARY:Day off",
      "END:VEVENT",
      "BEGIN:VEVENT",
      "UID:holiday",
      rid,
      "DTSTART;VALUE=DATE:20260311",
      "DTEND;VALUE=DATE:20260312",
      "SUMMARY:Day off (moved)",
      "END:VEVENT",
    ));
    assert.deepEqual(occurrences.map((o) => [o.recurrence_id, o.start, o.title]), [
      ["2026-03-03", "2026-03-03", "Day off"],
      ["2026-03-10", "2026-03-11", "Day off (moved)"],
      ["2026-03-17", "2026-03-17", "Day off"],
    ], rid);
  }
});

Deno.test("a malformed line loses only itself: the event stays, with a warning", () => {
  const { occurrences, warnings } = read(ics(
    "BEGIN:VEVENT",
    "UID:apple",
    "DTSTART:20260310T090000Z",
    "DTEND:20260310T100000Z",
    "X-APPLE-STRUCTURED-LOCATION;VALUE=URI;X-ADDRESS=Main Street 1",
    "X-APPLE-RADIUS=49.91;X-TITLE=Office:geo:50.1,8.6",
    "SUMMARY:Planning",
    "DESCRIPTION:First line of the agenda",
    "second line that lost its fold",
    'ATTENDEE;CN=John "Jack" Doe;PARTSTAT=ACCEPTED:mailto:jack@example.com',
    "END:VEVENT",
  ));
  assert.equal(occurrences.length, 1);
  assert.equal(occurrences[0].title, "Planning");
  assert.deepEqual(occurrences[0].attendees.map((a) => [a.name, a.email, a.status]), [
    ['John "Jack" Doe', "jack@example.com", "accepted"],
  ]);
  assert.deepEqual(warnings.map((w) => [w.reason, w.line]), [
    ["malformed-line", 8],
    ["malformed-line", 9],
    ["malformed-line", 12],
  ]);
});

Deno.test("disagreeing start and end are read as the major clients read them", () => {
  const { occurrences, reasons: found } = read(ics(
    "BEGIN:VEVENT",
    "UID:date-to-datetime",
    "DTSTART;VALUE=DATE:20260310",
    "DTEND:20260311T120000Z",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "UID:backwards",
    "DTSTART:20260312T100000Z",
    "DTEND:20260312T090000Z",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "UID:week",
    "DTSTART:20260316T090000Z",
    "DURATION:PT1W",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "UID:period",
    "DTSTART;VALUE=DATE:20260401",
    "RDATE;VALUE=PERIOD:20260501/20260503",
    "END:VEVENT",
  ));
  const byUid = (uid: string) =>
    occurrences.filter((o) => o.uid === uid).map((o) => [o.all_day, o.start, o.end]);
  assert.deepEqual(byUid("date-to-datetime"), [[true, "2026-03-10", "2026-03-12"]]);
  assert.deepEqual(byUid("backwards"), [[false, "2026-03-12T10:00:00Z", "2026-03-12T10:00:00Z"]]);
  assert.deepEqual(byUid("week"), [[false, "2026-03-16T09:00:00Z", "2026-03-23T09:00:00Z"]]);
  assert.deepEqual(byUid("period"), [
    [true, "2026-04-01", "2026-04-02"],
    [true, "2026-05-01", "2026-05-03"],
  ]);
  assert.deepEqual(found, reasons("timing-repaired", "timing-repaired"));
});

Deno.test("two RRULE lines give the union; DTSTART counts as the first of each COUNT", () => {
  const { occurrences } = read(ics(
    "BEGIN:VEVENT",
    "UID:twice",
    "DTSTART:20260302T090000Z",
    "RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=2",
    "RRULE:FREQ=WEEKLY;BYDAY=TH;COUNT=2",
    "END:VEVENT",
  ));
  // The Thursday rule's COUNT=2 is DTSTART (a Monday) and one Thursday (RFC 5545 §3.3.10).
  assert.deepEqual(occurrences.map((o) => o.start), [
    "2026-03-02T09:00:00Z",
    "2026-03-05T09:00:00Z",
    "2026-03-09T09:00:00Z",
  ]);
});

Deno.test("RANGE=THISANDFUTURE moves that occurrence and every later one", () => {
  const { occurrences } = read(ics(
    "BEGIN:VEVENT",
    "UID:standup",
    "DTSTART;TZID=Europe/Berlin:20260302T090000",
    "DTEND;TZID=Europe/Berlin:20260302T091500",
    "RRULE:FREQ=WEEKLY;COUNT=4",
    "SUMMARY:Standup",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "UID:standup",
    "RECURRENCE-ID;RANGE=THISANDFUTURE;TZID=Europe/Berlin:20260316T090000",
    "DTSTART;TZID=Europe/Berlin:20260316T100000",
    "DTEND;TZID=Europe/Berlin:20260316T103000",
    "SUMMARY:Standup (later)",
    "END:VEVENT",
  ));
  assert.deepEqual(occurrences.map((o) => [o.recurrence_id, o.start, o.end, o.title]), [
    ["2026-03-02T08:00:00Z", "2026-03-02T08:00:00Z", "2026-03-02T08:15:00Z", "Standup"],
    ["2026-03-09T08:00:00Z", "2026-03-09T08:00:00Z", "2026-03-09T08:15:00Z", "Standup"],
    [
      "2026-03-16T08:00:00Z",
      "2026-03-16T09:00:00Z",
      "2026-03-16T09:30:00Z",
      "Standup (later)",
    ],
    [
      "2026-03-23T08:00:00Z",
      "2026-03-23T09:00:00Z",
      "2026-03-23T09:30:00Z",
      "Standup (later)",
    ],
  ]);
});

Deno.test("an empty RRULE means no rule: the holiday is kept once", () => {
  const { occurrences, reasons: found } = read(ics(
    "BEGIN:VEVENT",
    "UID:new-year",
    "DTSTART;VALUE=DATE:20260101",
    "RRULE:",
    "SUMMARY:New Year",
    "END:VEVENT",
  ));
  assert.deepEqual(occurrences.map((o) => [o.start, o.title]), [["2026-01-01", "New Year"]]);
  assert.deepEqual(found, reasons("malformed-value"));
});

Deno.test("lines after END:VCALENDAR are ignored with a warning", () => {
  const { occurrences, warnings } = read(
    ics("BEGIN:VEVENT", "UID:a", "DTSTART:20260310T090000Z", "END:VEVENT") +
      "X-MAILER-FOOTER:sent by gateway\r\n<html>\r\n",
  );
  assert.equal(occurrences.length, 1);
  assert.deepEqual(warnings.map((w) => [w.reason, w.line]), [
    ["trailing-data", 9],
    ["trailing-data", 10],
  ]);
});

Deno.test("floating times follow X-WR-TIMEZONE, before the caller's zone", () => {
  const file = ics(
    "X-WR-TIMEZONE:Europe/Berlin",
    "BEGIN:VEVENT",
    "UID:f",
    "DTSTART:20260310T090000",
    "END:VEVENT",
  );
  assert.deepEqual(read(file, "America/New_York").occurrences.map((o) => o.start), [
    "2026-03-10T08:00:00Z",
  ]);
  const without = file.replace("X-WR-TIMEZONE:Europe/Berlin\r\n", "");
  assert.deepEqual(read(without, "America/New_York").occurrences.map((o) => o.start), [
    "2026-03-10T13:00:00Z",
  ]);
});

Deno.test("an END that skips an unclosed VALARM closes it and keeps the event", () => {
  const { occurrences, reasons: found } = read(ics(
    "BEGIN:VEVENT",
    "UID:alarm",
    "DTSTART:20260310T090000Z",
    "BEGIN:VALARM",
    "TRIGGER:-PT15M",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "UID:next",
    "DTSTART:20260311T090000Z",
    "END:VEVENT",
  ));
  assert.deepEqual(occurrences.map((o) => o.uid), ["alarm", "next"]);
  assert.deepEqual(found, reasons("malformed-line"));
});

Deno.test("a UID repeated in a second VCALENDAR of the same file resolves like one in the first", () => {
  const older = ics(
    "BEGIN:VEVENT",
    "UID:u",
    "SEQUENCE:0",
    "DTSTART:20260310T090000Z",
    "END:VEVENT",
  );
  const newer = ics(
    "BEGIN:VEVENT",
    "UID:u",
    "SEQUENCE:3",
    "DTSTART:20260310T140000Z",
    "END:VEVENT",
  );
  const { occurrences, reasons: found } = read(older + newer);
  assert.deepEqual(occurrences.map((o) => o.start), ["2026-03-10T14:00:00Z"]);
  assert.deepEqual(found, reasons("duplicate-event"));
});

Deno.test("dates in ISO 8601 extended form, and a date typed DATE-TIME, are read", () => {
  const { occurrences, warnings } = read(ics(
    "BEGIN:VEVENT",
    "UID:iso",
    "DTSTART:2026-03-10T09:00:00Z",
    "DTEND:2026-03-10T09:30:00Z",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "UID:typed",
    "DTSTART;VALUE=DATE-TIME:20260311",
    "END:VEVENT",
  ));
  assert.deepEqual(occurrences.map((o) => [o.uid, o.start, o.end]), [
    ["iso", "2026-03-10T09:00:00Z", "2026-03-10T09:30:00Z"],
    ["typed", "2026-03-11", "2026-03-12"],
  ]);
  assert.deepEqual(warnings, []);
});

Deno.test("a calendar missing only its END:VCALENDAR is read; a cut-off event is refused", () => {
  const whole = ics("BEGIN:VEVENT", "UID:a", "DTSTART:20260310T090000Z", "END:VEVENT");
  const { occurrences, reasons: found } = read(whole.replace("END:VCALENDAR\r\n", ""));
  assert.deepEqual(occurrences.map((o) => o.uid), ["a"]);
  assert.deepEqual(found, reasons("malformed-line"));
  assert.throws(
    () => read(whole.replace("END:VEVENT\r\nEND:VCALENDAR\r\n", "")),
    /BEGIN:VEVENT is never closed; the data looks truncated/,
  );
});

Deno.test("a parameter without value is left out, the line kept", () => {
  const { occurrences, reasons: found } = read(ics(
    "BEGIN:VEVENT",
    "UID:rsvp",
    "DTSTART:20260310T090000Z",
    "ATTENDEE;RSVP;CN=Ann:mailto:ann@example.com",
    "END:VEVENT",
  ));
  assert.deepEqual(occurrences[0].attendees.map((a) => [a.name, a.email]), [
    ["Ann", "ann@example.com"],
  ]);
  assert.deepEqual(found, reasons("malformed-value"));
});

Deno.test("text that is not UTF-8 is read as Windows-1252, with one warning", () => {
  const [before, after] = ics(
    "BEGIN:VEVENT",
    "UID:latin",
    "DTSTART:20260310T090000Z",
    "SUMMARY:B?ro",
    "END:VEVENT",
  ).split("?");
  const utf8 = new TextEncoder();
  // 0xFC is "ü" in Windows-1252 and no valid UTF-8 on its own.
  const bytes = new Uint8Array([...utf8.encode(before), 0xfc, ...utf8.encode(after)]);
  const { occurrences, warnings } = parseIcsDetailed(bytes, YEAR);
  assert.equal(occurrences[0].title, "Büro");
  assert.deepEqual(warnings.map((w) => [w.reason, w.line]), [["malformed-value", 7]]);
});

Deno.test("a VEVENT that lost its END is ended by the next BEGIN:VEVENT; both are kept", () => {
  const { occurrences, reasons: found } = read(ics(
    "BEGIN:VEVENT",
    "UID:first",
    "DTSTART:20260310T090000Z",
    "BEGIN:VEVENT",
    "UID:second",
    "DTSTART:20260311T090000Z",
    "END:VEVENT",
  ));
  assert.deepEqual(occurrences.map((o) => o.uid), ["first", "second"]);
  assert.deepEqual(found, reasons("malformed-line"));
});
