/**
 * `CalendarClient` over the master's pages: `getEvents` follows `next_cursor` to the end,
 * `events()` yields one page at a time. The client talks to a real master app through a
 * `fetch` that hands each request to `app.request`.
 */
import assert from "node:assert/strict";
import {
  CalendarArgumentError,
  CalendarClient,
  CalendarResponseError,
  type FetchLike,
} from "../../shared/client.ts";
import type { StoredEvent } from "../../shared/protocol.ts";
import { ADMIN_TOKEN, enrol, type TestMaster, testMaster, timed } from "../helpers/master_app.ts";

const MARCH = ["2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z"] as const;

/** A client of `master` whose requests reach its app directly; `urls` records them. */
function clientOf(master: TestMaster) {
  const urls: string[] = [];
  const fetch: FetchLike = (url, init) => {
    urls.push(url);
    return Promise.resolve(master.app.request(url, init));
  };
  const client = new CalendarClient("http://master.test", { token: ADMIN_TOKEN, fetch });
  return { client, urls };
}

/** `n` half-hour events from 2 March on, a minute apart, uids `<prefix>0000`, … */
function many(n: number, prefix = "e") {
  return Array.from({ length: n }, (_, i) =>
    timed(
      `${prefix}${String(i).padStart(4, "0")}`,
      new Date(Date.UTC(2026, 2, 2) + i * 60_000).toISOString(),
      30,
    ));
}

/** A master with agent `pc1` and its source `main`, and an uploader of that source. */
async function masterWith(events: unknown[]) {
  const master = await testMaster();
  const token = await enrol(master, "pc1");
  let generated = Date.parse("2026-03-01T10:00:00Z");
  const upload = async (list: unknown[]) => {
    generated += 60_000;
    const res = await master.call("PUT", "/api/agents/pc1/sources/main/snapshot", {
      token,
      body: {
        window: { start: MARCH[0], end: MARCH[1] },
        generated_at: new Date(generated).toISOString(),
        events: list,
      },
    });
    assert.equal(res.status, 200, await res.clone().text());
  };
  await upload(events);
  return { master, upload };
}

const uids = (events: StoredEvent[]) => events.map((e) => e.uid);

Deno.test("getEvents follows the pages to the end and answers what one big answer held", async () => {
  const { master } = await masterWith(many(2_345));
  await using _ = master;
  const { client, urls } = clientOf(master);
  const expected = await master.store.listEvents({ start: MARCH[0], end: MARCH[1] });

  const all = await client.getEvents(...MARCH);
  assert.deepEqual(all, expected);
  assert.equal(urls.length, 3, "pages of the master's default 1,000");
  assert.ok(!urls[0].includes("cursor="));
  assert.ok(urls.slice(1).every((u) => u.includes("cursor=")));

  urls.length = 0;
  assert.deepEqual(await client.getEvents(...MARCH, { pageSize: 500 }), expected);
  assert.equal(urls.length, 5);
  assert.ok(urls.every((u) => u.includes("limit=500")));

  urls.length = 0;
  assert.deepEqual(await client.getEvents(...MARCH, { pageSize: 2_345 }), expected);
  assert.equal(urls.length, 1, "a last page that is full asks for no empty one after it");
});

Deno.test("events() yields page by page; uploads between pages neither repeat nor hide events", async () => {
  const { master, upload } = await masterWith(many(6));
  await using _ = master;
  const { client, urls } = clientOf(master);
  const iterator = client.events(...MARCH, { pageSize: 3 });
  assert.equal(urls.length, 0, "nothing is requested before the first event is asked for");

  const seen: StoredEvent[] = [];
  for (let i = 0; i < 3; i++) seen.push((await iterator.next()).value as StoredEvent);
  assert.deepEqual(uids(seen), ["e0000", "e0001", "e0002"]);
  assert.equal(urls.length, 1, "one page fetched for the first three events");

  // Between the pages: one event before the boundary (never shown now), one after it,
  // and one already read deleted.
  await upload([
    ...many(6).filter((e) => e.uid !== "e0001"),
    timed("before", "2026-03-02T00:00:30Z", 30),
    timed("after", "2026-03-02T00:04:30Z", 30),
  ]);
  for await (const e of iterator) seen.push(e);
  assert.deepEqual(uids(seen), ["e0000", "e0001", "e0002", "e0003", "e0004", "after", "e0005"]);
  assert.equal(new Set(uids(seen)).size, seen.length, "no event twice");
  assert.equal(urls.length, 3);
});

Deno.test("events() stopped early sends no further request", async () => {
  const { master } = await masterWith(many(50));
  await using _ = master;
  const { client, urls } = clientOf(master);
  const first: string[] = [];
  for await (const e of client.events(...MARCH, { pageSize: 10, agentId: "pc1" })) {
    first.push(e.uid);
    if (first.length === 12) break;
  }
  assert.deepEqual(first.slice(-2), ["e0010", "e0011"]);
  assert.equal(urls.length, 2);
  assert.ok(urls.every((u) => u.includes("agent_id=pc1")));
});

Deno.test("events() checks its arguments at once, before any request", () => {
  const urls: string[] = [];
  const fetch: FetchLike = (url) => {
    urls.push(url);
    return Promise.resolve(Response.json({ events: [], next_cursor: null }));
  };
  const client = new CalendarClient("http://master.test", { token: "t", fetch });
  for (const pageSize of [0, 10_001, 1.5, Number.NaN, "10" as unknown as number]) {
    assert.throws(
      () => client.events(...MARCH, { pageSize }),
      (err) => err instanceof CalendarArgumentError && err.argument === "pageSize",
      String(pageSize),
    );
  }
  assert.throws(
    () => client.events(MARCH[1], MARCH[0]),
    (err) => err instanceof CalendarArgumentError && err.argument === "end",
  );
  assert.deepEqual(urls, []);
});

Deno.test("a master before paging (no next_cursor) is read in one request; a cursor answered back is an error", async () => {
  const event = (await masterEvents())[0];
  let calls = 0;
  const old = new CalendarClient("http://master.test", {
    token: "t",
    fetch: () => {
      calls++;
      return Promise.resolve(Response.json({ events: [event] }));
    },
  });
  assert.deepEqual(await old.getEvents(...MARCH), [event]);
  assert.equal(calls, 1);

  const stuck = new CalendarClient("http://master.test", {
    token: "t",
    fetch: () => Promise.resolve(Response.json({ events: [event], next_cursor: "same" })),
  });
  await assert.rejects(
    stuck.getEvents(...MARCH),
    (err) => err instanceof CalendarResponseError && err.field === "next_cursor",
  );
});

/** One real event as the master answers it. */
async function masterEvents(): Promise<StoredEvent[]> {
  const { master } = await masterWith(many(1));
  await using _ = master;
  return await clientOf(master).client.getEvents(...MARCH);
}
