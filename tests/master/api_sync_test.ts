import assert from "node:assert/strict";
import ICAL from "ical.js";
import { MemoryDestination } from "../../master/destinations/memory.ts";
import { DestinationError } from "../../master/destinations/types.ts";
import { sourceFilter } from "../../master/destinations/config.ts";
import { configured } from "../../master/destinations/mod.ts";
import { SyncStatus } from "../../shared/protocol.ts";
import { memoryLogger } from "../../master/log.ts";
import { reconcileDestination } from "../../master/sync/reconcile.ts";
import { ADMIN_TOKEN, enrol, type TestMaster, testMaster, timed } from "../helpers/master_app.ts";

const WINDOW = { start: "2026-03-01T00:00:00Z", end: "2026-04-01T00:00:00Z" };

function put(master: TestMaster, token: string, events: unknown[], settings: unknown = {}) {
  return master.call("PUT", "/api/agents/pc1/sources/main/snapshot", {
    token,
    body: { window: WINDOW, generated_at: master.clock.now.toISOString(), settings, events },
  });
}

async function status(master: TestMaster) {
  const res = await master.call("GET", "/api/sync/status", { token: ADMIN_TOKEN });
  return SyncStatus.parse(await res.json());
}

Deno.test("a changed snapshot reconciles the destinations shortly after, an unchanged one not", async () => {
  const dest = new MemoryDestination("wall");
  await using master = await testMaster({
    destinations: [configured(dest, sourceFilter(["*"]))],
  });
  const token = await enrol(master, "pc1");
  await put(master, token, [
    timed("a", "2026-03-02T09:00:00Z"),
    timed("b", "2026-03-03T09:00:00Z"),
  ]);
  for (let i = 0; i < 3000 && dest.items.size < 2; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(dest.items.size, 2, "the debounced run wrote both");
  await master.sync.run();
  const calls = { ...dest.calls };
  await put(master, token, [
    timed("a", "2026-03-02T09:00:00Z"),
    timed("b", "2026-03-03T09:00:00Z"),
  ]);
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(dest.calls, calls, "nothing changed, nothing scheduled");

  const [d] = (await status(master)).destinations;
  assert.deepEqual(
    { ...d, last_reconcile_at: null },
    {
      id: "wall",
      type: "memory",
      url: "memory:",
      configured_url: "memory:",
      refused_until: null,
      last_reconcile_at: null,
      item_count: 2,
      pending: 0,
      last_error: null,
    },
  );
  assert.equal(d.last_reconcile_at, "2026-03-01T12:00:00Z");
});

Deno.test("settings sent with a snapshot apply to the destination", async () => {
  const dest = new MemoryDestination("wall");
  await using master = await testMaster({
    destinations: [configured(dest, sourceFilter(["*"]))],
  });
  const token = await enrol(master, "pc1");
  await put(master, token, [timed("a", "2026-03-02T09:00:00Z", 60, { title: "Secret" })]);
  await master.sync.run();
  assert.deepEqual([...dest.items.values()].map((i) => i.title), ["Secret"]);
  await put(master, token, [timed("a", "2026-03-02T09:00:00Z", 60, { title: "Secret" })], {
    privacy: "busy",
    label: "PC 1",
  });
  await master.sync.run();
  assert.deepEqual([...dest.items.values()].map((i) => i.title), ["[PC 1] Busy"]);
});

Deno.test("reconcile now through the admin API reports what it did", async () => {
  const dest = new MemoryDestination("wall");
  await using master = await testMaster({
    destinations: [configured(dest, sourceFilter(["*"]))],
    debounceMs: 60_000,
  });
  const token = await enrol(master, "pc1");
  await put(master, token, [timed("a", "2026-03-02T09:00:00Z")]);
  const res = await master.call("POST", "/api/admin/reconcile", { token: ADMIN_TOKEN });
  assert.equal(res.status, 200);
  const { reports } = await res.json();
  assert.equal(reports[0].destination_id, "wall");
  assert.equal(reports[0].created, 1);
  assert.equal((await master.call("POST", "/api/admin/reconcile", { token })).status, 401);
});

Deno.test("a failing destination shows its error and pending count in status", async () => {
  const dest = new MemoryDestination("wall");
  await using master = await testMaster({
    destinations: [configured(dest, sourceFilter(["*"]))],
    debounceMs: 60_000,
  });
  const token = await enrol(master, "pc1");
  await put(master, token, [
    timed("a", "2026-03-02T09:00:00Z"),
    timed("b", "2026-03-03T09:00:00Z"),
  ]);
  for (let i = 0; i < 4; i++) {
    dest.failNext("changeToken", new DestinationError("rejected", "wrong username or password"));
  }
  await master.sync.run();
  const [d] = (await status(master)).destinations;
  assert.equal(d.pending, 2);
  assert.equal(d.last_error, "wrong username or password");
  await master.sync.stop();
});

Deno.test("ICS feed: created by an admin, served with ETag and 304, revoked", async () => {
  await using master = await testMaster();
  const token = await enrol(master, "pc1");
  await put(master, token, [
    timed("a", "2026-03-02T09:00:00Z", 60, { title: "Réunion ☕", location: "Salle 4" }),
    { uid: "d", all_day: true, start: "2026-03-10", end: "2026-03-11", title: "Offsite" },
  ], { label: "PC" });

  const created = await master.call("POST", "/api/admin/feeds", {
    token: ADMIN_TOKEN,
    body: { name: "Team wall" },
  });
  assert.equal(created.status, 201);
  const feed = await created.json();
  assert.match(feed.path, /^\/feeds\/[A-Za-z0-9_-]{43}\.ics$/);

  const res = await master.call("GET", feed.path);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/calendar; charset=utf-8");
  const etag = res.headers.get("etag")!;
  const text = await res.text();
  const vcalendar = new ICAL.Component(ICAL.parse(text));
  const events = vcalendar.getAllSubcomponents("vevent").map((v) => new ICAL.Event(v));
  assert.deepEqual(events.map((e) => e.summary).sort(), ["[PC] Offsite", "[PC] Réunion ☕"]);
  const timedEvent = events.find((e) => e.summary === "[PC] Réunion ☕")!;
  assert.equal(timedEvent.startDate.toJSDate().toISOString(), "2026-03-02T09:00:00.000Z");
  assert.equal(timedEvent.location, "Salle 4");
  const allDay = events.find((e) => e.summary === "[PC] Offsite")!;
  assert.equal(allDay.startDate.isDate, true);
  assert.equal(allDay.startDate.toString(), "2026-03-10");
  assert.ok(events.every((e) => e.uid.startsWith("calsync-")));
  assert.equal(vcalendar.getFirstPropertyValue("x-wr-calname"), "Team wall");

  const cached = await master.app.request(feed.path, { headers: { "if-none-match": etag } });
  assert.equal(cached.status, 304);
  assert.match(etag, /^W\/"/);
  const strong = etag.slice(2);
  for (const header of [strong, "*", `"stale", ${strong}`]) {
    const res = await master.app.request(feed.path, { headers: { "if-none-match": header } });
    assert.equal(res.status, 304, `If-None-Match: ${header}`);
  }
  await put(master, token, [timed("a", "2026-03-02T09:00:00Z", 60, { title: "Changed" })], {
    label: "PC",
  });
  const changed = await master.app.request(feed.path, { headers: { "if-none-match": etag } });
  assert.equal(changed.status, 200);
  assert.notEqual(changed.headers.get("etag"), etag);
  await changed.body?.cancel();

  const list = await (await master.call("GET", "/api/admin/feeds", { token: ADMIN_TOKEN })).json();
  assert.deepEqual(list.feeds.map((f: { name: string }) => f.name), ["Team wall"]);
  assert.ok(!JSON.stringify(list).includes(feed.token), "the token is shown only once");
  assert.ok(!master.log.join("\n").includes(feed.token), "nor logged");
  const revoked = await master.call("DELETE", `/api/admin/feeds/${feed.feed_id}`, {
    token: ADMIN_TOKEN,
  });
  assert.equal(revoked.status, 204);
  assert.equal((await master.call("GET", feed.path)).status, 404);
  assert.equal(
    (await master.call("DELETE", `/api/admin/feeds/${feed.feed_id}`, { token: ADMIN_TOKEN }))
      .status,
    404,
  );
});

Deno.test("ICS feed: each DTSTAMP is when calsync last changed the item, the same on every fetch", async () => {
  await using master = await testMaster();
  const token = await enrol(master, "pc1");
  const feed = await (await master.call("POST", "/api/admin/feeds", {
    token: ADMIN_TOKEN,
    body: { name: "Wall" },
  })).json();
  const stamps = async () => {
    const text = await (await master.call("GET", feed.path)).text();
    const vevents = new ICAL.Component(ICAL.parse(text)).getAllSubcomponents("vevent");
    return Object.fromEntries(vevents.map((v) => [
      v.getFirstPropertyValue("summary"),
      (v.getFirstPropertyValue("dtstamp") as ICAL.Time).toJSDate().toISOString(),
    ]));
  };
  const first = master.clock.now.toISOString();
  await put(master, token, [
    timed("a", "2026-03-02T09:00:00Z", 60, { title: "A" }),
    timed("b", "2026-03-03T09:00:00Z", 60, { title: "B" }),
  ]);
  const before = await stamps();
  assert.deepEqual(before, { A: first, B: first });
  master.clock.now = new Date(master.clock.now.getTime() + 3_600_000);
  assert.deepEqual(await stamps(), before, "a later fetch shows nothing revised");

  const second = master.clock.now.toISOString();
  await put(master, token, [
    timed("a", "2026-03-02T09:00:00Z", 60, { title: "A" }),
    timed("b", "2026-03-03T09:00:00Z", 60, { title: "B moved" }),
  ]);
  assert.deepEqual(await stamps(), { A: first, "B moved": second });
});

Deno.test("ICS feed: a wrong token is 404 and feed admin needs the admin token", async () => {
  await using master = await testMaster();
  assert.equal((await master.call("GET", "/feeds/nonsense.ics")).status, 404);
  assert.equal((await master.call("GET", "/api/admin/feeds")).status, 401);
  const bad = await master.call("POST", "/api/admin/feeds", {
    token: ADMIN_TOKEN,
    body: { name: "" },
  });
  assert.equal(bad.status, 400);
  assert.equal((await bad.json()).error.field, "name");
});

Deno.test("several destinations each take only the sources their filter names", async () => {
  const team = new MemoryDestination("team");
  const all = new MemoryDestination("all");
  await using master = await testMaster({
    destinations: [
      configured(team, sourceFilter(["pc1/team"])),
      configured(all, sourceFilter(["*"])),
    ],
    debounceMs: 60_000,
  });
  const token = await enrol(master, "pc1", ["main", "team"]);
  for (const [source, uid] of [["main", "m"], ["team", "t"]]) {
    await master.call("PUT", `/api/agents/pc1/sources/${source}/snapshot`, {
      token,
      body: {
        window: WINDOW,
        generated_at: "2026-03-01T12:00:00Z",
        events: [timed(uid, "2026-03-02T09:00:00Z", 60, { title: `From ${source}` })],
      },
    });
  }
  await master.sync.run();
  assert.deepEqual([...team.items.values()].map((i) => i.title), ["From team"]);
  assert.deepEqual([...all.items.values()].map((i) => i.title).sort(), ["From main", "From team"]);
  const ids = (await status(master)).destinations.map((d) => [d.id, d.item_count]);
  assert.deepEqual(ids, [["team", 1], ["all", 2]]);
});

Deno.test("a destination whose lease another master holds is skipped; a lost lease stops writing", async () => {
  const dest = new MemoryDestination("wall");
  await using master = await testMaster({ destinations: [configured(dest)], debounceMs: 60_000 });
  const token = await enrol(master, "pc1");
  await put(master, token, [
    timed("a", "2026-03-02T09:00:00Z"),
    timed("b", "2026-03-03T09:00:00Z"),
  ]);
  assert.ok((await master.store.acquireLease("destination:wall", "other-master", 60_000)) !== null);
  const [skipped] = await master.sync.run();
  assert.equal(skipped.skipped, true);
  assert.equal(dest.writes, 0, "only the holder writes");
  await master.store.releaseLease("destination:wall", "other-master");
  const [done] = await master.sync.run();
  assert.deepEqual([done.skipped, done.created], [false, 2]);
  assert.equal(
    await master.store.acquireLease("destination:wall", "other-master", 60_000) !== null,
    true,
    "released after the run",
  );
});

Deno.test("reconcile: a failing write guard ends the run before any write", async () => {
  await using master = await testMaster();
  const dest = new MemoryDestination("wall");
  const token = await enrol(master, "pc1");
  await put(master, token, [timed("a", "2026-03-02T09:00:00Z")]);
  await assert.rejects(
    reconcileDestination(dest, master.store, await master.sync.desired(), {
      logger: memoryLogger(),
      beforeWrite: () => Promise.reject(new Error("lost the lease")),
    }),
    /lost the lease/,
  );
  assert.equal(dest.writes, 0);
});
