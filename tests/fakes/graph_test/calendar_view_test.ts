/** The stand-in's calendarView: window, zones, paging, $select, series expansion, all-day events. */
import assert from "node:assert/strict";
import type { Event } from "@microsoft/microsoft-graph-types";
import { allPages, ANN, type Collection, setup, utcEvent } from "./helpers.ts";

const VIEW = `/users/${ANN}/calendar/calendarView`;
const window = (from: string, to: string) => `${VIEW}?startDateTime=${from}&endDateTime=${to}`;
const errorCode = (body: Record<string, unknown>) => (body.error as { code: string }).code;

// "List calendarView", https://learn.microsoft.com/en-us/graph/api/user-list-calendarview?view=graph-rest-1.0:
// startDateTime and endDateTime are required query parameters.
Deno.test("calendarView: 400 ErrorInvalidParameter without the time window", async () => {
  await using s = await setup();
  const answer = await s.call("GET", `${VIEW}?startDateTime=2026-11-30T00:00:00Z`);
  assert.equal(answer.status, 400);
  assert.equal(errorCode(answer.body), "ErrorInvalidParameter");
  assert.match(JSON.stringify(answer.body), /StartDateTime and EndDateTime/);
});

// Same page: the view holds the events of the time range ("occurrences, exceptions, and
// single instances"); "event resource type",
// https://learn.microsoft.com/en-us/graph/api/resources/event?view=graph-rest-1.0, and the
// Prefer header section of "List events",
// https://learn.microsoft.com/en-us/graph/api/user-list-events?view=graph-rest-1.0: without
// Prefer: outlook.timezone, start and end come back in UTC.
Deno.test("calendarView: events overlapping the window, start and end in UTC by default", async () => {
  await using s = await setup();
  s.ann.addEvent(utcEvent("before", "2026-11-30T07:00:00", "2026-11-30T08:00:00"));
  s.ann.addEvent(utcEvent("across the start", "2026-11-30T08:30:00", "2026-11-30T09:30:00"));
  s.ann.addEvent({
    subject: "inside, Berlin",
    start: { dateTime: "2026-11-30T11:00:00", timeZone: "W. Europe Standard Time" },
    end: { dateTime: "2026-11-30T12:00:00", timeZone: "W. Europe Standard Time" },
  });
  s.ann.addEvent(utcEvent("at the end", "2026-11-30T17:00:00", "2026-11-30T18:00:00"));
  const answer = await s.call<Collection>(
    "GET",
    window("2026-11-30T09:00:00Z", "2026-11-30T17:00:00Z"),
  );
  assert.equal(answer.status, 200);
  assert.deepEqual(answer.body.value.map((e) => e.subject), ["across the start", "inside, Berlin"]);
  const berlin = answer.body.value[1];
  assert.deepEqual(berlin.start, { dateTime: "2026-11-30T10:00:00.0000000", timeZone: "UTC" });
  assert.equal(berlin.originalStartTimeZone, "W. Europe Standard Time");
  assert.equal(berlin.type, "singleInstance");
  assert.equal(berlin.seriesMasterId, null);
  assert.match(String((berlin as Record<string, unknown>)["@odata.etag"]), /^W\/"/);
});

// "event resource type" / "List events" (Prefer: outlook.timezone): start and end are
// given in the preferred zone, a Windows or an IANA name; the answer names the zone used
// and says so in Preference-Applied.
Deno.test("calendarView: Prefer outlook.timezone converts start and end", async () => {
  await using s = await setup();
  s.ann.addEvent(utcEvent("call", "2026-11-30T17:00:00", "2026-11-30T17:30:00"));
  for (const zone of ["Pacific Standard Time", "America/Los_Angeles"]) {
    const answer = await s.call<Collection>("GET", window("2026-11-30", "2026-12-01"), {
      headers: { prefer: `outlook.timezone="${zone}"` },
    });
    assert.deepEqual(answer.body.value[0].start, {
      dateTime: "2026-11-30T09:00:00.0000000",
      timeZone: zone,
    });
    assert.equal(answer.headers.get("preference-applied"), `outlook.timezone="${zone}"`);
  }
});

// "Paging Microsoft Graph data in your app", https://learn.microsoft.com/en-us/graph/paging:
// server-side paging returns @odata.nextLink until the last page; $top sets the page size of
// Outlook collections, as does Prefer: odata.maxpagesize. "List events" documents a default
// page size of 10.
Deno.test("calendarView: server-driven paging with @odata.nextLink, $top and odata.maxpagesize", async () => {
  await using s = await setup();
  for (let i = 0; i < 25; i++) {
    const hour = String(i % 24).padStart(2, "0");
    s.ann.addEvent(
      utcEvent(
        `e${i}`,
        `2026-12-0${1 + Math.floor(i / 24)}T${hour}:00:00`,
        `2026-12-0${1 + Math.floor(i / 24)}T${hour}:30:00`,
      ),
    );
  }
  const url = window("2026-12-01", "2026-12-03");
  const byDefault = await allPages(s, url);
  assert.deepEqual(byDefault.map((p) => p.body.value.length), [10, 10, 5]);
  assert.equal(new Set(byDefault.flatMap((p) => p.body.value.map((e) => e.id))).size, 25);
  assert.equal(byDefault[2].body["@odata.nextLink"], undefined);

  const byTop = await allPages(s, `${url}&$top=7`);
  assert.deepEqual(byTop.map((p) => p.body.value.length), [7, 7, 7, 4]);
  const byPrefer = await allPages(s, url, { prefer: "odata.maxpagesize=20" });
  assert.deepEqual(byPrefer.map((p) => p.body.value.length), [20, 5]);
});

// OData $select ("Use query parameters to customize responses",
// https://learn.microsoft.com/en-us/graph/query-parameters): only the selected properties
// (plus id and the etag) come back; a property the type lacks is a 400.
Deno.test("calendarView: $select keeps what was asked; an unknown property is a 400", async () => {
  await using s = await setup();
  s.ann.addEvent(utcEvent("stand-up", "2026-11-30T09:00:00", "2026-11-30T09:15:00"));
  const answer = await s.call<Collection<Record<string, unknown>>>(
    "GET",
    `${window("2026-11-30", "2026-12-01")}&$select=subject,start`,
  );
  assert.deepEqual(Object.keys(answer.body.value[0]).sort(), [
    "@odata.etag",
    "id",
    "start",
    "subject",
  ]);
  const bad = await s.call("GET", `${window("2026-11-30", "2026-12-01")}&$select=subject,color`);
  assert.equal(bad.status, 400);
});

const WEEKLY: Event = {
  subject: "Jour fixe",
  start: { dateTime: "2026-10-19T09:00:00", timeZone: "W. Europe Standard Time" },
  end: { dateTime: "2026-10-19T10:00:00", timeZone: "W. Europe Standard Time" },
  recurrence: {
    pattern: { type: "weekly", interval: 1, daysOfWeek: ["monday"], firstDayOfWeek: "monday" },
    range: { type: "numbered", startDate: "2026-10-19", numberOfOccurrences: 4 },
  },
};

// "List calendarView": the view expands a series into its occurrences and exceptions; the
// seriesMaster itself is not in it. "event resource type": type occurrence/exception,
// seriesMasterId, originalStart (the occurrence's start in the series). "patternedRecurrence
// resource type", https://learn.microsoft.com/en-us/graph/api/resources/patternedrecurrence?view=graph-rest-1.0:
// occurrences keep the series' time in its zone (Berlin leaves summer time on 2026-10-25).
Deno.test("calendarView: a series expands into occurrences and exceptions; deleted ones are gone", async () => {
  await using s = await setup();
  const master = s.ann.addEvent(WEEKLY);
  s.ann.changeOccurrence(master, "2026-11-02T08:00:00Z", {
    subject: "Jour fixe (moved)",
    start: { dateTime: "2026-11-03T14:00:00", timeZone: "W. Europe Standard Time" },
    end: { dateTime: "2026-11-03T15:00:00", timeZone: "W. Europe Standard Time" },
  });
  s.ann.deleteOccurrence(master, "2026-11-09T08:00:00Z");
  const answer = await s.call<Collection>("GET", window("2026-10-01", "2026-12-01"));
  const rows = answer.body.value.map((
    e,
  ) => [e.type, e.start!.dateTime, e.originalStart, e.subject]);
  assert.deepEqual(rows, [
    ["occurrence", "2026-10-19T07:00:00.0000000", "2026-10-19T07:00:00Z", "Jour fixe"],
    ["occurrence", "2026-10-26T08:00:00.0000000", "2026-10-26T08:00:00Z", "Jour fixe"],
    ["exception", "2026-11-03T13:00:00.0000000", "2026-11-02T08:00:00Z", "Jour fixe (moved)"],
  ]);
  assert.ok(answer.body.value.every((e) => e.seriesMasterId === master && e.recurrence === null));
  const one = await s.call("GET", `/users/${ANN}/events/${answer.body.value[0].id}`);
  assert.equal(one.body.type, "occurrence");
  const series = await s.call("GET", `/users/${ANN}/events/${master}`);
  assert.equal(series.body.type, "seriesMaster");
  assert.deepEqual((series.body.recurrence as Event["recurrence"])!.range!.numberOfOccurrences, 4);
});

// "event resource type", isAllDay: start and end of an all-day event are midnight in one
// zone. All-day events keep midnight in their own zone whatever Prefer: outlook.timezone
// asks, as reported on Microsoft Q&A ("all day events are not obeying prefer outlook
// time", https://learn.microsoft.com/en-us/answers/questions/1382503/all-day-events-are-not-obeying-prefer-outlook-time).
Deno.test("calendarView: an all-day event stays at midnight of its own zone", async () => {
  await using s = await setup();
  s.ann.addEvent({
    subject: "Holiday",
    isAllDay: true,
    showAs: "free",
    start: { dateTime: "2026-12-01T00:00:00", timeZone: "Tokyo Standard Time" },
    end: { dateTime: "2026-12-02T00:00:00", timeZone: "Tokyo Standard Time" },
  });
  const answer = await s.call<Collection>("GET", window("2026-11-30", "2026-12-03"), {
    headers: { prefer: 'outlook.timezone="Pacific Standard Time"' },
  });
  const holiday = answer.body.value[0];
  assert.equal(holiday.isAllDay, true);
  assert.deepEqual(holiday.start, {
    dateTime: "2026-12-01T00:00:00.0000000",
    timeZone: "Tokyo Standard Time",
  });
  assert.deepEqual(holiday.end, {
    dateTime: "2026-12-02T00:00:00.0000000",
    timeZone: "Tokyo Standard Time",
  });
});

// "event resource type", isCancelled: set when the organizer cancelled the meeting; the
// attendee's copy stays on the calendar and in the view until removed.
Deno.test("calendarView: a cancelled meeting shows with isCancelled", async () => {
  await using s = await setup();
  s.ann.addEvent(
    utcEvent("Canceled: Review", "2026-11-30T13:00:00", "2026-11-30T14:00:00", {
      isCancelled: true,
    }),
  );
  const answer = await s.call<Collection>("GET", window("2026-11-30", "2026-12-01"));
  assert.equal(answer.body.value[0].isCancelled, true);
});

const KEY = "String {66f5a359-4659-4830-9070-00047ec6ac6e} Name CalsyncKey";

// "Get singleValueLegacyExtendedProperty",
// https://learn.microsoft.com/en-us/graph/api/singlevaluelegacyextendedproperty-get?view=graph-rest-1.0:
// extended properties come back only through $expand=singleValueExtendedProperties($filter=id
// eq '…'), and events having one are found with $filter=singleValueExtendedProperties/Any(ep:
// ep/id eq '…' and ep/value eq '…').
Deno.test("calendarView: extended properties by $expand and $filter", async () => {
  await using s = await setup();
  s.ann.addEvent(utcEvent("ours", "2026-11-30T09:00:00", "2026-11-30T10:00:00", {
    singleValueExtendedProperties: [{ id: KEY, value: "k-1" }],
  }));
  s.ann.addEvent(utcEvent("theirs", "2026-11-30T11:00:00", "2026-11-30T12:00:00"));
  const base = window("2026-11-30", "2026-12-01");
  const plain = await s.call<Collection>("GET", base);
  assert.ok(plain.body.value.every((e) => e.singleValueExtendedProperties === undefined));
  const expanded = await s.call<Collection>(
    "GET",
    `${base}&$expand=singleValueExtendedProperties($filter=id eq '${KEY}')`,
  );
  assert.deepEqual(expanded.body.value[0].singleValueExtendedProperties, [{
    id: KEY,
    value: "k-1",
  }]);
  const filtered = await s.call<Collection>(
    "GET",
    `${base}&$filter=${
      encodeURIComponent(
        `singleValueExtendedProperties/Any(ep: ep/id eq '${KEY}' and ep/value eq 'k-1')`,
      )
    }`,
  );
  assert.deepEqual(filtered.body.value.map((e) => e.subject), ["ours"]);
});
