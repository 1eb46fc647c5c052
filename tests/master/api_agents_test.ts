import assert from "node:assert/strict";
import { SyncStatus } from "../../shared/protocol.ts";
import {
  ADMIN_TOKEN,
  enrol,
  ENROLLMENT_TOKEN,
  type TestMaster,
  testMaster,
  timed,
} from "../helpers/master_app.ts";

const WINDOW = { start: "2026-03-01T00:00:00Z", end: "2026-04-01T00:00:00Z" };
const SNAPSHOT_PATH = "/api/agents/pc1/sources/main/snapshot";

function snapshotBody(events: unknown[], generated_at = "2026-03-01T12:00:00Z") {
  return { window: WINDOW, generated_at, events };
}

async function errorOf(res: Response) {
  return (await res.json()).error as { code: string; message: string; field: string | null };
}

/** Everything the store holds for pc1, to prove a rejected request changed nothing. */
async function storedState(master: TestMaster) {
  return {
    totals: await master.store.totals(),
    events: await master.store.listEvents({
      start: "2000-01-01T00:00:00Z",
      end: "2100-01-01T00:00:00Z",
    }),
    agent: await master.store.getAgent("pc1"),
  };
}

Deno.test("registration: enrol with the enrollment token, then re-register with the own token", async () => {
  await using master = await testMaster();
  const token = await enrol(master, "pc1");
  assert.match(token, /^[A-Za-z0-9_-]{43}$/);
  const again = await master.call("POST", "/api/agents/register", {
    token,
    body: { agent_id: "pc1", agent_name: "Renamed PC", sources: [] },
  });
  assert.equal(again.status, 200);
  assert.deepEqual(await again.json(), {
    agent_id: "pc1",
    token,
    sources: [{ source_id: "main", last_generated_at: null }],
  });
  await master.call("PUT", SNAPSHOT_PATH, { token, body: snapshotBody([]) });
  const after = await master.call("POST", "/api/agents/register", {
    token,
    body: { agent_id: "pc1", agent_name: "Renamed PC", sources: [] },
  });
  assert.deepEqual(
    (await after.json()).sources,
    [{ source_id: "main", last_generated_at: "2026-03-01T12:00:00Z" }],
    "the master says which snapshot it holds",
  );
  assert.equal((await master.store.getAgent("pc1"))?.agent_name, "Renamed PC");
});

Deno.test("registration: an existing agent id needs its token or an admin reset", async () => {
  await using master = await testMaster();
  const oldToken = await enrol(master, "pc1");
  const taken = await master.call("POST", "/api/agents/register", {
    token: ENROLLMENT_TOKEN,
    body: { agent_id: "pc1", agent_name: "Impostor" },
  });
  assert.equal(taken.status, 409);
  const err = await errorOf(taken);
  assert.equal(err.code, "agent_exists");
  assert.equal(err.field, "agent_id");
  assert.match(err.message, /POST \/api\/admin\/agents\/pc1\/reset/);
  assert.equal((await master.store.getAgent("pc1"))?.agent_name, "Agent pc1");

  const reset = await master.call("POST", "/api/admin/agents/pc1/reset", { token: ADMIN_TOKEN });
  assert.deepEqual(await reset.json(), { agent_id: "pc1", reset: true });
  const newToken = await enrol(master, "pc1");
  assert.notEqual(newToken, oldToken);
  const withOld = await master.call("POST", "/api/agents/pc1/heartbeat", {
    token: oldToken,
    body: {},
  });
  assert.equal(withOld.status, 401);
});

Deno.test("registration: wrong or missing tokens are 401, another agent's token is 403", async () => {
  await using master = await testMaster();
  const other = await enrol(master, "pc2");
  const body = { agent_id: "pc1", agent_name: "PC 1" };
  const none = await master.call("POST", "/api/agents/register", { body });
  assert.equal(none.status, 401);
  assert.equal((await errorOf(none)).code, "missing_token");
  assert.equal(none.headers.get("www-authenticate"), 'Bearer realm="calsync"');
  const wrong = await master.call("POST", "/api/agents/register", { token: "x".repeat(40), body });
  assert.equal(wrong.status, 401);
  assert.equal((await errorOf(wrong)).code, "invalid_token");
  const foreign = await master.call("POST", "/api/agents/register", { token: other, body });
  assert.equal(foreign.status, 403);
  assert.equal(await master.store.getAgent("pc1"), null);
});

Deno.test("registration: invalid fields name the path", async () => {
  await using master = await testMaster();
  const res = await master.call("POST", "/api/agents/register", {
    token: ENROLLMENT_TOKEN,
    body: {
      agent_id: "pc1",
      agent_name: "PC",
      sources: [{ source_id: "a", name: "A", type: "ics" }, {
        source_id: "a",
        name: "B",
        type: "ics",
      }],
    },
  });
  assert.equal(res.status, 400);
  const err = await errorOf(res);
  assert.equal(err.field, "sources[1].source_id");
  assert.match(err.message, /appears twice/);
  const badId = await master.call("POST", "/api/agents/register", {
    token: ENROLLMENT_TOKEN,
    body: { agent_id: "../etc", agent_name: "PC" },
  });
  assert.equal((await errorOf(badId)).field, "agent_id");
});

Deno.test("snapshot: applied with counts, and resending it changes nothing", async () => {
  await using master = await testMaster();
  const token = await enrol(master, "pc1");
  const events = [
    timed("a", "2026-03-02T09:00:00Z"),
    timed("b", "2026-03-03T09:00:00Z"),
    { uid: "c", all_day: true, start: "2026-03-04", end: "2026-03-05", title: "Holiday" },
  ];
  const first = await master.call("PUT", SNAPSHOT_PATH, { token, body: snapshotBody(events) });
  assert.equal(first.status, 200);
  assert.deepEqual(await first.json(), { added: 3, updated: 0, removed: 0, unchanged: 0 });
  const again = await master.call("PUT", SNAPSHOT_PATH, { token, body: snapshotBody(events) });
  assert.deepEqual(await again.json(), { added: 0, updated: 0, removed: 0, unchanged: 3 });
  const edited = [{ ...events[0], title: "Changed" }, events[2]];
  // An hour later on the master's clock too: a generated_at ahead of it is clock_skew.
  master.clock.now = new Date("2026-03-01T13:00:00Z");
  const third = await master.call("PUT", SNAPSHOT_PATH, {
    token,
    body: snapshotBody(edited, "2026-03-01T13:00:00Z"),
  });
  assert.deepEqual(await third.json(), { added: 0, updated: 1, removed: 1, unchanged: 1 });
});

Deno.test("snapshot: a gzip-compressed body is accepted", async () => {
  await using master = await testMaster();
  const token = await enrol(master, "pc1");
  const json = JSON.stringify(snapshotBody([timed("a", "2026-03-02T09:00:00Z")]));
  const gz = await new Response(
    new Blob([json]).stream().pipeThrough(new CompressionStream("gzip")),
  ).arrayBuffer();
  const res = await master.app.request(SNAPSHOT_PATH, {
    method: "PUT",
    headers: { authorization: `Bearer ${token}`, "content-encoding": "gzip" },
    body: gz,
  });
  assert.equal(res.status, 200);
  assert.equal((await res.json()).added, 1);
});

const BAD_SNAPSHOTS: [string, unknown, number, string, string | null, RegExp][] = [
  ["malformed JSON", '{"window": {', 400, "malformed_json", null, /not valid JSON/],
  [
    "a wrong type",
    snapshotBody([timed("a", "2026-03-02T09:00:00Z", 60, { title: 42 })]),
    400,
    "invalid_field",
    "events[0].title",
    /expected string/,
  ],
  [
    "an invalid date",
    snapshotBody([{ uid: "a", start: "2026-02-30T09:00:00Z", end: "2026-03-02T10:00:00Z" }]),
    400,
    "invalid_field",
    "events[0].start",
    /ISO 8601 instant/,
  ],
  [
    "end before start",
    snapshotBody([{ uid: "a", start: "2026-03-02T10:00:00Z", end: "2026-03-02T09:00:00Z" }]),
    400,
    "invalid_field",
    "events[0].end",
    /end must not be before start/,
  ],
  [
    "a window that ends before it starts",
    { window: { start: WINDOW.end, end: WINDOW.start }, generated_at: WINDOW.start, events: [] },
    400,
    "invalid_field",
    "window.end",
    /end must be after start/,
  ],
  [
    "an all-day event with instants",
    snapshotBody([{
      uid: "a",
      all_day: true,
      start: "2026-03-02T00:00:00Z",
      end: "2026-03-03T00:00:00Z",
    }]),
    400,
    "invalid_field",
    "events[0].start",
    /all-day event needs start as a date/,
  ],
  [
    "an event outside the window",
    snapshotBody([timed("a", "2026-05-02T09:00:00Z")]),
    400,
    "invalid_field",
    "events[0].start",
    /outside the snapshot window/,
  ],
  [
    "a duplicate occurrence",
    snapshotBody([timed("a", "2026-03-02T09:00:00Z"), timed("a", "2026-03-03T09:00:00Z")]),
    400,
    "invalid_field",
    "events[1].uid",
    /same uid and recurrence_id as events\[0\]/,
  ],
  [
    "a missing field",
    { window: WINDOW, events: [] },
    400,
    "invalid_field",
    "generated_at",
    /required/,
  ],
];

for (const [what, body, status, code, field, message] of BAD_SNAPSHOTS) {
  Deno.test(`snapshot: ${what} is rejected and changes nothing`, async () => {
    await using master = await testMaster();
    const token = await enrol(master, "pc1");
    await master.call("PUT", SNAPSHOT_PATH, {
      token,
      body: snapshotBody([timed("keep", "2026-03-05T09:00:00Z")]),
    });
    const before = await storedState(master);
    const res = await master.call("PUT", SNAPSHOT_PATH, { token, body });
    assert.equal(res.status, status);
    const err = await errorOf(res);
    assert.equal(err.code, code);
    assert.equal(err.field, field);
    assert.match(err.message, message);
    assert.deepEqual(await storedState(master), before);
  });
}

Deno.test("snapshot: auth failures and another agent's source change nothing", async () => {
  await using master = await testMaster();
  const token = await enrol(master, "pc1");
  const intruder = await enrol(master, "pc2");
  await master.call("PUT", SNAPSHOT_PATH, {
    token,
    body: snapshotBody([timed("keep", "2026-03-05T09:00:00Z")]),
  });
  const before = await storedState(master);
  const body = snapshotBody([]);
  const cases: [string | undefined, number, string][] = [
    [undefined, 401, "missing_token"],
    ["not-a-real-token-at-all", 401, "invalid_token"],
    [ADMIN_TOKEN, 401, "invalid_token"],
    [intruder, 403, "forbidden"],
  ];
  for (const [tok, status, code] of cases) {
    const res = await master.call("PUT", SNAPSHOT_PATH, { token: tok, body });
    assert.equal(res.status, status, `token ${tok}`);
    assert.equal((await errorOf(res)).code, code);
  }
  assert.deepEqual(await storedState(master), before);
});

Deno.test("snapshot: an oversized body is 413, plain or gzip-compressed", async () => {
  await using master = await testMaster({ maxBodyBytes: 4096 });
  const token = await enrol(master, "pc1");
  const events = Array.from(
    { length: 100 },
    (_, i) => timed(`e${i}`, "2026-03-02T09:00:00Z", 60, { description: "x".repeat(100) }),
  );
  const plain = await master.call("PUT", SNAPSHOT_PATH, { token, body: snapshotBody(events) });
  assert.equal(plain.status, 413);
  const err = await errorOf(plain);
  assert.equal(err.code, "body_too_large");
  assert.match(err.message, /MAX_BODY_MB/);
  const gz = await new Response(
    new Blob([JSON.stringify(snapshotBody(events))]).stream().pipeThrough(
      new CompressionStream("gzip"),
    ),
  ).arrayBuffer();
  assert.ok(gz.byteLength < 4096, "the compressed body itself fits");
  const bomb = await master.app.request(SNAPSHOT_PATH, {
    method: "PUT",
    headers: { authorization: `Bearer ${token}`, "content-encoding": "gzip" },
    body: gz,
  });
  assert.equal(bomb.status, 413);
  assert.equal((await master.store.totals()).events, 0);
});

Deno.test("snapshot: bad encodings are refused", async () => {
  await using master = await testMaster();
  const token = await enrol(master, "pc1");
  const notGzip = await master.app.request(SNAPSHOT_PATH, {
    method: "PUT",
    headers: { authorization: `Bearer ${token}`, "content-encoding": "gzip" },
    body: "plain text",
  });
  assert.equal(notGzip.status, 400);
  assert.equal((await errorOf(notGzip)).code, "malformed_gzip");
  const brotli = await master.app.request(SNAPSHOT_PATH, {
    method: "PUT",
    headers: { authorization: `Bearer ${token}`, "content-encoding": "br" },
    body: "x",
  });
  assert.equal(brotli.status, 415);
});

Deno.test("snapshot: an unregistered source is 404 and an older snapshot is 409", async () => {
  await using master = await testMaster();
  const token = await enrol(master, "pc1");
  const unknown = await master.call("PUT", "/api/agents/pc1/sources/nope/snapshot", {
    token,
    body: snapshotBody([]),
  });
  assert.equal(unknown.status, 404);
  assert.deepEqual(await errorOf(unknown), {
    code: "unknown_source",
    field: "source_id",
    message:
      "source 'nope' is not registered for agent 'pc1'; the agent declares its sources when it registers",
  });
  await master.call("PUT", SNAPSHOT_PATH, {
    token,
    body: snapshotBody([], "2026-03-01T12:00:00Z"),
  });
  const stale = await master.call("PUT", SNAPSHOT_PATH, {
    token,
    body: snapshotBody([], "2026-03-01T11:59:00Z"),
  });
  assert.equal(stale.status, 409);
  assert.equal((await errorOf(stale)).code, "stale_snapshot");
});

Deno.test("heartbeat and status: online agents, counts and per-source errors", async () => {
  await using master = await testMaster();
  const token = await enrol(master, "pc1", ["main", "team"]);
  await master.call("PUT", SNAPSHOT_PATH, {
    token,
    body: snapshotBody([timed("a", "2026-03-02T09:00:00Z"), timed("b", "2026-03-02T11:00:00Z")]),
  });
  const hb = await master.call("POST", "/api/agents/pc1/heartbeat", {
    token,
    body: {
      version: "1.2.3",
      sync_interval_minutes: 5,
      sources: [{ source_id: "team", last_error: "HTTP 404 from https://example.com/team.ics" }],
    },
  });
  assert.equal(hb.status, 200);
  const status = SyncStatus.parse(
    await (await master.call("GET", "/api/sync/status", { token: ADMIN_TOKEN })).json(),
  );
  assert.deepEqual(status.totals, { agents: 1, sources: 2, events: 2 });
  assert.deepEqual(status.destinations, []);
  const [agent] = status.agents;
  assert.equal(agent.online, true);
  assert.equal(agent.version, "1.2.3");
  assert.equal(agent.last_seen, "2026-03-01T12:00:00Z");
  assert.deepEqual(
    agent.sources.map((s) => [s.source_id, s.event_count, s.last_snapshot_at, s.last_error]),
    [
      ["main", 2, "2026-03-01T12:00:00Z", null],
      ["team", 0, null, "HTTP 404 from https://example.com/team.ics"],
    ],
  );
  master.clock.now = new Date("2026-03-01T12:12:00Z");
  const later = SyncStatus.parse(
    await (await master.call("GET", "/api/sync/status", { token: ADMIN_TOKEN })).json(),
  );
  assert.equal(later.agents[0].online, false, "offline after two missed intervals plus a minute");
});

Deno.test("heartbeat: wrong types name the field", async () => {
  await using master = await testMaster();
  const token = await enrol(master, "pc1");
  const res = await master.call("POST", "/api/agents/pc1/heartbeat", {
    token,
    body: { sources: [{ source_id: "main", last_error: 5 }] },
  });
  assert.equal(res.status, 400);
  assert.equal((await errorOf(res)).field, "sources[0].last_error");
  assert.equal((await master.store.getAgent("pc1"))?.last_seen, null);
});

Deno.test("the request log names method, path and status but never a token", async () => {
  await using master = await testMaster();
  const token = await enrol(master, "pc1");
  await master.call("POST", "/api/agents/pc1/heartbeat", { token, body: {} });
  assert.ok(
    master.log.some((l) => /^info POST \/api\/agents\/pc1\/heartbeat 200 \d+\.\dms$/.test(l)),
  );
  assert.ok(!master.log.join("\n").includes(token));
  assert.ok(!master.log.join("\n").includes(ENROLLMENT_TOKEN));
});

Deno.test("snapshot: events already held skip re-validation but not the snapshot checks", async () => {
  await using master = await testMaster();
  const token = await enrol(master, "pc1");
  const first = await master.call("PUT", SNAPSHOT_PATH, {
    token,
    body: snapshotBody([timed("a", "2026-03-02T09:00:00Z"), timed("b", "2026-03-03T09:00:00Z")]),
  });
  assert.equal(first.status, 200);
  const [held] = (await master.store.listEvents(WINDOW)).map(
    ({ agent_id: _a, source_id: _s, ...occurrence }) => occurrence,
  );
  const before = await storedState(master);

  const duplicated = await master.call("PUT", SNAPSHOT_PATH, {
    token,
    body: snapshotBody([held, held]),
  });
  assert.equal(duplicated.status, 400);
  assert.equal((await errorOf(duplicated)).field, "events[1].uid");

  const outside = await master.call("PUT", SNAPSHOT_PATH, {
    token,
    body: {
      window: { start: "2026-03-10T00:00:00Z", end: "2026-04-01T00:00:00Z" },
      generated_at: "2026-03-01T12:00:00Z",
      events: [held],
    },
  });
  assert.equal((await errorOf(outside)).field, "events[0].start");

  const changedBad = await master.call("PUT", SNAPSHOT_PATH, {
    token,
    body: snapshotBody([held, { ...held, uid: "c", show_as: "away" }]),
  });
  assert.equal(changedBad.status, 400);
  assert.equal((await errorOf(changedBad)).field, "events[1].show_as");
  assert.deepEqual(await storedState(master), before);

  const resend = await master.call("PUT", SNAPSHOT_PATH, { token, body: snapshotBody([held]) });
  assert.deepEqual(await resend.json(), { added: 0, updated: 0, removed: 1, unchanged: 1 });
});
