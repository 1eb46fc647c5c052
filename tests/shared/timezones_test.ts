import assert from "node:assert/strict";
import { resolveZone, zonedToUtc, zoneOffset } from "../../shared/timezones.ts";

const at = (year: number, month: number, day: number, hour: number, minute = 0) => ({
  year,
  month,
  day,
  hour,
  minute,
  second: 0,
});

Deno.test("resolveZone accepts IANA names as written", () => {
  assert.equal(resolveZone("Europe/Berlin"), "Europe/Berlin");
  assert.equal(resolveZone("America/Argentina/Buenos_Aires"), "America/Argentina/Buenos_Aires");
  assert.equal(resolveZone("UTC"), "UTC");
  assert.equal(resolveZone("europe/berlin"), "Europe/Berlin");
});

Deno.test("resolveZone maps Windows names to the IANA zone of CLDR's default territory", () => {
  assert.equal(resolveZone("W. Europe Standard Time"), "Europe/Berlin");
  assert.equal(resolveZone("Eastern Standard Time"), "America/New_York");
  assert.equal(resolveZone("Tokyo Standard Time"), "Asia/Tokyo");
  assert.equal(resolveZone("Romance Standard Time"), "Europe/Paris");
});

Deno.test("resolveZone strips quotes and vendor prefixes", () => {
  assert.equal(resolveZone('"W. Europe Standard Time"'), "Europe/Berlin");
  assert.equal(resolveZone("/mozilla.org/20050126_1/Europe/Berlin"), "Europe/Berlin");
  assert.equal(
    resolveZone("/softwarestudio.org/Olson_20011030_5/America/New_York"),
    "America/New_York",
  );
  assert.equal(resolveZone("tzone://Microsoft/Utc"), "UTC");
});

Deno.test("resolveZone returns undefined for names no database knows", () => {
  assert.equal(
    resolveZone("(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna"),
    undefined,
  );
  assert.equal(resolveZone("Mars/Olympus_Mons"), undefined);
  assert.equal(resolveZone(""), undefined);
});

Deno.test("zonedToUtc follows Europe/Berlin across the 2026 DST changes", () => {
  assert.equal(
    zonedToUtc(at(2026, 3, 28, 9), "Europe/Berlin").toISOString(),
    "2026-03-28T08:00:00.000Z",
  );
  assert.equal(
    zonedToUtc(at(2026, 3, 30, 9), "Europe/Berlin").toISOString(),
    "2026-03-30T07:00:00.000Z",
  );
  assert.equal(
    zonedToUtc(at(2026, 10, 26, 9), "Europe/Berlin").toISOString(),
    "2026-10-26T08:00:00.000Z",
  );
});

Deno.test("zonedToUtc moves a time in the spring-forward gap forward by the gap", () => {
  // 02:30 does not exist on 2026-03-29 in Berlin; RFC 5545 reads it with the offset
  // before the gap (+01:00), which is 03:30 CEST.
  assert.equal(
    zonedToUtc(at(2026, 3, 29, 2, 30), "Europe/Berlin").toISOString(),
    "2026-03-29T01:30:00.000Z",
  );
  assert.equal(
    zonedToUtc(at(2026, 3, 8, 2, 30), "America/New_York").toISOString(),
    "2026-03-08T07:30:00.000Z",
  );
});

Deno.test("zonedToUtc takes the first of two repeated times when clocks fall back", () => {
  assert.equal(
    zonedToUtc(at(2026, 10, 25, 2, 30), "Europe/Berlin").toISOString(),
    "2026-10-25T00:30:00.000Z",
  );
  assert.equal(
    zonedToUtc(at(2026, 11, 1, 1, 30), "America/New_York").toISOString(),
    "2026-11-01T05:30:00.000Z",
  );
});

Deno.test("zonedToUtc in a zone without DST", () => {
  assert.equal(
    zonedToUtc(at(2026, 3, 29, 9), "Asia/Tokyo").toISOString(),
    "2026-03-29T00:00:00.000Z",
  );
});

Deno.test("zonedToUtc rejects an unknown zone", () => {
  assert.throws(() => zonedToUtc(at(2026, 3, 29, 9), "Mars/Olympus_Mons"), RangeError);
});

Deno.test("zoneOffset changes at the exact second of the transition", () => {
  const change = Date.parse("2026-03-29T01:00:00Z");
  assert.equal(zoneOffset("Europe/Berlin", change - 1000), 3_600_000);
  assert.equal(zoneOffset("Europe/Berlin", change), 7_200_000);
});
