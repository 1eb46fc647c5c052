/** The stand-in's events: create with transactionId, get, update with If-Match, delete, ids, bodies, invitations. */
import assert from "node:assert/strict";
import type { Event } from "@microsoft/microsoft-graph-types";
import { ANN, type Collection, setup, utcEvent } from "./helpers.ts";

const EVENTS = `/users/${ANN}/calendar/events`;
const error = (body: Record<string, unknown>) => body.error as { code: string; message: string };
type Tagged = Event & { "@odata.etag": string };

// "Create event", https://learn.microsoft.com/en-us/graph/api/user-post-events?view=graph-rest-1.0:
// 201 Created with the event; "event resource type": isReminderOn, showAs, sensitivity,
// categories and body (contentType html or text) are the client's to set.
Deno.test("events: create answers 201 with the event as stored", async () => {
  await using s = await setup();
  const created = await s.call<Tagged>("POST", EVENTS, {
    body: utcEvent("Copy", "2026-12-01T09:00:00", "2026-12-01T10:00:00", {
      isReminderOn: false,
      showAs: "tentative",
      sensitivity: "private",
      categories: ["calsync"],
      body: { contentType: "html", content: "<p>From <b>Outlook</b></p>" },
    }),
  });
  assert.equal(created.status, 201);
  const got = await s.call<Tagged>("GET", `/users/${ANN}/events/${created.body.id}`);
  assert.equal(got.status, 200);
  for (const e of [created.body, got.body]) {
    assert.equal(e.isReminderOn, false);
    assert.equal(e.showAs, "tentative");
    assert.equal(e.sensitivity, "private");
    assert.deepEqual(e.categories, ["calsync"]);
    assert.deepEqual(e.body, { contentType: "html", content: "<p>From <b>Outlook</b></p>" });
    assert.equal(e.bodyPreview, "From Outlook");
    assert.equal(e.transactionId, undefined, "returned only when the app set one");
  }
  assert.equal(got.body["@odata.etag"], `W/"${got.body.changeKey}"`);
});

// "event resource type", transactionId: "A custom identifier specified by a client app for
// the server to avoid redundant POST operations in case of client retries to create the
// same event"; it is returned only when the app set it.
Deno.test("events: a second create with the same transactionId returns the first event", async () => {
  await using s = await setup();
  const body = utcEvent("Once", "2026-12-01T09:00:00", "2026-12-01T10:00:00", {
    transactionId: "calsync-7f1c",
  });
  const first = await s.call<Tagged>("POST", EVENTS, { body });
  const retry = await s.call<Tagged>("POST", EVENTS, { body });
  assert.equal(retry.status, 201);
  assert.equal(retry.body.id, first.body.id);
  assert.equal(retry.body.transactionId, "calsync-7f1c");
  assert.equal(s.ann.events().length, 1);
  const change = await s.call("PATCH", `/users/${ANN}/events/${first.body.id}`, {
    body: { transactionId: "other" },
  });
  assert.equal(change.status, 400, "transactionId cannot be changed after create");
});

// "Update event", https://learn.microsoft.com/en-us/graph/api/event-update?view=graph-rest-1.0,
// documents no If-Match; "Microsoft Graph error responses",
// https://learn.microsoft.com/en-us/graph/errors, lists 412 Precondition Failed for a
// precondition (such as if-match) that does not hold, the general OData rule the stand-in
// models. A PATCH changes only the properties it carries and gives a new change key.
Deno.test("events: PATCH with a stale If-Match answers 412; a current one updates", async () => {
  await using s = await setup();
  const created = await s.call<Tagged>("POST", EVENTS, {
    body: utcEvent("Draft", "2026-12-01T09:00:00", "2026-12-01T10:00:00", { categories: ["a"] }),
  });
  const path = `/users/${ANN}/events/${created.body.id}`;
  const first = await s.call<Tagged>("PATCH", path, {
    body: { subject: "Final" },
    headers: { "if-match": created.body["@odata.etag"] },
  });
  assert.equal(first.status, 200);
  assert.equal(first.body.subject, "Final");
  assert.deepEqual(first.body.categories, ["a"]);
  assert.notEqual(first.body.changeKey, created.body.changeKey);
  const stale = await s.call("PATCH", path, {
    body: { subject: "Lost" },
    headers: { "if-match": created.body["@odata.etag"] },
  });
  assert.equal(stale.status, 412);
  assert.equal(error(stale.body).code, "ErrorIrresolvableConflict");
  assert.equal((await s.call<Tagged>("GET", path)).body.subject, "Final");
});

// "Delete event", https://learn.microsoft.com/en-us/graph/api/event-delete?view=graph-rest-1.0:
// 204 No Content. Exchange answers 404 ErrorItemNotFound for an id of nothing and 400
// ErrorInvalidIdMalformed for a string that is no id ("Microsoft Graph error responses").
Deno.test("events: delete answers 204; then 404 ErrorItemNotFound; junk ids 400 ErrorInvalidIdMalformed", async () => {
  await using s = await setup();
  const id = s.ann.addEvent(utcEvent("Gone", "2026-12-01T09:00:00", "2026-12-01T10:00:00"));
  const path = `/users/${ANN}/events/${id}`;
  const deleted = await s.call("DELETE", path);
  assert.equal(deleted.status, 204);
  assert.equal(deleted.body, null);
  const again = await s.call("GET", path);
  assert.equal(again.status, 404);
  assert.equal(error(again.body).code, "ErrorItemNotFound");
  const junk = await s.call("GET", `/users/${ANN}/events/not-an-id`);
  assert.equal(junk.status, 400);
  assert.equal(error(junk.body).code, "ErrorInvalidIdMalformed");
});

// OData refuses a property the type does not declare ("Microsoft Graph error responses":
// 400 for a malformed or incorrect request); an enumeration member that does not exist
// cannot be converted; "event resource type", isAllDay: start and end must be midnight.
Deno.test("events: unknown properties, bad enumerations and non-midnight all-day events are refused", async () => {
  await using s = await setup();
  const base = utcEvent("x", "2026-12-01T09:00:00", "2026-12-01T10:00:00");
  const unknown = await s.call("POST", EVENTS, { body: { ...base, colour: "red" } });
  assert.equal(unknown.status, 400);
  assert.match(
    error(unknown.body).message,
    /'colour' does not exist on type 'microsoft.graph.event'/,
  );
  const badEnum = await s.call("POST", EVENTS, { body: { ...base, showAs: "away" } });
  assert.equal(badEnum.status, 400);
  assert.match(error(badEnum.body).message, /freeBusyStatus/);
  const allDay = await s.call("POST", EVENTS, { body: { ...base, isAllDay: true } });
  assert.equal(allDay.status, 400);
  const zone = await s.call("POST", EVENTS, {
    body: { ...base, start: { dateTime: "2026-12-01T09:00:00", timeZone: "Mars/Olympus" } },
  });
  assert.equal(zone.status, 400);
  assert.equal(s.ann.events().length, 0);
});

const KEY = "String {66f5a359-4659-4830-9070-00047ec6ac6e} Name CalsyncKey";

// "Create single-value extended property",
// https://learn.microsoft.com/en-us/graph/api/singlevaluelegacyextendedproperty-post-singlevalueextendedproperties?view=graph-rest-1.0:
// set in the body of a create or update; "Get singleValueLegacyExtendedProperty": read
// back with $expand, events found with $filter …/Any(ep: …).
Deno.test("events: extended properties are written, expanded and filtered on", async () => {
  await using s = await setup();
  const created = await s.call<Tagged>("POST", EVENTS, {
    body: utcEvent("Tagged", "2026-12-01T09:00:00", "2026-12-01T10:00:00", {
      singleValueExtendedProperties: [{ id: KEY, value: "k-1" }],
    }),
  });
  assert.equal(created.body.singleValueExtendedProperties, undefined);
  const path = `/users/${ANN}/events/${created.body.id}`;
  await s.call("PATCH", path, {
    body: { singleValueExtendedProperties: [{ id: KEY, value: "k-2" }] },
  });
  const expanded = await s.call<Tagged>(
    "GET",
    `${path}?$expand=singleValueExtendedProperties($filter=id eq '${KEY}')`,
  );
  assert.deepEqual(expanded.body.singleValueExtendedProperties, [{ id: KEY, value: "k-2" }]);
  const filter = encodeURIComponent(
    `singleValueExtendedProperties/Any(ep: ep/id eq '${KEY}' and ep/value eq 'k-2')`,
  );
  const found = await s.call<Collection>("GET", `/users/${ANN}/events?$filter=${filter}`);
  assert.deepEqual(found.body.value.map((e) => e.id), [created.body.id]);
  const bad = await s.call("POST", EVENTS, {
    body: utcEvent("x", "2026-12-01T09:00:00", "2026-12-01T10:00:00", {
      singleValueExtendedProperties: [{ id: "CalsyncKey", value: "1" }],
    }),
  });
  assert.equal(bad.status, 400);
});

// "Create event": with attendees, the organizer's mailbox sends them an invitation; "Update
// event" and "Delete event": a meeting's change sends an update, its deletion by the
// organizer a cancellation. The stand-in records them so a test can assert none was sent.
Deno.test("events: attendees get invitations, updates and cancellations; events without none", async () => {
  await using s = await setup();
  await s.call("POST", EVENTS, {
    body: utcEvent("Alone", "2026-12-01T08:00:00", "2026-12-01T08:30:00"),
  });
  assert.equal(s.graph.sentMessages.length, 0);
  const meeting = await s.call<Tagged>("POST", EVENTS, {
    body: utcEvent("Meeting", "2026-12-01T09:00:00", "2026-12-01T10:00:00", {
      attendees: [{ type: "required", emailAddress: { address: "bob@contoso.com", name: "Bob" } }],
    }),
  });
  const path = `/users/${ANN}/events/${meeting.body.id}`;
  await s.call("PATCH", path, { body: { categories: ["x"] } });
  await s.call("PATCH", path, { body: { subject: "Meeting (new time)" } });
  await s.call("DELETE", path);
  assert.deepEqual(
    s.graph.sentMessages.map((m) => [m.kind, m.recipients]),
    [["invitation", ["bob@contoso.com"]], ["update", ["bob@contoso.com"]], [
      "cancellation",
      ["bob@contoso.com"],
    ]],
  );
});

// "Update event" / "Delete event" on an occurrence's id: the occurrence alone changes (it
// becomes an exception, "event resource type" type) or goes.
Deno.test("events: an occurrence patched becomes an exception; one deleted leaves the series", async () => {
  await using s = await setup();
  const master = s.ann.addEvent({
    subject: "Daily",
    start: { dateTime: "2026-12-01T09:00:00", timeZone: "UTC" },
    end: { dateTime: "2026-12-01T09:15:00", timeZone: "UTC" },
    recurrence: {
      pattern: { type: "daily", interval: 1 },
      range: { type: "endDate", startDate: "2026-12-01", endDate: "2026-12-03" },
    },
  });
  const view = `/users/${ANN}/calendarView?startDateTime=2026-12-01&endDateTime=2026-12-04`;
  const before = await s.call<Collection>("GET", view);
  assert.equal(before.body.value.length, 3);
  const [first, second, third] = before.body.value;
  const patched = await s.call<Tagged>("PATCH", `/users/${ANN}/events/${first.id}`, {
    body: { subject: "Daily (long)", end: { dateTime: "2026-12-01T10:00:00", timeZone: "UTC" } },
  });
  assert.equal(patched.body.type, "exception");
  assert.equal(patched.body.seriesMasterId, master);
  await s.call("PATCH", `/users/${ANN}/events/${third.id}`, { body: { subject: "Daily (last)" } });
  assert.equal((await s.call("DELETE", `/users/${ANN}/events/${second.id}`)).status, 204);
  const after = await s.call<Collection>("GET", view);
  assert.deepEqual(after.body.value.map((e) => [e.type, e.subject, e.end!.dateTime]), [
    ["exception", "Daily (long)", "2026-12-01T10:00:00.0000000"],
    ["exception", "Daily (last)", "2026-12-03T09:15:00.0000000"],
  ]);
  assert.equal((await s.call("GET", `/users/${ANN}/events/${second.id}`)).status, 404);
});

// "List calendars", https://learn.microsoft.com/en-us/graph/api/user-list-calendars?view=graph-rest-1.0:
// the mailbox's calendars, the default one flagged isDefaultCalendar; "Create event" in a
// given calendar: POST /users/{id}/calendars/{id}/events.
Deno.test("events: calendars listed with the default flagged; events created in another calendar", async () => {
  await using s = await setup();
  const other = s.ann.addCalendar("calsync");
  const calendars = await s.call<Collection<{ id: string; isDefaultCalendar: boolean }>>(
    "GET",
    `/users/${ANN}/calendars`,
  );
  assert.deepEqual(calendars.body.value.map((c) => c.isDefaultCalendar), [true, false]);
  const there = await s.call<Tagged>("POST", `/users/${ANN}/calendars/${other}/events`, {
    body: utcEvent("there", "2026-12-01T09:00:00", "2026-12-01T10:00:00"),
  });
  const range = "startDateTime=2026-12-01&endDateTime=2026-12-02";
  const inDefault = await s.call<Collection>("GET", `/users/${ANN}/calendar/calendarView?${range}`);
  const inOther = await s.call<Collection>(
    "GET",
    `/users/${ANN}/calendars/${other}/calendarView?${range}`,
  );
  assert.deepEqual([inDefault.body.value.length, inOther.body.value.length], [0, 1]);
  const byPath = await s.call("GET", `/users/${ANN}/calendars/${other}/events/${there.body.id}`);
  assert.equal(byPath.status, 200, "an event is reachable under its calendar too");
});

// "List events" of a calendar,
// https://learn.microsoft.com/en-us/graph/api/calendar-list-events?view=graph-rest-1.0:
// GET /users/{id}/calendar/events lists the default calendar's events only, and
// /calendars/{id}/events those of that calendar.
Deno.test("events: the default calendar's events list leaves out other calendars' events", async () => {
  await using s = await setup();
  const other = s.ann.addCalendar("calsync");
  s.ann.addEvent(utcEvent("in default", "2026-12-01T09:00:00", "2026-12-01T10:00:00"));
  s.ann.addEvent(utcEvent("in other", "2026-12-01T09:00:00", "2026-12-01T10:00:00"), other);
  const subjects = async (path: string) =>
    (await s.call<Collection>("GET", path)).body.value.map((e) => e.subject);
  assert.deepEqual(await subjects(EVENTS), ["in default"]);
  assert.deepEqual(await subjects(`/users/${ANN}/calendars/${other}/events`), ["in other"]);
});
