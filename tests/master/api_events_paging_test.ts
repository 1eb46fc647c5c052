import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { StoredEvent } from "../../shared/protocol.ts";
import { ADMIN_TOKEN, enrol, type TestMaster, testMaster, timed } from "../helpers/master_app.ts";

const MARCH = "start=2026-03-01T00:00:00Z&end=2026-04-01T00:00:00Z";

type Page = { events: StoredEvent[]; next_cursor: string | null };

/** Uploads `events` as the snapshot of `pc1`'s source `main`, generated at `generatedAt`. */
async function upload(
  master: TestMaster,
  token: string,
  events: unknown[],
  generatedAt = "2026-03-01T11:00:00Z",
): Promise<void> {
  const res = await master.call("PUT", "/api/agents/pc1/sources/main/snapshot", {
    token,
    body: {
      window: { start: "2026-03-01T00:00:00Z", end: "2026-04-01T00:00:00Z" },
      generated_at: generatedAt,
      events,
    },
  });
  assert.equal(res.status, 200, await res.clone().text());
}

/** `n` half-hour events from 2 March on, a minute apart, uids `e0000`, `e0001`, … */
function many(n: number, prefix = "e") {
  return Array.from({ length: n }, (_, i) =>
    timed(
      `${prefix}${String(i).padStart(4, "0")}`,
      new Date(Date.UTC(2026, 2, 2) + i * 60_000).toISOString(),
      30,
    ));
}

async function page(master: TestMaster, query: string): Promise<Page> {
  const res = await master.call("GET", `/api/events?${query}`, { token: ADMIN_TOKEN });
  assert.equal(res.status, 200, await res.clone().text());
  return await res.json();
}

async function refusal(master: TestMaster, query: string) {
  const res = await master.call("GET", `/api/events?${query}`, { token: ADMIN_TOKEN });
  assert.equal(res.status, 400, query);
  return (await res.json()).error as { code: string; field: string; message: string };
}

Deno.test("events: pages of 1,000 by default, next_cursor null on the last", async () => {
  await using master = await testMaster();
  const token = await enrol(master, "pc1");
  await upload(master, token, many(1_005));
  const first = await page(master, MARCH);
  assert.equal(first.events.length, 1_000);
  assert.equal(typeof first.next_cursor, "string");
  const second = await page(master, `${MARCH}&cursor=${first.next_cursor}`);
  assert.deepEqual(second.events.map((e) => e.uid), ["e1000", "e1001", "e1002", "e1003", "e1004"]);
  assert.equal(second.next_cursor, null);

  const exact = await page(master, `${MARCH}&limit=1005`);
  assert.equal(exact.events.length, 1_005);
  assert.equal(exact.next_cursor, null, "no empty page after a full last one");
});

Deno.test("events: events uploaded between pages neither repeat nor hide those read", async () => {
  await using master = await testMaster();
  const token = await enrol(master, "pc1");
  const before = many(6);
  await upload(master, token, before);
  const first = await page(master, `${MARCH}&limit=3`);
  assert.deepEqual(first.events.map((e) => e.uid), ["e0000", "e0001", "e0002"]);
  // One event before the page boundary, one after it, and one of those read moved away.
  await upload(master, token, [
    ...before.filter((e) => e.uid !== "e0001"),
    timed("new-early", "2026-03-02T00:00:30Z", 30),
    timed("new-late", "2026-03-02T00:03:30Z", 30),
  ], "2026-03-01T11:30:00Z");
  const uids: string[] = [];
  for (let cursor = first.next_cursor; cursor !== null;) {
    const next = await page(master, `${MARCH}&limit=3&cursor=${cursor}`);
    uids.push(...next.events.map((e) => e.uid));
    cursor = next.next_cursor;
  }
  assert.deepEqual(uids, ["e0003", "new-late", "e0004", "e0005"]);
});

Deno.test("events: a limit out of range or not a whole number is refused naming limit", async () => {
  await using master = await testMaster();
  for (const limit of ["0", "10001", "abc", "1.5", "-1", "", "1e3", "9999999"]) {
    const error = await refusal(master, `${MARCH}&limit=${limit}`);
    assert.equal(error.field, "limit", limit);
    assert.match(error.message, /from 1 to 10000/, limit);
  }
  assert.equal((await page(master, `${MARCH}&limit=10000`)).next_cursor, null);
});

Deno.test("events: a malformed cursor, or one reused with other filters, is refused naming cursor", async () => {
  await using master = await testMaster();
  const token = await enrol(master, "pc1");
  await upload(master, token, many(3));
  const { next_cursor: cursor } = await page(master, `${MARCH}&limit=1`);
  assert.ok(cursor);
  const forged = Buffer.from(JSON.stringify([1, "x", 0, "pc1", "main", "k"])).toString("base64url");
  const garbage = Buffer.from([0xff, 0xfe, 0x00]).toString("base64url");
  for (const bad of ["nonsense!", cursor.slice(0, -3), forged, garbage, "x".repeat(20_000)]) {
    const error = await refusal(master, `${MARCH}&cursor=${bad}`);
    assert.equal(error.field, "cursor", bad.slice(0, 40));
  }
  for (
    const other of [
      "start=2026-03-01T00:00:00Z&end=2026-05-01T00:00:00Z",
      `${MARCH}&agent_id=pc1`,
      `${MARCH}&source_id=main`,
    ]
  ) {
    const error = await refusal(master, `${other}&cursor=${cursor}`);
    assert.equal(error.code, "invalid_cursor");
    assert.equal(error.field, "cursor");
    assert.match(error.message, /other filters/);
  }
  // The same range written otherwise, and another page size, are the same listing.
  const same = `start=${encodeURIComponent("2026-03-01T01:00:00+01:00")}&end=2026-04-01T00:00:00Z`;
  const rest = await page(master, `${same}&limit=5&cursor=${cursor}`);
  assert.deepEqual(rest.events.map((e) => e.uid), ["e0001", "e0002"]);
});
