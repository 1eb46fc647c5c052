/** The stand-in's calendarView delta: rounds, tokens, removals, refused options, 410. */
import assert from "node:assert/strict";
import type { Event } from "@microsoft/microsoft-graph-types";
import { allPages, ANN, type Collection, type Setup, setup, utcEvent } from "./helpers.ts";

const DELTA = `/users/${ANN}/calendarView/delta`;
const FIRST = `${DELTA}?startDateTime=2026-12-01T00:00:00Z&endDateTime=2026-12-08T00:00:00Z`;
type Row = Event & { "@removed"?: { reason: string } };

async function round(s: Setup, url: string, pageSize = 2) {
  const pages = await allPages(s, url, { prefer: `odata.maxpagesize=${pageSize}` });
  const last = pages.at(-1)!.body;
  return {
    pages,
    rows: pages.flatMap((p) => p.body.value as Row[]),
    deltaLink: last["@odata.deltaLink"]!,
  };
}

// "event: delta", https://learn.microsoft.com/en-us/graph/api/event-delta?view=graph-rest-1.0,
// and "Get incremental changes to events in a calendar view",
// https://learn.microsoft.com/en-us/graph/delta-query-events: the first round returns the
// window's events page by page, each page but the last with an @odata.nextLink carrying a
// $skiptoken, the last with an @odata.deltaLink carrying a $deltatoken; page size from
// Prefer: odata.maxpagesize; the tokens carry startDateTime/endDateTime, so follow-ups give
// only the token. "Use delta query", https://learn.microsoft.com/en-us/graph/delta-query-overview:
// a page never has both links.
Deno.test("delta: the first round pages with $skiptoken and ends with a $deltatoken", async () => {
  await using s = await setup();
  for (const day of ["01", "02", "03", "04", "05"]) {
    s.ann.addEvent(utcEvent(`day ${day}`, `2026-12-${day}T09:00:00`, `2026-12-${day}T10:00:00`));
  }
  s.ann.addEvent(utcEvent("outside", "2026-12-09T09:00:00", "2026-12-09T10:00:00"));
  const first = await round(s, FIRST);
  assert.deepEqual(first.pages.map((p) => p.body.value.length), [2, 2, 1]);
  for (const page of first.pages.slice(0, -1)) {
    assert.match(page.body["@odata.nextLink"]!, /\$skiptoken=/);
    assert.equal(page.body["@odata.deltaLink"], undefined);
  }
  assert.match(first.deltaLink, /\$deltatoken=/);
  assert.doesNotMatch(first.deltaLink, /startDateTime/);
  assert.equal(first.pages.at(-1)!.headers.get("preference-applied"), "odata.maxpagesize=2");
  assert.deepEqual(first.rows.map((e) => e.subject), [
    "day 01",
    "day 02",
    "day 03",
    "day 04",
    "day 05",
  ]);
  const quiet = await round(s, first.deltaLink);
  assert.deepEqual(quiet.rows, [], "nothing changed, nothing reported");
});

// Same pages: a later round reports what was added, updated or deleted since; a deleted
// event comes as its id with "@removed": { "reason": "deleted" }; an occurrence deleted
// from a series is reported by the occurrence's id.
Deno.test("delta: the next round has the additions, updates and removals since", async () => {
  await using s = await setup();
  const kept = s.ann.addEvent(utcEvent("kept", "2026-12-01T09:00:00", "2026-12-01T10:00:00"));
  const renamed = s.ann.addEvent(utcEvent("old", "2026-12-02T09:00:00", "2026-12-02T10:00:00"));
  const dropped = s.ann.addEvent(utcEvent("dropped", "2026-12-03T09:00:00", "2026-12-03T10:00:00"));
  const series = s.ann.addEvent({
    ...utcEvent("daily", "2026-12-04T08:00:00", "2026-12-04T08:15:00"),
    recurrence: {
      pattern: { type: "daily", interval: 1 },
      range: { type: "numbered", startDate: "2026-12-04", numberOfOccurrences: 3 },
    },
  });
  const first = await round(s, FIRST, 10);
  assert.equal(first.rows.length, 6);
  const occurrence = first.rows.find((e) => e.originalStart === "2026-12-05T08:00:00Z")!;

  await s.call("PATCH", `/users/${ANN}/events/${renamed}`, { body: { subject: "new" } });
  await s.call("DELETE", `/users/${ANN}/events/${dropped}`);
  await s.call("DELETE", `/users/${ANN}/events/${occurrence.id}`);
  await s.call("POST", `/users/${ANN}/calendar/events`, {
    body: utcEvent("added", "2026-12-06T09:00:00", "2026-12-06T10:00:00"),
  });
  const next = await round(s, first.deltaLink);
  const changed = next.rows.filter((e) => !e["@removed"]).map((e) => e.subject).sort();
  const removed = next.rows.filter((e) => e["@removed"]).map((e) => [e.id, e["@removed"]!.reason]);
  assert.deepEqual(changed, ["added", "new"]);
  assert.deepEqual(removed.sort(), [[dropped, "deleted"], [occurrence.id, "deleted"]].sort());
  assert.ok(!next.rows.some((e) => e.id === kept || e.seriesMasterId === series));
});

// "event: delta" (query parameters) and "Use delta query" (limitations): change tracking
// over events takes only $deltatoken/$skiptoken after the first request and does not
// support $filter, $orderby, $search or $expand; Exchange answers 400 naming them.
Deno.test("delta: $filter, $orderby, $expand and $top are refused with 400", async () => {
  await using s = await setup();
  for (
    const option of [
      "$filter=subject eq 'x'",
      "$orderby=start/dateTime",
      "$expand=attachments",
      "$top=5",
    ]
  ) {
    const answer = await s.call("GET", `${FIRST}&${option}`);
    assert.equal(answer.status, 400, option);
    assert.equal((answer.body.error as { code: string }).code, "ErrorInvalidUrlQuery");
  }
  const noWindow = await s.call("GET", DELTA);
  assert.equal(noWindow.status, 400, "the first request needs startDateTime and endDateTime");
});

// "Use delta query", https://learn.microsoft.com/en-us/graph/delta-query-overview
// (synchronization reset): a state token the service no longer accepts answers 410 Gone,
// and the app starts a new round without a token.
Deno.test("delta: an expired token answers 410 Gone; a fresh round works", async () => {
  await using s = await setup();
  s.ann.addEvent(utcEvent("one", "2026-12-01T09:00:00", "2026-12-01T10:00:00"));
  const first = await round(s, FIRST);
  s.graph.expireDeltaTokens();
  const gone = await s.call<Collection>("GET", first.deltaLink);
  assert.equal(gone.status, 410);
  const again = await round(s, FIRST);
  assert.equal(again.rows.length, 1);
});

// "event: delta" with Prefer: outlook.timezone (request headers): start and end in the
// preferred zone, as in the calendar view.
Deno.test("delta: Prefer outlook.timezone applies to the events of a round", async () => {
  await using s = await setup();
  s.ann.addEvent(utcEvent("call", "2026-12-01T17:00:00", "2026-12-01T17:30:00"));
  const answer = await s.call<Collection>("GET", FIRST, {
    headers: { prefer: 'outlook.timezone="Eastern Standard Time", odata.maxpagesize=5' },
  });
  assert.deepEqual(answer.body.value[0].start, {
    dateTime: "2026-12-01T12:00:00.0000000",
    timeZone: "Eastern Standard Time",
  });
});
