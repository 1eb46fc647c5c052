import assert from "node:assert/strict";
import { isKnownZone } from "../../shared/timezones.ts";
import {
  type CalendarDay,
  type CalendarView,
  layoutCalendar,
  localDate,
  type PlacedEvent,
  viewRange,
} from "../../master/ui/calendar_view.ts";
import { Occurrence, type OccurrenceInput, overlaps } from "../../shared/model.ts";
import type { StoredEvent } from "../../shared/protocol.ts";

const NOW = new Date("2026-01-01T12:00:00Z");

/** A stored event as the store lists it: validated, defaults applied, with its source. */
function stored(input: OccurrenceInput, agent_id = "laptop", source_id = "outlook"): StoredEvent {
  return { ...Occurrence.parse(input), agent_id, source_id };
}

/** A timed event titled after its uid. */
function timed(uid: string, start: string, end: string, agent?: string, source?: string) {
  return stored({ uid, title: uid, start, end }, agent, source);
}

function day(view: CalendarView, date: string): CalendarDay {
  const found = view.days.find((d) => d.date === date);
  assert.ok(found, `${date} is not drawn in the ${view.mode} view of ${view.anchor}`);
  return found;
}

function placed(events: PlacedEvent[], title: string): PlacedEvent {
  const found = events.find((e) => e.title === title);
  assert.ok(found, `"${title}" is not placed (found: ${events.map((e) => e.title)})`);
  return found;
}

/** Dates of the days on which an event titled `title` is drawn. */
function daysWith(view: CalendarView, title: string): string[] {
  return view.days
    .filter((d) => [...d.all_day, ...d.timed].some((e) => e.title === title))
    .map((d) => d.date);
}

function near(actual: number, expected: number, what: string) {
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual}, expected ${expected}`);
}

const pct = (hours: number, dayHours = 24) => (hours / dayHours) * 100;

// --- Which days a view shows ---------------------------------------------------------

Deno.test("week view: Monday to Sunday whatever weekday the anchor is", () => {
  const week = [
    "2026-03-02",
    "2026-03-03",
    "2026-03-04",
    "2026-03-05",
    "2026-03-06",
    "2026-03-07",
    "2026-03-08",
  ];
  for (const anchor of ["2026-03-02", "2026-03-04", "2026-03-08"]) { // Mon, Wed, Sun
    const view = layoutCalendar("week", anchor, "UTC", [], NOW);
    assert.deepEqual(view.days.map((d) => d.date), week, `anchor ${anchor}`);
    assert.ok(view.days.every((d) => d.in_range), `anchor ${anchor}: every day is in range`);
    assert.deepEqual(viewRange("week", anchor, "UTC").days, week);
  }
});

Deno.test("week view: previous and next are 7 days away, across months and years", () => {
  const wed = layoutCalendar("week", "2026-03-04", "UTC", [], NOW);
  assert.equal(wed.previous, "2026-02-25");
  assert.equal(wed.next, "2026-03-11");

  const newYear = layoutCalendar("week", "2026-12-30", "UTC", [], NOW);
  assert.equal(newYear.next, "2027-01-06");
  assert.deepEqual(
    [newYear.days[0].date, newYear.days[6].date],
    ["2026-12-28", "2027-01-03"],
  );
  assert.equal(newYear.title, "28 Dec – 3 Jan 2027");
});

Deno.test("month view of June 2026 (starts on a Monday): no leading days from May", () => {
  const view = layoutCalendar("month", "2026-06-17", "UTC", [], NOW);
  assert.equal(view.days.length, 35);
  assert.equal(view.days[0].date, "2026-06-01");
  assert.equal(view.days.at(-1)!.date, "2026-07-05"); // 30 June is a Tuesday
  assert.deepEqual(
    view.days.filter((d) => !d.in_range).map((d) => d.date),
    ["2026-07-01", "2026-07-02", "2026-07-03", "2026-07-04", "2026-07-05"],
  );
  assert.equal(view.title, "June 2026");
});

Deno.test("month view of March 2026 (starts on a Sunday): six whole weeks", () => {
  const view = layoutCalendar("month", "2026-03-15", "UTC", [], NOW);
  assert.equal(view.days.length, 42);
  assert.equal(view.days[0].date, "2026-02-23"); // the Monday before Sunday 1 March
  assert.equal(view.days.at(-1)!.date, "2026-04-05");
  assert.deepEqual(
    view.days.filter((d) => !d.in_range).map((d) => d.date),
    [
      ...["2026-02-23", "2026-02-24", "2026-02-25", "2026-02-26", "2026-02-27", "2026-02-28"],
      ...["2026-04-01", "2026-04-02", "2026-04-03", "2026-04-04", "2026-04-05"],
    ],
  );
  assert.equal(view.days.filter((d) => d.in_range).length, 31);
});

Deno.test("month view of May 2026 (ends on a Sunday): no empty week of June", () => {
  const view = layoutCalendar("month", "2026-05-01", "UTC", [], NOW);
  assert.equal(view.days[0].date, "2026-04-27");
  assert.equal(view.days.at(-1)!.date, "2026-05-31");
  assert.equal(view.days.length, 35);
});

Deno.test("month view: every view is whole weeks starting on Monday", () => {
  for (let m = 1; m <= 12; m++) {
    const anchor = `2027-${String(m).padStart(2, "0")}-10`;
    const { days } = viewRange("month", anchor, "Europe/Berlin");
    assert.equal(days.length % 7, 0, anchor);
    assert.equal(new Date(`${days[0]}T00:00:00Z`).getUTCDay(), 1, `${anchor} starts on Monday`);
    const month = anchor.slice(0, 7);
    assert.ok(days[6].startsWith(month), `${anchor}: no week before the month`);
    assert.ok(days.at(-7)!.startsWith(month), `${anchor}: no week after the month`);
    const length = new Date(Date.UTC(2027, m, 0)).getUTCDate();
    assert.equal(days.filter((d) => d.startsWith(month)).length, length, `${anchor}: all days`);
  }
});

Deno.test("month view: previous and next land in the neighbouring months", () => {
  // 31 January + 1 month must not overflow into March (there is no 31 February).
  const january = layoutCalendar("month", "2026-01-31", "UTC", [], NOW);
  assert.equal(january.next.slice(0, 7), "2026-02");
  assert.equal(january.previous.slice(0, 7), "2025-12");
  const february = layoutCalendar("month", january.next, "UTC", [], NOW);
  assert.equal(february.title, "February 2026");
  assert.equal(february.days.filter((d) => d.in_range).length, 28);

  const march31 = layoutCalendar("month", "2026-03-31", "UTC", [], NOW);
  assert.equal(march31.previous.slice(0, 7), "2026-02");
  assert.equal(march31.next.slice(0, 7), "2026-04");

  const december = layoutCalendar("month", "2026-12-15", "UTC", [], NOW);
  assert.equal(december.next.slice(0, 7), "2027-01");
});

// --- Time zones ------------------------------------------------------------------------

Deno.test("time zone: a 09:00Z meeting sits at the viewer's local time", () => {
  const events = [
    timed("Before US DST", "2026-03-04T09:00:00Z", "2026-03-04T10:00:00Z"),
    timed("After US DST", "2026-03-11T09:00:00Z", "2026-03-11T10:00:00Z"), // DST from 8 March
  ];
  const berlin = layoutCalendar("month", "2026-03-01", "Europe/Berlin", events, NOW);
  const before = placed(day(berlin, "2026-03-04").timed, "Before US DST");
  assert.deepEqual([before.from, before.to], ["10:00", "11:00"]);
  near(before.top, pct(10), "top in Berlin");
  near(before.height, pct(1), "height in Berlin");
  assert.equal(placed(day(berlin, "2026-03-11").timed, "After US DST").from, "10:00");

  const newYork = layoutCalendar("month", "2026-03-01", "America/New_York", events, NOW);
  const est = placed(day(newYork, "2026-03-04").timed, "Before US DST");
  assert.deepEqual([est.from, est.to], ["04:00", "05:00"]);
  near(est.top, pct(4), "top in New York (EST)");
  const edt = placed(day(newYork, "2026-03-11").timed, "After US DST");
  assert.deepEqual([edt.from, edt.to], ["05:00", "06:00"]);
  near(edt.top, pct(5), "top in New York (EDT)");
});

Deno.test("time zone: 23:30Z on Monday is Tuesday 00:30 in Berlin", () => {
  const events = [timed("Late call", "2026-03-02T23:30:00Z", "2026-03-02T23:45:00Z")];
  const berlin = layoutCalendar("week", "2026-03-02", "Europe/Berlin", events, NOW);
  assert.deepEqual(daysWith(berlin, "Late call"), ["2026-03-03"]);
  const call = placed(day(berlin, "2026-03-03").timed, "Late call");
  assert.deepEqual([call.from, call.to], ["00:30", "00:45"]);
  near(call.top, pct(0.5), "top");

  const utc = layoutCalendar("week", "2026-03-02", "UTC", events, NOW);
  assert.deepEqual(daysWith(utc, "Late call"), ["2026-03-02"]);
});

Deno.test("DST: on the 23-hour 29 March in Berlin, 12:00 local is 11/23 down the day", () => {
  // 12:00–13:00 CEST = 10:00–11:00Z; 02:00–03:00 never happens that night.
  const events = [timed("Lunch", "2026-03-29T10:00:00Z", "2026-03-29T11:00:00Z")];
  const view = layoutCalendar("week", "2026-03-29", "Europe/Berlin", events, NOW);
  const lunch = placed(day(view, "2026-03-29").timed, "Lunch");
  assert.deepEqual([lunch.from, lunch.to], ["12:00", "13:00"]);
  near(lunch.top, pct(11, 23), "top");
  near(lunch.height, pct(1, 23), "height");
});

Deno.test("DST: on the 25-hour 25 October in Berlin, 12:00 local is 13/25 down the day", () => {
  // 12:00–13:00 CET = 11:00–12:00Z; 02:00–03:00 happens twice that night.
  const events = [timed("Lunch", "2026-10-25T11:00:00Z", "2026-10-25T12:00:00Z")];
  const view = layoutCalendar("week", "2026-10-25", "Europe/Berlin", events, NOW);
  const lunch = placed(day(view, "2026-10-25").timed, "Lunch");
  assert.deepEqual([lunch.from, lunch.to], ["12:00", "13:00"]);
  near(lunch.top, pct(13, 25), "top");
  near(lunch.height, pct(1, 25), "height");
});

Deno.test("all-day events keep their dates in every zone, end exclusive", () => {
  const trip = stored({
    uid: "trip",
    title: "Trip",
    all_day: true,
    start: "2026-03-02",
    end: "2026-03-04",
  });
  for (const zone of ["Pacific/Auckland", "America/Los_Angeles", "UTC"]) {
    const view = layoutCalendar("month", "2026-03-01", zone, [trip], NOW);
    assert.deepEqual(daysWith(view, "Trip"), ["2026-03-02", "2026-03-03"], zone);
    const first = placed(day(view, "2026-03-02").all_day, "Trip");
    assert.equal(first.all_day, true);
    assert.deepEqual([first.from, first.to], ["", ""]);
    assert.equal(day(view, "2026-03-02").timed.length, 0, `${zone}: not drawn as timed`);

    for (const mode of ["week", "month"] as const) {
      const range = viewRange(mode, "2026-03-02", zone);
      assert.ok(overlaps(trip, range), `${zone} ${mode}: the store query finds the trip`);
    }
  }
});

Deno.test("all-day events on the first and last day of a week are in the query range", () => {
  const monday = stored({ uid: "mon", all_day: true, start: "2026-03-02", end: "2026-03-03" });
  const sunday = stored({ uid: "sun", all_day: true, start: "2026-03-08", end: "2026-03-09" });
  const outside = stored({ uid: "out", all_day: true, start: "2026-03-10", end: "2026-03-11" });
  for (const zone of ["Pacific/Kiritimati", "Pacific/Auckland", "Pacific/Pago_Pago"]) {
    const range = viewRange("week", "2026-03-04", zone);
    assert.ok(overlaps(monday, range), `${zone}: Monday`);
    assert.ok(overlaps(sunday, range), `${zone}: Sunday`);
    // The query may fetch a margin around the view, but placement drops what lies outside.
    const view = layoutCalendar("week", "2026-03-04", zone, [outside], NOW);
    assert.ok(view.days.every((d) => d.all_day.length === 0), `${zone}: nothing placed`);
  }
});

Deno.test("an event crossing midnight is drawn on both days, clipped to each", () => {
  const events = [timed("Night shift", "2026-03-03T22:00:00Z", "2026-03-04T02:00:00Z")];
  const view = layoutCalendar("week", "2026-03-04", "UTC", events, NOW);
  assert.deepEqual(daysWith(view, "Night shift"), ["2026-03-03", "2026-03-04"]);
  const evening = placed(day(view, "2026-03-03").timed, "Night shift");
  near(evening.top, pct(22), "evening top");
  near(evening.height, pct(2), "evening height");
  const morning = placed(day(view, "2026-03-04").timed, "Night shift");
  near(morning.top, 0, "morning top");
  near(morning.height, pct(2), "morning height");
  // The labels still say when the event really starts and ends.
  assert.deepEqual([morning.from, morning.to], ["22:00", "02:00"]);

  // An event ending exactly at midnight stays on its day.
  const late = [timed("Late", "2026-03-03T23:00:00Z", "2026-03-04T00:00:00Z")];
  assert.deepEqual(
    daysWith(layoutCalendar("week", "2026-03-04", "UTC", late, NOW), "Late"),
    ["2026-03-03"],
  );
});

Deno.test("overlapping events get side-by-side lanes; others are full width", () => {
  const events = [
    timed("C", "2026-03-04T11:00:00Z", "2026-03-04T12:00:00Z"),
    timed("A", "2026-03-04T09:00:00Z", "2026-03-04T11:00:00Z"),
    timed("B", "2026-03-04T10:00:00Z", "2026-03-04T12:00:00Z"),
    timed("Alone", "2026-03-04T14:00:00Z", "2026-03-04T15:00:00Z"),
    timed("Next", "2026-03-04T15:00:00Z", "2026-03-04T16:00:00Z"), // back to back
  ];
  const wednesday = day(layoutCalendar("week", "2026-03-04", "UTC", events, NOW), "2026-03-04");
  const lanes = (t: string) => [placed(wednesday.timed, t).lane, placed(wednesday.timed, t).lanes];
  assert.deepEqual(lanes("A"), [0, 2]);
  assert.deepEqual(lanes("B"), [1, 2]);
  assert.deepEqual(lanes("C"), [0, 2]); // A has ended at 11:00: C takes its lane
  assert.deepEqual(lanes("Alone"), [0, 1]);
  assert.deepEqual(lanes("Next"), [0, 1]);
  assert.deepEqual(wednesday.timed.map((e) => e.title), ["A", "B", "C", "Alone", "Next"]);
});

Deno.test("back-to-back meetings are full width, on every hour of normal and DST days", () => {
  // 10:00–11:00 then 11:00–12:00: 10/24 + 1/24 of the day in floating point is a hair
  // more than 11/24, which must not make them overlap.
  const pair = [
    timed("First", "2026-03-04T10:00:00Z", "2026-03-04T11:00:00Z"),
    timed("Second", "2026-03-04T11:00:00Z", "2026-03-04T12:00:00Z"),
  ];
  const wednesday = day(layoutCalendar("week", "2026-03-04", "UTC", pair, NOW), "2026-03-04");
  assert.deepEqual(wednesday.timed.map((e) => [e.title, e.lane, e.lanes]), [
    ["First", 0, 1],
    ["Second", 0, 1],
  ]);

  for (const date of ["2026-03-04", "2026-03-29", "2026-10-25"]) { // 24, 23, 25 hours
    const start = Date.parse(`${date}T00:00:00Z`) - 2 * 3_600_000; // Berlin midnight, ±1 h
    const at = (h: number) => new Date(start + h * 3_600_000).toISOString();
    for (let h = 1; h < 20; h++) {
      for (let d = 1; h + d + 1 < 22; d++) {
        const events = [timed("X", at(h), at(h + d)), timed("Y", at(h + d), at(h + d + 1))];
        const view = layoutCalendar("week", date, "Europe/Berlin", events, NOW);
        const lanes = view.days.flatMap((day) => day.timed.map((e) => e.lanes));
        assert.deepEqual(lanes, [1, 1], `${date}: ${at(h)} + ${d} h, then 1 h`);
      }
    }
  }
});

Deno.test("an event starting as an overlapping pair ends is full width again", () => {
  const events = [
    timed("A", "2026-03-04T09:00:00Z", "2026-03-04T11:00:00Z"),
    timed("B", "2026-03-04T10:00:00Z", "2026-03-04T11:00:00Z"),
    timed("C", "2026-03-04T11:00:00Z", "2026-03-04T12:00:00Z"),
  ];
  const { timed: placedEvents } = day(
    layoutCalendar("week", "2026-03-04", "UTC", events, NOW),
    "2026-03-04",
  );
  assert.deepEqual(placedEvents.map((e) => [e.title, e.lane, e.lanes]), [
    ["A", 0, 2],
    ["B", 1, 2],
    ["C", 0, 1],
  ]);
});

Deno.test("three events at once need three lanes", () => {
  const events = [
    timed("A", "2026-03-04T09:00:00Z", "2026-03-04T12:00:00Z"),
    timed("B", "2026-03-04T09:30:00Z", "2026-03-04T10:30:00Z"),
    timed("C", "2026-03-04T10:00:00Z", "2026-03-04T11:00:00Z"),
  ];
  const { timed: placedEvents } = day(
    layoutCalendar("week", "2026-03-04", "UTC", events, NOW),
    "2026-03-04",
  );
  assert.deepEqual(placedEvents.map((e) => [e.title, e.lane, e.lanes]), [
    ["A", 0, 3],
    ["B", 1, 3],
    ["C", 2, 3],
  ]);
});

Deno.test("a meeting several sources hold is drawn once; cancelled events are left out", () => {
  const standup = (recurrence_id: string, agent: string, source: string) =>
    stored(
      {
        uid: "standup",
        title: "Standup",
        recurrence_id,
        start: recurrence_id,
        end: recurrence_id.replace("09:00", "09:15"),
      },
      agent,
      source,
    );
  const events = [
    standup("2026-03-04T09:00:00Z", "laptop", "caldav"),
    timed("Dentist", "2026-03-05T09:00:00Z", "2026-03-05T10:00:00Z", "desk", "outlook"),
    standup("2026-03-04T09:00:00Z", "desk", "ews"),
    // The next occurrence of the series is another occurrence, held by one source only.
    standup("2026-03-05T09:00:00Z", "desk", "ews"),
    stored(
      {
        uid: "offsite",
        title: "Offsite",
        status: "cancelled",
        start: "2026-03-06T09:00:00Z",
        end: "2026-03-06T17:00:00Z",
      },
      "laptop",
      "caldav",
    ),
  ];
  const view = layoutCalendar("week", "2026-03-04", "UTC", events, NOW);
  // Sorted by agent, then source: not by source alone, not in input order.
  assert.deepEqual(view.sources, [
    { agent_id: "desk", source_id: "ews" },
    { agent_id: "desk", source_id: "outlook" },
    { agent_id: "laptop", source_id: "caldav" },
  ]);
  const wednesday = day(view, "2026-03-04").timed;
  assert.equal(wednesday.length, 1, "the shared meeting is drawn once");
  assert.deepEqual(wednesday[0].sources, [0, 2]);
  assert.equal(wednesday[0].lanes, 1, "and not beside a copy of itself");
  assert.deepEqual(
    day(view, "2026-03-05").timed.map((e) => [e.title, e.sources]),
    [["Dentist", [1]], ["Standup", [0]]],
  );
  assert.deepEqual(daysWith(view, "Offsite"), []);
});

Deno.test("today follows now in the viewer's zone", () => {
  const now = new Date("2026-03-02T23:30:00Z"); // Monday in London, Tuesday in Berlin
  const todays = (zone: string) =>
    layoutCalendar("week", "2026-03-04", zone, [], now).days.filter((d) => d.today).map((d) =>
      d.date
    );
  assert.deepEqual(todays("Europe/Berlin"), ["2026-03-03"]);
  assert.deepEqual(todays("Europe/London"), ["2026-03-02"]);
  assert.deepEqual(todays("America/Los_Angeles"), ["2026-03-02"]);
  assert.deepEqual(
    layoutCalendar("week", "2026-03-11", "Europe/Berlin", [], now).days.filter((d) => d.today),
    [],
    "no today in another week",
  );
});

Deno.test("a zero-length event is drawn at its instant, once", () => {
  const events = [
    timed("Reminder", "2026-03-04T09:00:00Z", "2026-03-04T09:00:00Z"),
    timed("Midnight", "2026-03-05T00:00:00Z", "2026-03-05T00:00:00Z"),
  ];
  const view = layoutCalendar("week", "2026-03-04", "UTC", events, NOW);
  assert.deepEqual(daysWith(view, "Reminder"), ["2026-03-04"]);
  const reminder = placed(day(view, "2026-03-04").timed, "Reminder");
  assert.deepEqual([reminder.from, reminder.to], ["09:00", "09:00"]);
  near(reminder.top, pct(9), "top");
  near(reminder.height, 0, "height");
  assert.deepEqual(daysWith(view, "Midnight"), ["2026-03-05"]);
  near(placed(day(view, "2026-03-05").timed, "Midnight").top, 0, "midnight top");

  // It occupies its instant: beside a meeting starting then, or another reminder at the
  // same time, but full width when a meeting ends at that instant.
  const crowded = [
    timed("Meeting", "2026-03-04T09:00:00Z", "2026-03-04T10:00:00Z"),
    timed("At start", "2026-03-04T09:00:00Z", "2026-03-04T09:00:00Z"),
    timed("At end", "2026-03-04T10:00:00Z", "2026-03-04T10:00:00Z"),
    timed("Ping 1", "2026-03-04T15:00:00Z", "2026-03-04T15:00:00Z"),
    timed("Ping 2", "2026-03-04T15:00:00Z", "2026-03-04T15:00:00Z"),
  ];
  const wednesday = day(layoutCalendar("week", "2026-03-04", "UTC", crowded, NOW), "2026-03-04");
  assert.deepEqual(wednesday.timed.map((e) => [e.title, e.lane, e.lanes]), [
    ["Meeting", 0, 2],
    ["At start", 1, 2],
    ["At end", 0, 1],
    ["Ping 1", 0, 2],
    ["Ping 2", 1, 2],
  ]);
});

Deno.test("localDate and isKnownZone", () => {
  assert.equal(localDate(new Date("2026-03-02T23:30:00Z"), "Europe/Berlin"), "2026-03-03");
  assert.equal(localDate(new Date("2026-03-02T23:30:00Z"), "UTC"), "2026-03-02");
  assert.equal(localDate(new Date("2026-03-02T10:00:00Z"), "Pacific/Auckland"), "2026-03-02");
  assert.equal(localDate(new Date("2026-03-02T11:00:00Z"), "Pacific/Auckland"), "2026-03-03");
  assert.equal(isKnownZone("Europe/Berlin"), true);
  assert.equal(isKnownZone("UTC"), true);
  assert.equal(isKnownZone("Mars/Olympus_Mons"), false);
});
