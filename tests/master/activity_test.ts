/**
 * The activity log as an admin meets it: real reconciles of an in-memory destination,
 * each recorded once with what started it and what it did, read back from the store,
 * `GET /api/admin/activity` and the dashboard; failed reconciles recorded with their
 * error, and a log that cannot be written never changing a reconcile's outcome.
 *
 * @module
 */
import assert from "node:assert/strict";
import { MemoryDestination } from "../../master/destinations/memory.ts";
import { configured } from "../../master/destinations/mod.ts";
import { DestinationError } from "../../master/destinations/types.ts";
import { ActivityList } from "../../master/openapi/answers.ts";
import type { ActivityEntry } from "../../master/store/activity.ts";
import { StorageFullError } from "../../master/store/errors.ts";
import { SqliteStore } from "../../master/store/sqlite.ts";
import type { Store } from "../../master/store/types.ts";
import { ADMIN_TOKEN, enrol, type TestMaster, testMaster, timed } from "../helpers/master_app.ts";
import { until } from "../helpers/poll.ts";

const WINDOW = { start: "2026-03-01T00:00:00Z", end: "2026-04-01T00:00:00Z" };

async function activity(master: TestMaster, query = ""): Promise<ActivityEntry[]> {
  const res = await master.call("GET", `/api/admin/activity${query}`, { token: ADMIN_TOKEN });
  assert.equal(res.status, 200, await res.clone().text());
  return ActivityList.parse(await res.json()).entries;
}

/** The dashboard's HTML in `tz`, through a signed-in session. */
async function dashboard(master: TestMaster, tz: string): Promise<string> {
  const login = await master.app.request("/login", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token: ADMIN_TOKEN }).toString(),
  });
  const cookie = login.headers.get("set-cookie")!.split(";")[0];
  const res = await master.app.request(`/?tz=${encodeURIComponent(tz)}`, {
    headers: { cookie, accept: "text/html" },
  });
  assert.equal(res.status, 200);
  return await res.text();
}

/** The table row of the entry `id` on the page. */
function row(html: string, id: string): string {
  const start = html.indexOf(`data-activity="${id}"`);
  assert.ok(start >= 0, `no row of ${id}`);
  return html.slice(start, html.indexOf("</tr>", start));
}

/** `store`, with some of its methods replaced. */
function storeWith(store: Store, replaced: Partial<Store>): Store {
  return new Proxy(store, {
    get: (target, name) => {
      if (name in replaced) return replaced[name as keyof Store];
      const value = Reflect.get(target, name);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** Sends a snapshot of `events` for pc1's source `main`. */
async function snapshot(master: TestMaster, token: string, events: unknown[], generatedAt: string) {
  const put = await master.call("PUT", "/api/agents/pc1/sources/main/snapshot", {
    token,
    body: { window: WINDOW, generated_at: generatedAt, events },
  });
  assert.equal(put.status, 200, await put.clone().text());
}

Deno.test("activity: a snapshot's and a removal's reconciles are logged once each, with trigger and counts", async () => {
  const dest = new MemoryDestination("wall");
  await using master = await testMaster({ destinations: [configured(dest)] });
  const token = await enrol(master, "pc1");
  const logged = (n: number) => async () =>
    (await master.store.listActivity({ limit: 10 })).length === n;

  // A snapshot that changes something starts one reconcile after the debounce.
  await snapshot(master, token, [
    timed("a", "2026-03-02T09:00:00Z"),
    timed("b", "2026-03-03T09:00:00Z"),
  ], "2026-03-01T11:00:00Z");
  await until("the snapshot's reconcile is logged", 10_000, logged(1));
  master.clock.now = new Date("2026-03-01T12:05:00Z");
  const removed = await master.call("DELETE", "/api/admin/agents/pc1/sources/main", {
    token: ADMIN_TOKEN,
  });
  assert.equal(removed.status, 200);
  await until("the removal's reconcile is logged", 10_000, logged(2));
  await master.sync.stop();

  const [removal, first] = await master.store.listActivity({ limit: 10 });
  assert.deepEqual(
    [first.trigger, first.outcome, first.created, first.updated, first.deleted],
    ["snapshot", "completed", 2, 0, 0],
  );
  assert.deepEqual([first.failed, first.pending, first.error], [0, 0, null]);
  assert.equal(first.destination_id, "wall");
  assert.equal(first.started_at, "2026-03-01T12:00:00.000Z", "by the master's clock");
  assert.ok(first.master_id.length > 0);
  assert.deepEqual(
    [removal.trigger, removal.started_at, removal.deleted],
    ["removal", "2026-03-01T12:05:00.000Z", 2],
  );
  assert.equal(dest.items.size, 0);
  assert.deepEqual(await activity(master), [removal, first], "the API serves the same");
});

Deno.test("activity: the API filters by destination, since and limit; the page shows the last day", async () => {
  const dest = new MemoryDestination("wall");
  await using master = await testMaster({
    destinations: [configured(dest), configured(new MemoryDestination("lobby"))],
    // No reconcile starts by itself: each one below is the test's.
    debounceMs: 3_600_000,
  });
  const at = (instant: string) => (master.clock.now = new Date(instant));
  at("2026-03-01T08:00:00Z");
  const token = await enrol(master, "pc1");
  const event = timed("a", "2026-03-02T09:00:00Z");
  await snapshot(
    master,
    token,
    [event, timed("b", "2026-03-03T09:00:00Z")],
    "2026-03-01T07:00:00Z",
  );
  await master.sync.run(); // 08:00: more than a day before the page is looked at
  at("2026-03-01T09:00:00Z");
  await master.sync.run();
  at("2026-03-01T10:00:00Z");
  await snapshot(
    master,
    token,
    [{ ...event, title: "Moved" }, timed("b", "2026-03-03T09:00:00Z")],
    "2026-03-01T09:59:00Z",
  );
  await master.sync.run();
  at("2026-03-01T11:00:00Z");
  dest.failNext("changeToken", new DestinationError("rejected", "HTTP 400 the server says no"));
  assert.equal((await master.sync.run())[0].errors.length, 1);
  at("2026-03-02T08:30:00Z");
  await master.sync.run();

  const wall = await activity(master, "?destination=wall");
  assert.deepEqual(wall.map((e) => [e.started_at.slice(0, 19), e.trigger, e.outcome]), [
    ["2026-03-02T08:30:00", "admin", "completed"],
    ["2026-03-01T11:00:00", "admin", "failed"],
    ["2026-03-01T10:00:00", "admin", "completed"],
    ["2026-03-01T09:00:00", "admin", "completed"],
    ["2026-03-01T08:00:00", "admin", "completed"],
  ]);
  const [, failed, updated, quiet, created] = wall;
  assert.deepEqual([created.created, created.updated, created.deleted], [2, 0, 0]);
  assert.deepEqual([updated.created, updated.updated, updated.deleted], [0, 1, 0]);
  assert.deepEqual([quiet.created, quiet.updated, quiet.deleted], [0, 0, 0]);
  assert.match(failed.error!, /HTTP 400 the server says no/);
  assert.deepEqual([failed.failed, failed.pending], [1, 0], "failed, with nothing waiting");

  assert.equal((await activity(master)).length, 10, "both destinations, every run");
  assert.deepEqual(
    (await activity(master, "?since=2026-03-01T10:00:00%2B01:00&destination=lobby"))
      .map((e) => e.started_at.slice(11, 19)),
    ["08:30:00", "11:00:00", "10:00:00", "09:00:00"],
    "since is an instant with any offset, inclusive",
  );
  assert.deepEqual((await activity(master, "?limit=2")).map((e) => e.started_at.slice(0, 13)), [
    "2026-03-02T08",
    "2026-03-02T08",
  ]);

  // On the page: the last 24 hours, in the page's time zone, failures marked.
  const html = await dashboard(master, "Asia/Tokyo");
  const section = html.slice(html.indexOf('<section id="activity">'));
  assert.match(section, /Activity, last 24 hours/);
  assert.match(section, /times in Asia\/Tokyo/);
  const failedRow = row(section, failed.id);
  assert.match(failedRow, /class="failed"/);
  assert.match(failedRow, /Failed:/);
  assert.match(failedRow, /HTTP 400 the server says no/);
  assert.match(failedRow, /Sun 20:00:00/, "11:00 UTC is 20:00 in Tokyo");
  assert.match(row(section, updated.id), /<td>admin<\/td>/);
  assert.doesNotMatch(section, new RegExp(created.id), "08:00 is more than a day ago");
  assert.doesNotMatch(section, new RegExp(quiet.id), "a quiet run has no row of its own");
  const lobbyAt = section.indexOf('data-activity-destination="lobby"');
  const [wallPart, lobbyPart] = [section.slice(0, lobbyAt), section.slice(lobbyAt)];
  // Wall: 08:30 and 09:00 found nothing to change, with the failure and the update between.
  assert.deepEqual([...wallPart.matchAll(/data-quiet="(\d+)"/g)].map((m) => m[1]), ["1", "1"]);
  assert.match(wallPart, /Mon 17:30:00/);
  // Lobby: 08:30 and 11:00 in a row share one line, above the update and 09:00's line.
  assert.deepEqual([...lobbyPart.matchAll(/data-quiet="(\d+)"/g)].map((m) => m[1]), ["2", "1"]);
  assert.match(lobbyPart, /2 runs, nothing to change/);
});

Deno.test("activity: the page says so when a destination has no run in the last day", async () => {
  await using master = await testMaster({
    destinations: [configured(new MemoryDestination("wall"))],
  });
  const html = await dashboard(master, "UTC");
  assert.match(html, /No reconcile of wall in the last 24 hours by any master\./);
});

Deno.test("activity: a refused password, then the runs that leave it alone, are logged", async () => {
  const dest = new MemoryDestination("sogo");
  dest.failNext("changeToken", new DestinationError("unauthorized", "HTTP 401"));
  await using master = await testMaster({ destinations: [configured(dest)] });
  await master.sync.run();
  master.clock.now = new Date("2026-03-01T12:01:00Z");
  await master.sync.run();
  const [blocked, refused] = await activity(master);
  assert.equal(refused.outcome, "failed");
  assert.match(refused.error!, /refused calsync's credentials: HTTP 401/);
  assert.equal(blocked.outcome, "not_contacted");
  assert.match(blocked.error!, /refused calsync's credentials/);
  assert.equal(dest.calls.changeToken, 1, "the second run sent nothing");
});

Deno.test("activity: a reconcile refused halfway is logged as failed, with the writes that landed", async () => {
  const dest = new MemoryDestination("sogo");
  await using master = await testMaster({
    destinations: [configured(dest)],
    debounceMs: 3_600_000,
  });
  const token = await enrol(master, "pc1");
  await snapshot(master, token, [
    timed("a", "2026-03-02T09:00:00Z"),
    timed("b", "2026-03-03T09:00:00Z"),
  ], "2026-03-01T11:00:00Z");
  dest.failNext("create", new DestinationError("unauthorized", "HTTP 401"));
  const [report] = await master.sync.run();
  assert.notEqual(report.refused_until, null);
  const [entry] = await activity(master);
  assert.deepEqual(
    [entry.outcome, entry.created, entry.pending, dest.items.size],
    ["failed", 1, 1, 1],
  );
  assert.match(entry.error!, /refused calsync's credentials: HTTP 401/);
});

Deno.test("activity: a log that cannot be written is logged, and the reconcile's outcome stands", async () => {
  const dest = new MemoryDestination("wall");
  const store = storeWith(await SqliteStore.open(":memory:"), {
    recordActivity: () =>
      Promise.reject(new StorageFullError("sqlite", "database or disk is full")),
  });
  await using master = await testMaster({
    store,
    destinations: [configured(dest)],
    debounceMs: 3_600_000,
  });
  const token = await enrol(master, "pc1");
  await snapshot(master, token, [timed("a", "2026-03-02T09:00:00Z")], "2026-03-01T11:00:00Z");
  const [report] = await master.sync.run();
  assert.equal(report.created, 1);
  assert.equal(report.failed, 0);
  assert.equal(dest.items.size, 1);
  assert.ok(
    master.log.some((l) => /recording the activity of wall failed: .*storage is full/.test(l)),
    master.log.join("\n"),
  );
});

Deno.test("activity: a reconcile ended by full storage is logged with that error, and the run still fails", async () => {
  const dest = new MemoryDestination("wall");
  const sqlite = await SqliteStore.open(":memory:");
  const full = () => Promise.reject(new StorageFullError("sqlite", "database or disk is full"));
  let filled = false;
  const store = storeWith(sqlite, {
    saveDestinationEntry: (...a) => filled ? full() : sqlite.saveDestinationEntry(...a),
    saveDestinationState: (...a) => filled ? full() : sqlite.saveDestinationState(...a),
  });
  await using master = await testMaster({
    store,
    destinations: [configured(dest)],
    debounceMs: 3_600_000,
  });
  const token = await enrol(master, "pc1");
  await snapshot(master, token, [timed("a", "2026-03-02T09:00:00Z")], "2026-03-01T11:00:00Z");
  filled = true;
  await assert.rejects(master.sync.run(), StorageFullError);
  const [entry] = await activity(master);
  assert.equal(entry.outcome, "failed");
  assert.match(entry.error!, /storage is full or cannot be written \(database or disk is full\)/);
  assert.equal(entry.created, 0);
});

Deno.test("activity: bad queries are refused with the field to fix", async () => {
  await using master = await testMaster({
    destinations: [configured(new MemoryDestination("wall"))],
  });
  const refused = async (query: string, status: number, field: string, message: RegExp) => {
    const res = await master.call("GET", `/api/admin/activity?${query}`, { token: ADMIN_TOKEN });
    assert.equal(res.status, status, query);
    const { error } = await res.json();
    assert.equal(error.field, field, query);
    assert.match(error.message, message, query);
  };
  await refused("limit=0", 400, "limit", /whole number from 1 to 1000/);
  await refused("limit=1001", 400, "limit", /whole number from 1 to 1000/);
  await refused("limit=ten", 400, "limit", /whole number from 1 to 1000/);
  await refused("limit=2.5", 400, "limit", /whole number from 1 to 1000/);
  await refused("since=yesterday", 400, "since", /instant/);
  await refused("since=0001-01-01T00:00:00Z", 400, "since", /years 1900-2200/);
  await refused("destination=..", 400, "destination", /expected/);
  await refused("destination=nowhere", 404, "destination", /configured are: wall/);
  const anonymous = await master.call("GET", "/api/admin/activity");
  assert.equal(anonymous.status, 401);
  await anonymous.body?.cancel();
});
