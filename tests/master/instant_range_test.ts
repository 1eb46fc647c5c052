import assert from "node:assert/strict";
import { enrol, testMaster } from "../helpers/master_app.ts";

const WINDOW = { start: "2026-03-01T00:00:00Z", end: "2026-04-01T00:00:00Z" };
const SNAPSHOT_PATH = "/api/agents/pc1/sources/main/snapshot";

function snapshotBody(events: unknown[], generated_at: string) {
  return { window: WINDOW, generated_at, events };
}

async function errorOf(res: Response) {
  return (await res.json()).error as { code: string; message: string; field: string | null };
}

const OUT_OF_RANGE: [string, Record<string, unknown>, string, RegExp][] = [
  [
    "an offset that carries past year 9999",
    { uid: "a", start: "9999-12-31T23:00:00-14:00", end: "9999-12-31T23:30:00-14:00" },
    "events[0].start",
    /start must lie in the years 1900-2200 \(UTC\); got \+010000-01-01T13:00Z/,
  ],
  [
    "an end after 2200",
    { uid: "a", start: "2026-03-02T09:00:00Z", end: "2201-01-01T00:00:00Z" },
    "events[0].end",
    /end must lie in the years 1900-2200/,
  ],
  [
    "an all-day start before 1900",
    { uid: "a", all_day: true, start: "1899-12-31", end: "2026-03-03" },
    "events[0].start",
    /start must lie in the years 1900-2200/,
  ],
  [
    "a recurrence_id in year 0001",
    {
      uid: "a",
      recurrence_id: "0001-01-01T00:00:00Z",
      start: "2026-03-02T09:00:00Z",
      end: "2026-03-02T10:00:00Z",
    },
    "events[0].recurrence_id",
    /recurrence_id must lie in the years 1900-2200/,
  ],
];

for (const [what, event, field, message] of OUT_OF_RANGE) {
  Deno.test(`instant range: ${what} is refused, naming the field and the range`, async () => {
    await using master = await testMaster();
    const token = await enrol(master, "pc1");
    const res = await master.call("PUT", SNAPSHOT_PATH, {
      token,
      body: snapshotBody([event], "2026-03-01T12:00:00Z"),
    });
    assert.equal(res.status, 400);
    const err = await errorOf(res);
    assert.equal(err.code, "invalid_field");
    assert.equal(err.field, field);
    assert.match(err.message, message);
    assert.equal((await master.store.totals()).events, 0);
  });
}

Deno.test("instant range: the first and last moments of 1900-2200 are accepted", async () => {
  await using master = await testMaster();
  const token = await enrol(master, "pc1");
  const res = await master.call("PUT", SNAPSHOT_PATH, {
    token,
    body: {
      window: { start: "1900-01-01T00:00:00Z", end: "2200-12-31T23:59:59Z" },
      generated_at: "2026-03-01T12:00:00Z",
      events: [
        { uid: "first", start: "1900-01-01T00:00:00Z", end: "1900-01-01T01:00:00Z" },
        { uid: "last", start: "2200-12-31T23:00:00Z", end: "2200-12-31T23:59:59Z" },
      ],
    },
  });
  assert.equal(res.status, 200);
  assert.equal((await res.json()).added, 2);
});
