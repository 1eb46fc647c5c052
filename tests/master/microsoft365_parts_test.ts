/**
 * The pure parts of the `microsoft365` destination: the Graph event a copy is written as,
 * its `transactionId`, the marker, and the remembered listing's bookkeeping of delta pages.
 */
import assert from "node:assert/strict";
import {
  createBody,
  eventBody,
  graphZoneName,
  transactionIdOf,
} from "../../master/destinations/microsoft365/event_body.ts";
import { Listing, type SeenItem } from "../../master/destinations/microsoft365/listing.ts";
import {
  HASH_PROPERTY,
  ID_PROPERTY,
  markerOf,
  readMarker,
} from "../../master/destinations/microsoft365/marker.ts";
import { destinationItem } from "./destination_contract.ts";

const meeting = destinationItem({
  uid: "board@example.com",
  start: "2026-10-25T00:30:00Z",
  end: "2026-10-25T01:30:00Z",
  timezone: "Europe/Berlin",
  title: "Board",
  location: "HQ",
  description: "Budget",
  show_as: "elsewhere",
  sensitivity: "private",
  categories: ["Board"],
  organizer: { name: "Ann", email: "ann@contoso.com" },
  attendees: [{ name: "Bob", email: "bob@fabrikam.com", status: "accepted" }],
});

Deno.test("microsoft365 event body: never a meeting, never a reminder, people in the text", () => {
  const body = eventBody(meeting, "W. Europe Standard Time");
  assert.equal("attendees" in body, false, "no attendees property at all");
  assert.deepEqual(
    [body.isReminderOn, body.responseRequested, body.allowNewTimeProposals, body.isOnlineMeeting],
    [false, false, false, false],
  );
  assert.deepEqual(body.body, {
    contentType: "text",
    content: "Budget\n\nOrganizer: Ann <ann@contoso.com>\n" +
      "Attendee: Bob <bob@fabrikam.com> (required, accepted)",
  });
  assert.deepEqual(
    [body.subject, body.location, body.showAs, body.sensitivity, body.categories],
    ["Board", { displayName: "HQ" }, "workingElsewhere", "private", ["Board"]],
  );
  assert.deepEqual(body.singleValueExtendedProperties, [
    { id: ID_PROPERTY, value: markerOf(meeting.key) },
    { id: HASH_PROPERTY, value: meeting.hash },
  ]);
  assert.equal("transactionId" in body, false, "an update never sends one");
});

Deno.test("microsoft365 event body: timed events in their own zone across DST, all-day at midnights", () => {
  // 00:30Z on the night summer time ends is 02:30 CEST; 01:30Z is 02:30 CET.
  const body = eventBody(meeting, "Tokyo Standard Time");
  assert.deepEqual(body.start, {
    dateTime: "2026-10-25T02:30:00",
    timeZone: "W. Europe Standard Time",
  });
  assert.deepEqual(body.end, {
    dateTime: "2026-10-25T02:30:00",
    timeZone: "W. Europe Standard Time",
  });
  const floating = eventBody(
    destinationItem({ uid: "x", start: "2026-03-01T09:00:00Z", end: "2026-03-01T10:00:00Z" }),
    "UTC",
  );
  assert.deepEqual(floating.start, { dateTime: "2026-03-01T09:00:00", timeZone: "UTC" });
  const holiday = eventBody(
    destinationItem({
      uid: "h",
      all_day: true,
      start: "2026-04-01",
      end: "2026-04-03",
      timezone: "America/New_York",
    }),
    "Tokyo Standard Time",
  );
  assert.equal(holiday.isAllDay, true);
  assert.deepEqual(holiday.start, {
    dateTime: "2026-04-01T00:00:00",
    timeZone: "Tokyo Standard Time",
  });
  assert.deepEqual(holiday.end, {
    dateTime: "2026-04-03T00:00:00",
    timeZone: "Tokyo Standard Time",
  });
  assert.equal(graphZoneName("Europe/Berlin"), "W. Europe Standard Time");
  assert.equal(graphZoneName("Not/AZone"), "UTC");
  assert.equal(graphZoneName(null), "UTC");
});

Deno.test("microsoft365 transactionId: the same for the same calendar, key and content only", () => {
  const calendar = "/users/team%40contoso.com/calendar";
  const id = transactionIdOf(calendar, meeting);
  assert.equal(createBody(meeting, "UTC", calendar).transactionId, id);
  assert.equal(transactionIdOf(calendar, { ...meeting }), id);
  assert.notEqual(transactionIdOf(`${calendar}s/AAMk1`, meeting), id, "another calendar");
  assert.notEqual(transactionIdOf(calendar, { ...meeting, hash: "other" }), id, "new content");
  assert.notEqual(transactionIdOf(calendar, { ...meeting, key: "other" }), id, "another key");
});

Deno.test("microsoft365 marker: both properties, ids in any letter case", () => {
  assert.deepEqual(
    readMarker([
      { id: ID_PROPERTY.toUpperCase(), value: "digest" },
      { id: HASH_PROPERTY, value: "hash" },
    ]),
    { id: "digest", hash: "hash" },
  );
  assert.equal(readMarker([{ id: ID_PROPERTY, value: "digest" }]), null, "no hash: foreign");
  assert.equal(readMarker(undefined), null);
});

const seen = (href: string, etag: string, key: string | null = "k"): SeenItem => ({
  href,
  etag,
  key,
  hash: key === null ? null : "h",
  meeting: false,
});

Deno.test("microsoft365 listing: the version moves with changes, not with what calsync already saw", () => {
  const listing = new Listing();
  listing.replace([seen("a", "1"), seen("b", "1"), seen("f", "1", null)]);
  const start = listing.version;
  listing.apply([{ id: "a", etag: "1", seriesMasterId: null, removed: false }]);
  assert.equal(listing.version, start, "an entry as last seen is no change");
  listing.noteWrite("a", seen("a", "2"));
  const written = listing.version;
  assert.ok(written > start, "calsync's own write is a change");
  listing.apply([{ id: "a", etag: "2", seriesMasterId: null, removed: false }]);
  assert.equal(listing.version, written, "delta reporting calsync's write is none");

  listing.apply([
    { id: "b", etag: "9", seriesMasterId: null, removed: false },
    { id: "new", etag: "1", seriesMasterId: null, removed: false },
  ]);
  assert.ok(listing.version > written);
  assert.deepEqual(listing.dirty().sort(), ["b", "new"], "edited and new events are read again");
  listing.noteRead("new", null);
  assert.deepEqual(listing.dirty(), ["b"]);

  const beforeSeries = listing.version;
  listing.apply([{ id: "occ-1", etag: "1", seriesMasterId: "someone's-series", removed: false }]);
  assert.equal(listing.version, beforeSeries, "a series calsync never saw is someone else's");
  listing.apply([{ id: "occ-2", etag: "1", seriesMasterId: "f", removed: false }]);
  assert.ok(listing.dirty().includes("f"), "an occurrence's change reads its known master again");

  listing.apply([{ id: "a", etag: null, seriesMasterId: null, removed: true }]);
  assert.equal(listing.seen("a"), undefined);
  assert.deepEqual(listing.items().map((i) => i.href).sort(), ["b", "f"]);

  const beforeForget = listing.version;
  listing.forget();
  assert.equal(listing.complete, false);
  assert.ok(listing.version > beforeForget, "a forgotten listing is a change");
  assert.deepEqual(listing.items(), []);
});
