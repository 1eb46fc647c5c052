import assert from "node:assert/strict";
import { IcsError, parseIcs, parseIcsDetailed } from "../../shared/ics/mod.ts";
import type { Occurrence } from "../../shared/model.ts";

const fixture = (name: string) =>
  Deno.readFile(new URL(`../fixtures/ics/${name}`, import.meta.url));

const window = (start: string, end: string) => ({ start, end });

/** The timing of each occurrence, the part most tests are about. */
const times = (occurrences: Occurrence[]) =>
  occurrences.map((o) => ({ recurrence_id: o.recurrence_id, start: o.start, end: o.end }));

const calendar = (...lines: string[]) =>
  ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", ...lines, "END:VCALENDAR", ""].join(
    "\r\n",
  );

Deno.test("a weekly 09:00 Europe/Berlin meeting stays at 09:00 local across the March DST change", async () => {
  const occurrences = parseIcs(
    await fixture("berlin-weekly.ics"),
    window("2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z"),
  );
  assert.deepEqual(times(occurrences), [
    {
      recurrence_id: "2026-03-16T08:00:00Z",
      start: "2026-03-16T08:00:00Z",
      end: "2026-03-16T08:30:00Z",
    },
    {
      recurrence_id: "2026-03-23T08:00:00Z",
      start: "2026-03-23T08:00:00Z",
      end: "2026-03-23T08:30:00Z",
    },
    {
      recurrence_id: "2026-03-30T07:00:00Z",
      start: "2026-03-30T07:00:00Z",
      end: "2026-03-30T07:30:00Z",
    },
    {
      recurrence_id: "2026-04-06T07:00:00Z",
      start: "2026-04-06T07:00:00Z",
      end: "2026-04-06T07:30:00Z",
    },
  ]);
  assert.equal(occurrences[0].timezone, "Europe/Berlin");
  assert.equal(occurrences[0].title, "Stand-up");
});

Deno.test("an America/New_York series keeps 09:00 local in both the March and November DST weeks", async () => {
  const ics = await fixture("new-york-weekly.ics");
  const march = parseIcs(ics, window("2026-03-02T00:00:00Z", "2026-03-16T00:00:00Z"));
  assert.deepEqual(march.map((o) => o.start), ["2026-03-02T14:00:00Z", "2026-03-09T13:00:00Z"]);
  const november = parseIcs(ics, window("2026-10-26T00:00:00Z", "2026-11-09T00:00:00Z"));
  assert.deepEqual(november.map((o) => o.start), ["2026-10-26T13:00:00Z", "2026-11-02T14:00:00Z"]);
  assert.deepEqual(november.map((o) => o.timezone), ["America/New_York", "America/New_York"]);
});

Deno.test("Outlook's Windows zone names map to IANA zones, DST included", async () => {
  const occurrences = parseIcs(
    await fixture("outlook-windows-zones.ics"),
    window("2026-03-01T00:00:00Z", "2026-12-01T00:00:00Z"),
  );
  const byTitle = (title: string) => occurrences.filter((o) => o.title === title);

  const team = byTitle("Teamrunde");
  assert.deepEqual(team.map((o) => o.start), [
    "2026-03-23T08:00:00Z",
    "2026-03-30T07:00:00Z",
    "2026-04-06T07:00:00Z",
  ]);
  assert.equal(team[0].timezone, "Europe/Berlin");
  assert.equal(
    team[0].uid,
    "040000008200E00074C5B7101A82E00800000000D0F1C7C5A3A8DC01000000000000000010000000B5C1B0DE5F5B3A4E9E1AC4C5E0B5F0E2",
  );
  assert.equal(team[0].location, "Raum 4.12");
  assert.equal(team[0].last_modified, "2026-03-01T10:15:00Z");

  const client = byTitle("Client call");
  assert.deepEqual(times(client), [
    {
      recurrence_id: "2026-10-26T13:00:00Z",
      start: "2026-10-26T13:00:00Z",
      end: "2026-10-26T14:00:00Z",
    },
    {
      recurrence_id: "2026-11-02T14:00:00Z",
      start: "2026-11-02T14:00:00Z",
      end: "2026-11-02T15:00:00Z",
    },
  ]);
  assert.equal(client[0].timezone, "America/New_York");
  assert.equal(client[0].show_as, "oof");
  assert.equal(client[0].sensitivity, "private");

  const tokyo = byTitle("Tokyo office hours");
  assert.deepEqual(times(tokyo), [
    { recurrence_id: null, start: "2026-03-29T00:00:00Z", end: "2026-03-29T01:00:00Z" },
  ]);
  assert.equal(tokyo[0].timezone, "Asia/Tokyo");
  assert.equal(tokyo[0].show_as, "elsewhere");
});

Deno.test("an Outlook custom TZID is read from the VTIMEZONE in the file", async () => {
  const occurrences = parseIcs(
    await fixture("outlook-custom-vtimezone.ics"),
    window("2026-03-23T00:00:00Z", "2026-04-06T00:00:00Z"),
  );
  assert.deepEqual(times(occurrences), [
    {
      recurrence_id: "2026-03-23T08:00:00Z",
      start: "2026-03-23T08:00:00Z",
      end: "2026-03-23T09:00:00Z",
    },
    {
      recurrence_id: "2026-03-30T07:00:00Z",
      start: "2026-03-30T07:00:00Z",
      end: "2026-03-30T08:00:00Z",
    },
  ]);
  assert.equal(
    occurrences[0].timezone,
    "Europe/Berlin",
    "the Windows display name gives the IANA name; the offsets still come from the VTIMEZONE",
  );

  const autumn = parseIcs(
    await fixture("outlook-custom-vtimezone.ics"),
    window("2026-10-19T00:00:00Z", "2026-11-03T00:00:00Z"),
  );
  assert.deepEqual(times(autumn), [
    {
      recurrence_id: "2026-10-19T07:00:00Z",
      start: "2026-10-19T07:00:00Z",
      end: "2026-10-19T08:00:00Z",
    },
    // 02:30 happens twice on 2026-10-25; the first one is meant.
    { recurrence_id: null, start: "2026-10-25T00:30:00Z", end: "2026-10-25T01:00:00Z" },
    {
      recurrence_id: "2026-10-26T08:00:00Z",
      start: "2026-10-26T08:00:00Z",
      end: "2026-10-26T09:00:00Z",
    },
    {
      recurrence_id: "2026-11-02T08:00:00Z",
      start: "2026-11-02T08:00:00Z",
      end: "2026-11-02T09:00:00Z",
    },
  ]);
});

Deno.test("a time in the spring-forward gap moves forward by the gap", () => {
  const [occurrence] = parseIcs(
    calendar(
      "BEGIN:VEVENT",
      "UID:gap",
      "DTSTART;TZID=Europe/Berlin:20260329T023000",
      "DTEND;TZID=Europe/Berlin:20260329T033000",
      "END:VEVENT",
    ),
    window("2026-03-29T00:00:00Z", "2026-03-30T00:00:00Z"),
  );
  assert.equal(occurrence.start, "2026-03-29T01:30:00Z");
  assert.equal(occurrence.end, "2026-03-29T01:30:00Z");
});

Deno.test("all-day events are plain dates with an exclusive end, single, multi-day and weekly", async () => {
  const occurrences = parseIcs(
    await fixture("all-day.ics"),
    window("2026-03-23T00:00:00Z", "2026-04-06T00:00:00Z"),
  );
  assert.deepEqual(
    occurrences.map((o) => [o.uid, o.recurrence_id, o.start, o.end]),
    [
      ["gym@example.com", "2026-03-23", "2026-03-23", "2026-03-24"],
      ["gym@example.com", "2026-03-28", "2026-03-28", "2026-03-29"],
      ["holiday@example.com", null, "2026-03-29", "2026-03-30"],
      ["gym@example.com", "2026-03-30", "2026-03-30", "2026-03-31"],
      ["conference@example.com", null, "2026-04-01", "2026-04-04"],
      ["birthday@example.com", null, "2026-04-02", "2026-04-03"],
      ["gym@example.com", "2026-04-02", "2026-04-02", "2026-04-03"],
    ],
  );
  assert.ok(occurrences.every((o) => o.all_day && o.timezone === null));
  assert.equal(occurrences.find((o) => o.uid === "holiday@example.com")?.show_as, "free");
});

Deno.test("an all-day event is never shifted by the floating zone", () => {
  const ics = calendar("BEGIN:VEVENT", "UID:d", "DTSTART;VALUE=DATE:20260329", "END:VEVENT");
  const [occurrence] = parseIcs(ics, window("2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z"), {
    floatingZone: "Pacific/Auckland",
  });
  assert.deepEqual([occurrence.start, occurrence.end], ["2026-03-29", "2026-03-30"]);
});

Deno.test("EXDATE, RDATE, moved and cancelled occurrences of one series", async () => {
  const occurrences = parseIcs(
    await fixture("exceptions.ics"),
    window("2026-04-01T00:00:00Z", "2026-05-20T00:00:00Z"),
  );
  assert.deepEqual(
    occurrences.map((o) => [o.recurrence_id, o.start, o.end, o.status, o.title]),
    [
      [
        "2026-04-07T08:00:00Z",
        "2026-04-07T08:00:00Z",
        "2026-04-07T09:00:00Z",
        "confirmed",
        "Review",
      ],
      // RDATE adds Thursday 9 April; EXDATE (a list and a UTC line) removes 14, 21 and 28 April.
      [
        "2026-04-09T13:00:00Z",
        "2026-04-09T13:00:00Z",
        "2026-04-09T14:00:00Z",
        "confirmed",
        "Review",
      ],
      // Moved: the key stays the original start.
      [
        "2026-05-05T08:00:00Z",
        "2026-05-06T12:00:00Z",
        "2026-05-06T13:00:00Z",
        "confirmed",
        "Review (moved to Wednesday)",
      ],
      [
        "2026-05-12T08:00:00Z",
        "2026-05-12T08:00:00Z",
        "2026-05-12T09:00:00Z",
        "cancelled",
        "Review",
      ],
      // Moved into the window from 26 May; the one of 19 May moved out of it to June.
      [
        "2026-05-26T08:00:00Z",
        "2026-05-18T12:00:00Z",
        "2026-05-18T13:00:00Z",
        "confirmed",
        "Review (moved up a week)",
      ],
    ],
  );
});

Deno.test("COUNT, UNTIL, BYDAY with ordinals, BYSETPOS and BYMONTHDAY", async () => {
  const occurrences = parseIcs(
    await fixture("recurrence-rules.ics"),
    window("2026-01-01T00:00:00Z", "2026-07-01T00:00:00Z"),
  );
  const starts = (uid: string) => occurrences.filter((o) => o.uid === uid).map((o) => o.start);
  assert.deepEqual(starts("last-friday"), [
    "2026-01-30T15:00:00Z",
    "2026-02-27T15:00:00Z",
    "2026-03-27T15:00:00Z",
  ]);
  assert.deepEqual(starts("last-workday"), [
    "2026-01-30T16:00:00Z",
    "2026-02-27T16:00:00Z",
    "2026-03-31T16:00:00Z",
    "2026-04-30T16:00:00Z",
    "2026-05-29T16:00:00Z",
  ]);
  assert.deepEqual(starts("anniversary"), ["2026-03-29T12:00:00Z"]);
});

Deno.test("WKST changes which days an every-other-week rule picks (RFC 5545 example)", async () => {
  const occurrences = parseIcs(
    await fixture("recurrence-rules.ics"),
    window("1997-08-01T00:00:00Z", "1997-09-30T00:00:00Z"),
  );
  const starts = (uid: string) => occurrences.filter((o) => o.uid === uid).map((o) => o.start);
  assert.deepEqual(starts("wkst-monday"), [
    "1997-08-05T09:00:00Z",
    "1997-08-10T09:00:00Z",
    "1997-08-19T09:00:00Z",
    "1997-08-24T09:00:00Z",
  ]);
  assert.deepEqual(starts("wkst-sunday"), [
    "1997-08-05T09:00:00Z",
    "1997-08-17T09:00:00Z",
    "1997-08-19T09:00:00Z",
    "1997-08-31T09:00:00Z",
  ]);
});

Deno.test("an endless RRULE is expanded only inside the window", async () => {
  const occurrences = parseIcs(
    await fixture("recurrence-rules.ics"),
    window("2026-03-28T00:00:00Z", "2026-04-01T00:00:00Z"),
  );
  assert.deepEqual(
    occurrences.filter((o) => o.uid === "every-day-forever").map((o) => o.start),
    [
      "2026-03-28T07:00:00Z",
      "2026-03-29T07:00:00Z",
      "2026-03-30T07:00:00Z",
      "2026-03-31T07:00:00Z",
    ],
  );
});

Deno.test("ten thousand occurrences expand in well under a second", () => {
  const ics = calendar(
    "BEGIN:VEVENT",
    "UID:daily",
    "DTSTART;TZID=Europe/Berlin:20000101T090000",
    "DURATION:PT15M",
    "RRULE:FREQ=DAILY",
    "END:VEVENT",
  );
  const started = performance.now();
  const occurrences = parseIcs(ics, window("2000-01-01T00:00:00Z", "2027-05-19T00:00:00Z"));
  const elapsed = performance.now() - started;
  assert.equal(occurrences.length, 10_000);
  assert.equal(occurrences[0].start, "2000-01-01T08:00:00Z");
  assert.equal(occurrences[9_999].start, "2027-05-18T07:00:00Z");
  assert.ok(elapsed < 900, `took ${Math.round(elapsed)} ms`);
});

Deno.test("a rule that can never occur is reported, not searched until year 9999", () => {
  const started = performance.now();
  const { occurrences, warnings } = parseIcsDetailed(
    calendar(
      "BEGIN:VEVENT",
      "UID:never",
      "DTSTART:20260101T000000Z",
      "RRULE:FREQ=HOURLY;INTERVAL=2;BYHOUR=3",
      "END:VEVENT",
    ),
    window("2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"),
  );
  assert.deepEqual(occurrences, []);
  assert.match(warnings[0].message, /UID never.*never occurs/);
  assert.ok(performance.now() - started < 500);
});

Deno.test("DURATION: exact hours, and days on the wall clock", async () => {
  const occurrences = parseIcs(
    await fixture("duration.ics"),
    window("2026-03-27T00:00:00Z", "2026-04-02T00:00:00Z"),
  );
  assert.deepEqual(
    occurrences.map((o) => [o.uid, o.start, o.end]),
    [
      // P1D from 09:00 on the day before the change ends at 09:00 the next day: 23 hours.
      ["retreat", "2026-03-28T08:00:00Z", "2026-03-29T07:00:00Z"],
      ["workshop", "2026-03-30T07:00:00Z", "2026-03-30T08:30:00Z"],
      ["reminder", "2026-03-31T12:00:00Z", "2026-03-31T12:00:00Z"],
    ],
  );
  assert.equal(occurrences[2].timezone, "UTC");
});

Deno.test("floating times use the floatingZone option, UTC by default", () => {
  const ics = calendar("BEGIN:VEVENT", "UID:f", "DTSTART:20260330T090000", "END:VEVENT");
  const range = window("2026-03-30T00:00:00Z", "2026-03-31T00:00:00Z");
  assert.equal(parseIcs(ics, range)[0].start, "2026-03-30T09:00:00Z");
  const [berlin] = parseIcs(ics, range, { floatingZone: "Europe/Berlin" });
  assert.deepEqual([berlin.start, berlin.timezone], ["2026-03-30T07:00:00Z", "Europe/Berlin"]);
});

Deno.test("non-ASCII text survives, also where a fold splits a UTF-8 character", async () => {
  const [occurrence] = parseIcs(
    await fixture("non-ascii-folded.ics"),
    window("2026-03-31T00:00:00Z", "2026-04-01T00:00:00Z"),
  );
  assert.equal(occurrence.title, "Réunion café ☕ – 会議 🎉");
  assert.equal(occurrence.location, "Salle « Étoile », 2ᵉ étage");
  assert.equal(
    occurrence.description,
    "Ordre du jour : présentation des résultats trimestriels, café et croissants offerts.\n" +
      "東京オフィスとの合同会議です。よろしくお願いします。🙂🎉",
  );
  assert.deepEqual(occurrence.organizer, { name: "Zoë Müller", email: "zoe@example.com" });
  assert.deepEqual(occurrence.attendees, [
    { name: "田中太郎", email: "tanaka@example.jp", role: "required", status: "tentative" },
  ]);
  assert.deepEqual(occurrence.categories, ["Réunion", "会議"]);
  assert.deepEqual([occurrence.start, occurrence.end], [
    "2026-03-31T12:00:00Z",
    "2026-03-31T13:30:00Z",
  ]);
});

Deno.test("every field of a VEVENT maps onto the occurrence", () => {
  const [occurrence] = parseIcs(
    calendar(
      "BEGIN:VEVENT",
      "UID:fields@example.com",
      "DTSTAMP:20260301T120000Z",
      "DTSTART:20260330T080000Z",
      "DTEND:20260330T090000Z",
      "SUMMARY:Budget\\; Q2",
      "LOCATION:Room 1\\, floor 2",
      "DESCRIPTION:Line one\\nLine two\\\\end",
      "STATUS:TENTATIVE",
      "TRANSP:TRANSPARENT",
      "X-MICROSOFT-CDO-BUSYSTATUS:TENTATIVE",
      "CLASS:CONFIDENTIAL",
      "CATEGORIES:Finance,Planning",
      "CATEGORIES:Q2",
      'ORGANIZER;CN="Doe, Jane":mailto:jane@example.com',
      "ATTENDEE;CN=Bob;ROLE=OPT-PARTICIPANT;PARTSTAT=DECLINED:mailto:bob@example.com",
      "ATTENDEE;ROLE=CHAIR;PARTSTAT=ACCEPTED:MAILTO:chair@example.com",
      "ATTENDEE;CN=Room;ROLE=NON-PARTICIPANT;PARTSTAT=DELEGATED:mailto:room@example.com",
      "ATTENDEE:mailto:someone@example.com",
      "LAST-MODIFIED:20260302T101112Z",
      "END:VEVENT",
    ),
    window("2026-03-30T00:00:00Z", "2026-03-31T00:00:00Z"),
  );
  assert.deepEqual(occurrence, {
    uid: "fields@example.com",
    recurrence_id: null,
    response_status: null,
    all_day: false,
    start: "2026-03-30T08:00:00Z",
    end: "2026-03-30T09:00:00Z",
    timezone: "UTC",
    title: "Budget; Q2",
    location: "Room 1, floor 2",
    description: "Line one\nLine two\\end",
    status: "tentative",
    show_as: "tentative",
    sensitivity: "confidential",
    categories: ["Finance", "Planning", "Q2"],
    organizer: { name: "Doe, Jane", email: "jane@example.com" },
    attendees: [
      { name: "Bob", email: "bob@example.com", role: "optional", status: "declined" },
      { name: "", email: "chair@example.com", role: "chair", status: "accepted" },
      { name: "Room", email: "room@example.com", role: "non-participant", status: "delegated" },
      { name: "", email: "someone@example.com", role: "required", status: "needs-action" },
    ],
    last_modified: "2026-03-02T10:11:12Z",
  });
});

Deno.test("TRANSP decides show_as when there is no X-MICROSOFT-CDO-BUSYSTATUS", () => {
  const [free, busy] = parseIcs(
    calendar(
      "BEGIN:VEVENT",
      "UID:a",
      "DTSTART:20260330T080000Z",
      "TRANSP:TRANSPARENT",
      "END:VEVENT",
      "BEGIN:VEVENT",
      "UID:b",
      "DTSTART:20260330T090000Z",
      "TRANSP:OPAQUE",
      "END:VEVENT",
    ),
    window("2026-03-30T00:00:00Z", "2026-03-31T00:00:00Z"),
  );
  assert.deepEqual([free.show_as, busy.show_as], ["free", "busy"]);
});

Deno.test("input that is not iCalendar throws IcsError naming the line", async () => {
  const range = window("2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z");
  const loginPage = await fixture("not-icalendar.ics");
  assert.throws(
    () => parseIcs(loginPage, range),
    (error) =>
      error instanceof IcsError &&
      error.message.startsWith('line 1: expected BEGIN:VCALENDAR, found "<!DOCTYPE html>"'),
  );
  assert.throws(() => parseIcs("", range), IcsError);
});

Deno.test("truncated data throws IcsError rather than passing for a smaller calendar", () => {
  assert.throws(
    () =>
      parseIcs(
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:20260330T080000Z\r\n",
        window("2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z"),
      ),
    (error) =>
      error instanceof IcsError && /line 2: BEGIN:VEVENT is never closed/.test(error.message),
  );
});

Deno.test("an event without a usable start is skipped; a broken rule or line only loses itself", async () => {
  const { occurrences, warnings } = parseIcsDetailed(
    await fixture("broken-event.ics"),
    window("2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z"),
  );
  assert.deepEqual(occurrences.map((o) => [o.uid, o.recurrence_id]), [
    ["good-before", null],
    ["bad-line", null],
    ["bad-rule", null],
    ["good-after", null],
  ]);
  assert.deepEqual(warnings, [
    {
      reason: "event-skipped",
      line: 11,
      message:
        'VEVENT at line 11 (UID bad-date) skipped: DTSTART "2026-03-31 09:00" is not a date-time such as 20260329T090000',
    },
    {
      reason: "malformed-value",
      line: 21,
      message:
        'line 21: RRULE left out: RRULE FREQ "FORTNIGHTLY" is not one of YEARLY, MONTHLY, WEEKLY, DAILY, HOURLY, MINUTELY, SECONDLY',
    },
    {
      reason: "malformed-line",
      line: 28,
      message: 'line 28: expected NAME:value, found "Please call me about this"; line left out',
    },
  ]);
});

Deno.test("an unknown TZID without VTIMEZONE is read as floating, with a warning", () => {
  const { occurrences, warnings } = parseIcsDetailed(
    calendar(
      "BEGIN:VEVENT",
      "UID:lost",
      "DTSTART;TZID=Mars/Olympus_Mons:20260330T090000",
      "END:VEVENT",
    ),
    window("2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z"),
    { floatingZone: "Europe/Berlin" },
  );
  assert.deepEqual(occurrences.map((o) => o.start), ["2026-03-30T07:00:00Z"]);
  assert.deepEqual(warnings, [{
    reason: "timezone-unknown",
    line: null,
    message:
      'TZID "Mars/Olympus_Mons" is no known time zone and has no VTIMEZONE; its times are read as floating (Europe/Berlin)',
  }]);
});
