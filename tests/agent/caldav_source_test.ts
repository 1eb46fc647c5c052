import assert from "node:assert/strict";
import { CalDavSettings, calDavSource } from "../../agent/sources/caldav.ts";
import { SOURCE_TYPES, type SourceContext } from "../../agent/sources/mod.ts";
import type { Occurrence } from "../../shared/model.ts";
import { putResource, startRadicale } from "../helpers/radicale.ts";

const WINDOW = { start: "2026-03-01T00:00:00Z", end: "2026-04-05T00:00:00Z" };

const context: SourceContext = {
  window: WINDOW,
  configDir: Deno.cwd(),
  fetch: (request) => fetch(request),
};

function calendar(...lines: string[]): string {
  return ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Test//EN", ...lines, "END:VCALENDAR", ""]
    .join("\r\n");
}

const BERLIN = [
  "BEGIN:VTIMEZONE",
  "TZID:Europe/Berlin",
  "BEGIN:DAYLIGHT",
  "TZOFFSETFROM:+0100",
  "TZOFFSETTO:+0200",
  "DTSTART:19700329T020000",
  "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
  "END:DAYLIGHT",
  "BEGIN:STANDARD",
  "TZOFFSETFROM:+0200",
  "TZOFFSETTO:+0100",
  "DTSTART:19701025T030000",
  "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
  "END:STANDARD",
  "END:VTIMEZONE",
];

const NEW_YORK = [
  "BEGIN:VTIMEZONE",
  "TZID:America/New_York",
  "BEGIN:DAYLIGHT",
  "TZOFFSETFROM:-0500",
  "TZOFFSETTO:-0400",
  "DTSTART:19700308T020000",
  "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU",
  "END:DAYLIGHT",
  "BEGIN:STANDARD",
  "TZOFFSETFROM:-0400",
  "TZOFFSETTO:-0500",
  "DTSTART:19701101T020000",
  "RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU",
  "END:STANDARD",
  "END:VTIMEZONE",
];

/** Weekly on Wednesdays 09:00 Berlin across the DST change; one moved, one cancelled. */
const WEEKLY = calendar(
  ...BERLIN,
  "BEGIN:VEVENT",
  "UID:weekly@calsync.test",
  "DTSTAMP:20260201T000000Z",
  "DTSTART;TZID=Europe/Berlin:20260304T090000",
  "DTEND;TZID=Europe/Berlin:20260304T100000",
  "RRULE:FREQ=WEEKLY;COUNT=6",
  "SUMMARY:Weekly",
  "END:VEVENT",
  "BEGIN:VEVENT",
  "UID:weekly@calsync.test",
  "DTSTAMP:20260201T000000Z",
  "RECURRENCE-ID;TZID=Europe/Berlin:20260311T090000",
  "DTSTART;TZID=Europe/Berlin:20260312T140000",
  "DTEND;TZID=Europe/Berlin:20260312T150000",
  "SUMMARY:Weekly (moved)",
  "END:VEVENT",
  "BEGIN:VEVENT",
  "UID:weekly@calsync.test",
  "DTSTAMP:20260201T000000Z",
  "RECURRENCE-ID;TZID=Europe/Berlin:20260318T090000",
  "DTSTART;TZID=Europe/Berlin:20260318T090000",
  "DTEND;TZID=Europe/Berlin:20260318T100000",
  "STATUS:CANCELLED",
  "SUMMARY:Weekly",
  "END:VEVENT",
);

const NEW_YORK_CALL = calendar(
  ...NEW_YORK,
  "BEGIN:VEVENT",
  "UID:ny-call@calsync.test",
  "DTSTAMP:20260201T000000Z",
  "DTSTART;TZID=America/New_York:20260310T090000",
  "DTEND;TZID=America/New_York:20260310T100000",
  "SUMMARY:Call with New York",
  "END:VEVENT",
);

const OFFSITE = calendar(
  "BEGIN:VEVENT",
  "UID:offsite@calsync.test",
  "DTSTAMP:20260201T000000Z",
  "DTSTART;VALUE=DATE:20260320",
  "DTEND;VALUE=DATE:20260321",
  "SUMMARY:Offsite",
  "END:VEVENT",
);

const LATER = calendar(
  "BEGIN:VEVENT",
  "UID:later@calsync.test",
  "DTSTAMP:20260201T000000Z",
  "DTSTART:20260601T090000Z",
  "DTEND:20260601T100000Z",
  "SUMMARY:Outside the window",
  "END:VEVENT",
);

function summary(occurrences: Occurrence[]) {
  return occurrences
    .map((o) => [o.uid, o.recurrence_id, o.start, o.end, o.status, o.title, o.timezone])
    .sort((a, b) => String(a[2]).localeCompare(String(b[2])));
}

const EXPECTED = [
  [
    "weekly@calsync.test",
    "2026-03-04T08:00:00Z",
    "2026-03-04T08:00:00Z",
    "2026-03-04T09:00:00Z",
    "confirmed",
    "Weekly",
    "Europe/Berlin",
  ],
  [
    "ny-call@calsync.test",
    null,
    "2026-03-10T13:00:00Z",
    "2026-03-10T14:00:00Z",
    "confirmed",
    "Call with New York",
    "America/New_York",
  ],
  [
    "weekly@calsync.test",
    "2026-03-11T08:00:00Z",
    "2026-03-12T13:00:00Z",
    "2026-03-12T14:00:00Z",
    "confirmed",
    "Weekly (moved)",
    "Europe/Berlin",
  ],
  [
    "weekly@calsync.test",
    "2026-03-18T08:00:00Z",
    "2026-03-18T08:00:00Z",
    "2026-03-18T09:00:00Z",
    "cancelled",
    "Weekly",
    "Europe/Berlin",
  ],
  ["offsite@calsync.test", null, "2026-03-20", "2026-03-21", "confirmed", "Offsite", null],
  [
    "weekly@calsync.test",
    "2026-03-25T08:00:00Z",
    "2026-03-25T08:00:00Z",
    "2026-03-25T09:00:00Z",
    "confirmed",
    "Weekly",
    "Europe/Berlin",
  ],
  [
    "weekly@calsync.test",
    "2026-04-01T07:00:00Z",
    "2026-04-01T07:00:00Z",
    "2026-04-01T08:00:00Z",
    "confirmed",
    "Weekly",
    "Europe/Berlin",
  ],
];

Deno.test("caldav source against Radicale", async (t) => {
  await using radicale = await startRadicale();
  const { url, collectionUrl, username, password } = radicale;
  for (const [name, ics] of Object.entries({ WEEKLY, NEW_YORK_CALL, OFFSITE, LATER })) {
    await putResource(`${collectionUrl}${name.toLowerCase()}.ics`, ics, username, password);
  }
  const settings = (extra: Record<string, unknown> = {}) =>
    CalDavSettings.parse({ url: collectionUrl, username, password, ...extra });

  await t.step("the window's occurrences, expanded by calsync, exactly", async () => {
    const reports: string[] = [];
    const recording: SourceContext = {
      ...context,
      fetch: async (request) => {
        if (request.method === "REPORT") reports.push(await request.clone().text());
        return fetch(request);
      },
    };
    const reading = await calDavSource.read(settings(), recording);
    assert.deepEqual(summary(reading.occurrences), EXPECTED);
    assert.deepEqual(reading.warnings, []);
    assert.equal(reports.length, 1);
    assert.match(reports[0], /time-range start="20260228T000000Z" end="20260406T000000Z"/);
    assert.doesNotMatch(reports[0], /expand/, "the server's expansion is not asked for");
  });

  await t.step("a server URL finds the user's only calendar", async () => {
    const reading = await calDavSource.read(settings({ url }), context);
    assert.equal(reading.occurrences.length, EXPECTED.length);
  });

  await t.step("a wrong password and a missing calendar say what to fix", async () => {
    await assert.rejects(calDavSource.read(settings({ password: "wrong-pw" }), context), {
      message: `${new URL(url).host} refused the password for the login "${username}" ` +
        `(HTTP 401 Unauthorized) at ${collectionUrl}`,
    });
    const missing = `${url}${username}/no-such-calendar/`;
    await assert.rejects(calDavSource.read(settings({ url: missing }), context), (error) => {
      assert.ok(error instanceof Error);
      assert.ok(
        error.message.startsWith(`there is no calendar at ${missing}; the calendars of`),
        error.message,
      );
      assert.ok(error.message.includes(`\n  ${collectionUrl}`), error.message);
      return true;
    });
  });

  await t.step("it is registered, and shows its URL without credentials", () => {
    assert.equal(SOURCE_TYPES.get("caldav"), calDavSource);
    const withCredentials = collectionUrl.replace("http://", "http://anna:pw1234@");
    assert.equal(calDavSource.describe(settings({ url: withCredentials })), collectionUrl);
    const bad = CalDavSettings.safeParse({ url: "ftp://x/", username, password });
    assert.ok(!bad.success);
    assert.match(bad.error.issues[0].message, /^expected an http\(s\) URL/);
  });
});
