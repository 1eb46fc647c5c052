import assert from "node:assert/strict";
import ICAL from "ical.js";
import { generateIcs, parseIcs } from "../../shared/ics/mod.ts";
import { Occurrence, type OccurrenceInput } from "../../shared/model.ts";

const stamp = new Date("2026-03-01T12:00:00Z");
const everything = { start: "2026-01-01T00:00:00Z", end: "2027-01-01T00:00:00Z" };
const occurrence = (input: OccurrenceInput): Occurrence => Occurrence.parse(input);

/** One of each kind of occurrence, in the order parseIcs sorts them. */
const occurrences: Occurrence[] = [
  occurrence({
    uid: "all-day-trip@example.com",
    all_day: true,
    start: "2026-03-27",
    end: "2026-03-30",
    title: "Trip",
    show_as: "free",
  }),
  occurrence({
    uid: "standup@example.com",
    recurrence_id: "2026-03-30T07:00:00Z",
    start: "2026-03-30T07:00:00Z",
    end: "2026-03-30T07:30:00Z",
    timezone: "Europe/Berlin",
    title: "Stand-up; daily, short",
    location: "Room 4.12, 4th floor",
    description: "Agenda:\n1. Yesterday\n2. Today\\Tomorrow",
    status: "tentative",
    show_as: "tentative",
    sensitivity: "private",
    categories: ["Team", "Daily, short"],
    organizer: { name: "Doe, Jane", email: "jane@example.com" },
    attendees: [
      { name: "Bob", email: "bob@example.com", role: "chair", status: "accepted" },
      {
        name: 'Dr. "Al" O\'Neil; Jr.^',
        email: "al@example.com",
        role: "optional",
        status: "declined",
      },
      { name: "", email: "room@example.com", role: "non-participant", status: "delegated" },
      { name: "Eve", email: "eve@example.com", role: "required", status: "needs-action" },
      { name: "Tim", email: "tim@example.com", role: "required", status: "tentative" },
    ],
    last_modified: "2026-03-02T10:11:12Z",
  }),
  occurrence({
    uid: "standup@example.com",
    recurrence_id: "2026-03-31T07:00:00Z",
    start: "2026-03-31T09:00:00Z",
    end: "2026-03-31T09:30:00Z",
    timezone: "Europe/Berlin",
    title: "Stand-up (moved)",
    status: "cancelled",
  }),
  occurrence({
    uid: "holiday-series",
    recurrence_id: "2026-04-01",
    all_day: true,
    start: "2026-04-01",
    end: "2026-04-02",
    timezone: "Europe/Paris",
    title: "Company holiday",
    show_as: "oof",
  }),
  occurrence({
    uid: "custom-zone",
    start: "2026-04-02T08:00:00Z",
    end: "2026-04-02T09:00:00Z",
    timezone: null,
    title: "Zone known only by offsets",
    show_as: "elsewhere",
    sensitivity: "confidential",
  }),
  occurrence({
    uid: "odd,uid;with\\specials",
    start: "2026-04-03T12:00:00Z",
    end: "2026-04-03T12:00:00Z",
    timezone: "UTC",
    title: "Réunion café ☕ – 会議 🎉 ".repeat(6).trim(),
    description: "東京オフィスとの合同会議です。".repeat(10) + "\n" + "🙂🎉".repeat(40),
    organizer: { name: "Zoë Müller", email: "zoe@example.com" },
  }),
];

Deno.test("a generated calendar parses back into the same occurrences", () => {
  const text = generateIcs(occurrences, { calendarName: "Team", stamp });
  assert.deepEqual(parseIcs(text, everything), occurrences);
});

Deno.test("a timed occurrence is written with UTC times and every field", () => {
  const text = generateIcs([occurrences[1]], { calendarName: "Team, Berlin", stamp });
  assert.equal(
    text,
    [
      "BEGIN:VCALENDAR",
      "VERSION:2.0",
      "PRODID:-//calsync//calsync 0.1.0//EN",
      "X-WR-CALNAME:Team\\, Berlin",
      "BEGIN:VEVENT",
      "UID:standup@example.com",
      "DTSTAMP:20260302T101112Z",
      "DTSTART:20260330T070000Z",
      "DTEND:20260330T073000Z",
      "RECURRENCE-ID:20260330T070000Z",
      "SUMMARY:Stand-up\\; daily\\, short",
      "LOCATION:Room 4.12\\, 4th floor",
      "DESCRIPTION:Agenda:\\n1. Yesterday\\n2. Today\\\\Tomorrow",
      "STATUS:TENTATIVE",
      "TRANSP:OPAQUE",
      "CLASS:PRIVATE",
      "CATEGORIES:Team,Daily\\, short",
      'ORGANIZER;CN="Doe, Jane":MAILTO:jane@example.com',
      "LAST-MODIFIED:20260302T101112Z",
      'ATTENDEE;ROLE=CHAIR;CN="Bob";PARTSTAT=ACCEPTED:MAILTO:bob@example.com',
      `ATTENDEE;ROLE=OPT-PARTICIPANT;CN="Dr. ^'Al^' O'Neil; Jr.^^";PARTSTAT=DECLIN`,
      " ED:MAILTO:al@example.com",
      "ATTENDEE;ROLE=NON-PARTICIPANT;PARTSTAT=DELEGATED:MAILTO:room@example.com",
      'ATTENDEE;ROLE=REQ-PARTICIPANT;CN="Eve";PARTSTAT=NEEDS-ACTION:MAILTO:eve@exa',
      " mple.com",
      'ATTENDEE;ROLE=REQ-PARTICIPANT;CN="Tim";PARTSTAT=TENTATIVE:MAILTO:tim@exampl',
      " e.com",
      "X-MICROSOFT-CDO-BUSYSTATUS:TENTATIVE",
      "X-CALSYNC-TIMEZONE:Europe/Berlin",
      "END:VEVENT",
      "END:VCALENDAR",
      "",
    ].join("\r\n"),
  );
});

Deno.test("a zone without an IANA name is written as 'none', never as an empty value", () => {
  const text = generateIcs([occurrences[4]], { stamp });
  assert.match(text, /\r\nX-CALSYNC-TIMEZONE:none\r\n/);
  assert.doesNotMatch(text, /^[A-Z-]+(;[^:]*)?:\r?$/m, "no property with an empty value");
  // libical-compatible readers take it as any X- property.
  const vevent = new ICAL.Component(ICAL.parse(text)).getFirstSubcomponent("vevent")!;
  assert.equal(vevent.getFirstPropertyValue("x-calsync-timezone"), "none");
  // Feeds written before carried the empty value; it still reads as no zone.
  const older = text.replace("X-CALSYNC-TIMEZONE:none", "X-CALSYNC-TIMEZONE:");
  assert.equal(parseIcs(older, everything)[0].timezone, null);
});

Deno.test("an untitled occurrence gets no empty SUMMARY or CATEGORIES", () => {
  const untitled = occurrence({
    uid: "untitled",
    start: "2026-04-05T08:00:00Z",
    end: "2026-04-05T09:00:00Z",
    categories: ["", " "],
  });
  const text = generateIcs([untitled], { stamp });
  assert.doesNotMatch(text, /^(SUMMARY|CATEGORIES)/m);
  assert.doesNotMatch(text, /^[A-Z-]+(;[^:]*)?:\r?$/m);
  assert.deepEqual(parseIcs(text, everything), [{ ...untitled, categories: [] }]);
});

Deno.test("DTSTAMP is the writer's own change instant when one is given per occurrence", () => {
  const changed = new Date("2026-02-14T08:30:00Z");
  const text = generateIcs([occurrences[1]], { stamp: () => changed });
  assert.match(text, /\r\nDTSTAMP:20260214T083000Z\r\n/);
  assert.match(text, /\r\nLAST-MODIFIED:20260302T101112Z\r\n/, "the source's own stays");
});

Deno.test("all-day occurrences are written as dates, also their RECURRENCE-ID", () => {
  const text = generateIcs([occurrences[3]], { stamp });
  assert.match(text, /\r\nDTSTART;VALUE=DATE:20260401\r\nDTEND;VALUE=DATE:20260402\r\n/);
  assert.match(text, /\r\nRECURRENCE-ID;VALUE=DATE:20260401\r\n/);
  assert.match(text, /\r\nDTSTAMP:20260301T120000Z\r\n/);
});

Deno.test("lines end in CRLF and fold at 75 octets without splitting a UTF-8 character", () => {
  const text = generateIcs(occurrences, { stamp });
  assert.ok(text.endsWith("END:VCALENDAR\r\n"));
  assert.ok(!/[^\r]\n|\r[^\n]/.test(text), "every line break is CRLF");
  const lines = new TextEncoder().encode(text);
  const strict = new TextDecoder("utf-8", { fatal: true });
  let folded = 0;
  let start = 0;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== 0x0d) continue;
    const line = lines.subarray(start, i);
    assert.ok(line.length <= 75, `line of ${line.length} octets: ${strict.decode(line)}`);
    strict.decode(line);
    if (line[0] === 0x20) folded++;
    start = i + 2;
  }
  assert.ok(folded > 10, "the long non-ASCII text was folded");
});

Deno.test("an independent parser (ical.js) reads the generated calendar", () => {
  const text = generateIcs(occurrences, { calendarName: "Team", stamp });
  const calendar = new ICAL.Component(ICAL.parse(text));
  assert.equal(calendar.getFirstPropertyValue("x-wr-calname"), "Team");
  const events = calendar.getAllSubcomponents("vevent").map((c) => new ICAL.Event(c));
  assert.equal(events.length, occurrences.length);

  const [trip, standup, moved, holiday, , special] = events;
  assert.equal(trip.startDate.toString(), "2026-03-27");
  assert.equal(trip.endDate.toString(), "2026-03-30");
  assert.equal(trip.component.getFirstPropertyValue("transp"), "TRANSPARENT");

  assert.equal(standup.uid, "standup@example.com");
  assert.equal(standup.summary, "Stand-up; daily, short");
  assert.equal(standup.location, "Room 4.12, 4th floor");
  assert.equal(standup.description, "Agenda:\n1. Yesterday\n2. Today\\Tomorrow");
  assert.equal(standup.startDate.toJSDate().toISOString(), "2026-03-30T07:00:00.000Z");
  assert.equal(standup.endDate.toJSDate().toISOString(), "2026-03-30T07:30:00.000Z");
  assert.equal(standup.recurrenceId.toJSDate().toISOString(), "2026-03-30T07:00:00.000Z");
  assert.deepEqual(standup.component.getFirstProperty("categories")?.getValues(), [
    "Team",
    "Daily, short",
  ]);
  assert.equal(standup.organizer, "MAILTO:jane@example.com");
  const params = (a: (typeof standup.attendees)[number]) =>
    ["cn", "role", "partstat"].map((name) => a.getParameter(name));
  assert.deepEqual(
    standup.attendees.map((a) => [a.getFirstValue(), ...params(a)]),
    [
      ["MAILTO:bob@example.com", "Bob", "CHAIR", "ACCEPTED"],
      ["MAILTO:al@example.com", 'Dr. "Al" O\'Neil; Jr.^', "OPT-PARTICIPANT", "DECLINED"],
      ["MAILTO:room@example.com", undefined, "NON-PARTICIPANT", "DELEGATED"],
      ["MAILTO:eve@example.com", "Eve", "REQ-PARTICIPANT", "NEEDS-ACTION"],
      ["MAILTO:tim@example.com", "Tim", "REQ-PARTICIPANT", "TENTATIVE"],
    ],
  );
  assert.equal(standup.component.getFirstPropertyValue("x-microsoft-cdo-busystatus"), "TENTATIVE");
  assert.equal(standup.component.getFirstPropertyValue("class"), "PRIVATE");

  assert.equal(moved.component.getFirstPropertyValue("status"), "CANCELLED");
  assert.equal(holiday.recurrenceId.toString(), "2026-04-01");

  assert.equal(special.uid, "odd,uid;with\\specials");
  assert.equal(special.summary, occurrences[5].title);
  assert.equal(special.description, occurrences[5].description);
});

Deno.test("an empty list gives a valid, empty calendar", () => {
  const text = generateIcs([], { prodId: "-//Example//Feed//EN", stamp });
  assert.equal(
    text,
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example//Feed//EN\r\nEND:VCALENDAR\r\n",
  );
  assert.deepEqual(parseIcs(text, everything), []);
});

Deno.test("extra X- properties are escaped into each VEVENT, which still parses back", () => {
  const text = generateIcs(occurrences.slice(0, 2), {
    stamp,
    extraProperties: (o) => ({ "X-Example-Key": `key, of; ${o.uid}`, "X-EXAMPLE-N": "1" }),
  });
  const events = text.split("BEGIN:VEVENT").slice(1);
  assert.equal(events.length, 2);
  assert.match(
    events[0],
    /\r\nX-EXAMPLE-KEY:key\\, of\\; all-day-trip@example\.com\r\nX-EXAMPLE-N:1\r\nEND:VEVENT/,
  );
  assert.match(
    events[1],
    /\r\nX-EXAMPLE-KEY:key\\, of\\; standup@example\.com\r\nX-EXAMPLE-N:1\r\nEND:VEVENT/,
  );
  assert.deepEqual(parseIcs(text, everything), occurrences.slice(0, 2));
  assert.throws(() => generateIcs(occurrences, { extraProperties: () => ({ SUMMARY: "x" }) }), {
    name: "RangeError",
  });
});
