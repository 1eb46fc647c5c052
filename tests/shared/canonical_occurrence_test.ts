/**
 * `isCanonicalOccurrence` lets the master store an event without the zod schema. It may
 * only say yes where the schema would output the very same JSON: these tests hold it to
 * `Occurrence.safeParse` over what agents send and over many damaged variants of it.
 */
import assert from "node:assert/strict";
import { isCanonicalOccurrence } from "../../shared/canonical_occurrence.ts";
import { Occurrence, OCCURRENCE_LIMITS } from "../../shared/model.ts";

/** Events as agents send them: the schema's own output for varied inputs. */
const CANONICAL = [
  { uid: "a@x", start: "2026-03-02T09:00:00Z", end: "2026-03-02T10:00:00Z" },
  {
    uid: "b@x",
    recurrence_id: "2026-03-03",
    all_day: true,
    start: "2026-03-03",
    end: "2026-03-04",
    title: "Off – Zoë",
    categories: ["Holiday"],
    organizer: { name: "Ann", email: "ann@example.com" },
    attendees: [{ name: "Bob", email: "bob@example.com", role: "optional", status: "accepted" }],
    response_status: "accepted",
    last_modified: "2026-02-01T08:00:00Z",
    status: "tentative",
    show_as: "oof",
    sensitivity: "private",
    timezone: "Europe/Berlin",
  },
  {
    uid: "c@x",
    recurrence_id: "2024-02-29T23:59:59Z",
    start: "2024-02-29T23:59:59Z",
    end: "2024-02-29T23:59:59Z",
    description: "d".repeat(OCCURRENCE_LIMITS.description),
  },
].map((input) => Occurrence.parse(input));

/** What the schema makes of `value`: its JSON, or null when it refuses it. */
function schemaJson(value: unknown): string | null {
  const parsed = Occurrence.safeParse(value);
  return parsed.success ? JSON.stringify(parsed.data) : null;
}

Deno.test("events in the schema's own form are recognised", () => {
  for (const event of CANONICAL) {
    assert.ok(isCanonicalOccurrence(event), JSON.stringify(event).slice(0, 200));
    assert.ok(isCanonicalOccurrence(JSON.parse(JSON.stringify(event))));
  }
});

/** Ways to damage one field or the shape of an event. */
const DAMAGE: ((e: Record<string, unknown>) => void)[] = [
  (e) => delete e.title,
  (e) => e.extra = 1,
  (e) => {
    const { uid, ...rest } = e;
    for (const k of Object.keys(e)) delete e[k];
    Object.assign(e, rest, { uid });
  },
  (e) => e.uid = "",
  (e) => e.uid = "u".repeat(OCCURRENCE_LIMITS.uid + 1),
  (e) => e.title = "t".repeat(OCCURRENCE_LIMITS.title + 1),
  (e) => e.location = 5,
  (e) => e.description = "d".repeat(OCCURRENCE_LIMITS.description + 1),
  (e) => e.timezone = "z".repeat(OCCURRENCE_LIMITS.timezone + 1),
  (e) => e.start = "2026-03-02T09:00:00.000Z",
  (e) => e.start = "2026-03-02T10:00:00+01:00",
  (e) => e.start = "2026-02-30T09:00:00Z",
  (e) => e.start = "2026-03-02T24:00:00Z",
  (e) => e.end = "1899-12-31T23:00:00Z",
  (e) => e.start = e.end = "2201-01-01T00:00:00Z",
  (e) => [e.start, e.end] = [e.end, e.start],
  (e) => e.all_day = !e.all_day,
  (e) => e.all_day = "true",
  (e) => e.recurrence_id = "2026-3-2",
  (e) => e.recurrence_id = 20260302,
  (e) => e.status = "Confirmed",
  (e) => e.show_as = "away",
  (e) => e.sensitivity = null,
  (e) => e.response_status = "maybe",
  (e) => e.categories = ["c".repeat(OCCURRENCE_LIMITS.category + 1)],
  (e) => e.categories = Array(OCCURRENCE_LIMITS.categories + 1).fill("c"),
  (e) => e.categories = "Work",
  (e) => e.organizer = { email: "ann@example.com", name: "Ann" },
  (e) => e.organizer = { name: "Ann" },
  (e) => e.organizer = [],
  (e) => e.attendees = [{ name: "Bob", email: "b", role: "optional", status: "maybe" }],
  (e) => e.attendees = [{ name: "Bob", email: "b", role: "boss", status: "accepted" }],
  (e) => e.attendees = [{ name: "Bob", email: "b", status: "accepted", role: "optional" }],
  (e) =>
    e.attendees = Array(OCCURRENCE_LIMITS.attendees + 1).fill(
      { name: "", email: "", role: "required", status: "needs-action" },
    ),
  (e) => e.last_modified = "2026-02-01",
  (e) => e.last_modified = "2026-02-01T08:00:00.5Z",
];

Deno.test("a damaged event is recognised only where the schema outputs it unchanged", () => {
  let refused = 0;
  let tried = 0;
  for (const event of CANONICAL) {
    for (const [i, damage] of DAMAGE.entries()) {
      for (const second of [null, ...DAMAGE]) {
        const e = structuredClone(event) as Record<string, unknown>;
        damage(e);
        second?.(e);
        tried++;
        if (!isCanonicalOccurrence(e)) {
          refused++;
          continue;
        }
        assert.equal(schemaJson(e), JSON.stringify(e), `damage ${i} taken as canonical`);
      }
    }
  }
  assert.ok(refused > tried * 0.9, `${refused} of ${tried} damaged events refused`);
});

Deno.test("an event that is not an object is not canonical", () => {
  for (const value of [null, "event", 1, [], [CANONICAL[0]]]) {
    assert.equal(isCanonicalOccurrence(value), false);
  }
});
