/**
 * Reading Graph events as occurrences: the mapping of each field, and the repairs and
 * skips of messy events, each a warning.
 */
import assert from "node:assert/strict";
import type { Event } from "@microsoft/microsoft-graph-types";
import { readGraphEvent } from "../../shared/graph/occurrence.ts";

const BASE: Event = {
  id: "AAMk-1",
  iCalUId: "040000008200E00074C5B7101A82E0080000000001",
  type: "singleInstance",
  subject: "Board",
  start: { dateTime: "2026-12-01T09:00:00.0000000", timeZone: "UTC" },
  end: { dateTime: "2026-12-01T10:00:00.0000000", timeZone: "UTC" },
  originalStartTimeZone: "Romance Standard Time",
  lastModifiedDateTime: "2026-11-20T08:15:30.1234567Z",
};

const read = (event: Event, seriesUid: string | null = null, includeBody = false) =>
  readGraphEvent({ ...BASE, ...event }, { seriesUid, includeBody });

Deno.test("readGraphEvent: fields as the model names them", () => {
  const { occurrence, warnings } = read(
    {
      showAs: "workingElsewhere",
      sensitivity: "personal",
      body: { contentType: "text", content: "Agenda" },
      responseStatus: { response: "tentativelyAccepted" },
      attendees: [
        {
          type: "resource",
          emailAddress: { name: "Room 1", address: "room1@contoso.com" },
          status: { response: "accepted" },
        },
        {
          type: "required",
          emailAddress: { name: "Bob", address: "bob@contoso.com" },
          status: { response: "declined" },
        },
      ],
    },
    null,
    true,
  );
  assert.deepEqual(warnings, []);
  assert.equal(occurrence!.timezone, "Europe/Paris");
  assert.equal(occurrence!.start, "2026-12-01T09:00:00Z");
  assert.equal(occurrence!.show_as, "elsewhere");
  assert.equal(occurrence!.sensitivity, "private");
  assert.equal(occurrence!.description, "Agenda");
  assert.equal(occurrence!.response_status, "tentative");
  assert.equal(occurrence!.last_modified, "2026-11-20T08:15:30Z");
  assert.deepEqual(
    occurrence!.attendees.map((a) => [a.email, a.role, a.status]),
    [["room1@contoso.com", "non-participant", "accepted"], [
      "bob@contoso.com",
      "required",
      "declined",
    ]],
  );
});

Deno.test("readGraphEvent: an occurrence takes the series UID and its original start; all-day as dates", () => {
  const timed = read({
    type: "exception",
    seriesMasterId: "AAMk-master",
    originalStart: "2026-11-30T08:00:00Z",
  }, "series-uid");
  assert.equal(timed.occurrence!.uid, "series-uid");
  assert.equal(timed.occurrence!.recurrence_id, "2026-11-30T08:00:00Z");
  const allDay = read({
    type: "occurrence",
    isAllDay: true,
    seriesMasterId: "AAMk-master",
    originalStartTimeZone: "Tokyo Standard Time",
    originalStart: "2026-11-30T15:00:00Z",
    start: { dateTime: "2026-12-01T00:00:00.0000000", timeZone: "Tokyo Standard Time" },
    end: { dateTime: "2026-12-02T00:00:00.0000000", timeZone: "Tokyo Standard Time" },
  }, "series-uid");
  assert.deepEqual(
    [allDay.occurrence!.start, allDay.occurrence!.end, allDay.occurrence!.recurrence_id],
    ["2026-12-01", "2026-12-02", "2026-12-01"],
  );
  assert.equal(read({ isCancelled: true }).occurrence, null, "cancelled: left out");
});

Deno.test("readGraphEvent: messy events are mended with a warning, or refused for the caller to skip", () => {
  const unknownZone = read({ originalStartTimeZone: "Customized Time Zone" });
  assert.equal(unknownZone.occurrence!.timezone, null);
  assert.deepEqual(unknownZone.warnings.map((w) => w.reason), ["timezone-unknown"]);

  const backwards = read({ end: { dateTime: "2026-12-01T08:00:00.0000000", timeZone: "UTC" } });
  assert.equal(backwards.occurrence!.end, backwards.occurrence!.start);
  assert.deepEqual(backwards.warnings.map((w) => w.reason), ["timing-repaired"]);

  const noUid = read({ iCalUId: null });
  assert.equal(noUid.occurrence!.uid, "AAMk-1");
  assert.deepEqual(noUid.warnings.map((w) => w.reason), ["missing-uid"]);

  const zoned = read({
    start: { dateTime: "2026-12-01T09:00:00.0000000", timeZone: "Pacific Standard Time" },
    end: { dateTime: "2026-12-01T10:00:00.0000000", timeZone: "Pacific Standard Time" },
  });
  assert.equal(zoned.occurrence!.start, "2026-12-01T17:00:00Z", "a zone other than UTC converted");

  assert.throws(() => read({ start: null }), /no readable start or end/);
  assert.throws(
    () => read({ start: { dateTime: "soon", timeZone: "UTC" } }),
    /no readable start or end/,
  );
});
