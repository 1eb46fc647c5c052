import assert from "node:assert/strict";
import { join } from "node:path";
import { Snapshot } from "../../shared/protocol.ts";
import { Backoff } from "../../agent/backoff.ts";
import { parseConfig } from "../../agent/config.ts";
import type { FetchLike } from "../../agent/http.ts";
import {
  masterBaseUrl,
  MasterClient,
  MasterError,
  MasterUnreachableError,
} from "../../agent/master_client.ts";
import { AgentSession, RegistrationError } from "../../agent/session.ts";
import { readState, writeState } from "../../agent/state.ts";
import { FakeMaster } from "./fake_master.ts";
import { configObject, memoryLogger, occurrence, recordingSleep, tempDir } from "./helpers.ts";

const SOURCES = [
  { type: "ics", name: "Team", url: "https://example.test/team.ics" },
  { type: "ics", name: "Rooms", url: "https://example.test/rooms.ics" },
];

function setup(master: FakeMaster, dir: string, overrides: Record<string, unknown> = {}) {
  const config = parseConfig(
    JSON.stringify(configObject({ calendar_sources: SOURCES, ...overrides })),
    "test.json",
  );
  const { log, lines } = memoryLogger();
  const { sleep, waits } = recordingSleep();
  const client = new MasterClient({
    centralApiUrl: config.central_api_url,
    fetch: master.fetch,
    sleep,
    backoff: () => new Backoff({ random: () => 1 }),
    log,
  });
  const statePath = join(dir, "calendar_agent_state.json");
  const open = () => AgentSession.open({ config, client, statePath, log });
  return { config, client, statePath, open, lines, waits };
}

function snapshot(): Snapshot {
  return Snapshot.parse({
    window: { start: "2026-03-01T00:00:00Z", end: "2026-06-01T00:00:00Z" },
    generated_at: "2026-03-29T08:00:00Z",
    events: [occurrence("a@x", "2026-03-30T08:00:00Z", "2026-03-30T09:00:00Z")],
  });
}

Deno.test("master client: the base URL drops a trailing slash and /api", () => {
  assert.equal(masterBaseUrl("http://m:8008/api/"), "http://m:8008");
  assert.equal(masterBaseUrl("http://m:8008/api"), "http://m:8008");
  assert.equal(masterBaseUrl("https://h/calsync/api"), "https://h/calsync");
  assert.equal(masterBaseUrl("https://h/"), "https://h");
  assert.equal(masterBaseUrl("https://h/apis"), "https://h/apis");
});

Deno.test("session: first registration uses the enrollment token and saves the agent's own", async () => {
  await using dir = await tempDir();
  const master = new FakeMaster();
  const { open, statePath, lines } = setup(master, dir.path);
  const session = await open();
  await session.ensureRegistered();
  const [request] = master.requestsTo(/register/);
  assert.equal(request.authorization, `Bearer ${master.enrollmentToken}`);
  assert.deepEqual(request.body, {
    agent_id: "office-pc",
    agent_name: "Office PC",
    environment: "test",
    version: "0.1.0",
    sources: [
      { source_id: "team", name: "Team", type: "ics" },
      { source_id: "rooms", name: "Rooms", type: "ics" },
    ],
  });
  const state = await readState(statePath);
  assert.equal(state.token, master.agents.get("office-pc")?.token);
  assert.equal(state.agent_id, "office-pc");
  await session.ensureRegistered();
  assert.equal(master.requestsTo(/register/).length, 1, "an unchanged registration is not resent");
  assert.ok(lines.every((l) => !l.includes(state.token!) && !l.includes(master.enrollmentToken)));
});

Deno.test("session: re-registration uses the agent's own token", async () => {
  await using dir = await tempDir();
  const master = new FakeMaster();
  await (await setup(master, dir.path).open()).ensureRegistered();
  const token = master.agents.get("office-pc")!.token;
  // A new agent_name changes the registration, so the next pass sends it again.
  const later = setup(master, dir.path, { agent_name: "Front desk PC" });
  await (await later.open()).ensureRegistered();
  const requests = master.requestsTo(/register/);
  assert.equal(requests.length, 2);
  assert.equal(requests[1].authorization, `Bearer ${token}`);
  assert.equal((await readState(later.statePath)).token, token);
});

Deno.test("session: agent_exists explains the admin reset", async () => {
  await using dir = await tempDir();
  const master = new FakeMaster();
  master.agents.set("office-pc", { token: "someone-elses", sources: new Set() });
  const session = await setup(master, dir.path).open();
  const error = await session.ensureRegistered().catch((e) => e);
  assert.ok(error instanceof RegistrationError);
  assert.match(error.message, /agent_id "office-pc" is already registered at the master/);
  assert.match(error.message, /does not hold its token/);
  assert.match(error.message, /POST \/api\/admin\/agents\/office-pc\/reset/);
});

Deno.test("session: a rejected own token falls back to the enrollment token once", async () => {
  await using dir = await tempDir();
  const master = new FakeMaster();
  const { open, statePath, lines } = setup(master, dir.path);
  await (await open()).ensureRegistered();
  const oldToken = master.agents.get("office-pc")!.token;
  master.reset("office-pc");
  await writeState(statePath, { ...(await readState(statePath)), registration_hash: "stale" });
  await (await open()).ensureRegistered();
  const auth = master.requestsTo(/register/).map((r) => r.authorization);
  assert.deepEqual(auth, [
    `Bearer ${master.enrollmentToken}`,
    `Bearer ${oldToken}`,
    `Bearer ${master.enrollmentToken}`,
  ]);
  const newToken = (await readState(statePath)).token;
  assert.notEqual(newToken, oldToken);
  assert.equal(newToken, master.agents.get("office-pc")!.token);
  assert.ok(lines.some((l) => l.includes("rejected this agent's token (HTTP 401)")));
});

Deno.test("session: without a token or enrollment token the error says what to add", async () => {
  await using dir = await tempDir();
  const master = new FakeMaster();
  const session = await setup(master, dir.path, { enrollment_token: undefined }).open();
  await assert.rejects(session.ensureRegistered(), {
    name: "RegistrationError",
    message: /agent "office-pc" has no token yet; add "enrollment_token"/,
  });
  assert.equal(master.requests.length, 0);
  const wrong = await setup(master, dir.path, { enrollment_token: "wrong-token" }).open();
  await assert.rejects(wrong.ensureRegistered(), {
    message: /the master rejected enrollment_token \(HTTP 401\)/,
  });
});

Deno.test("session: an unknown_source answer re-registers and retries once", async () => {
  await using dir = await tempDir();
  const master = new FakeMaster();
  const session = await setup(master, dir.path).open();
  await session.ensureRegistered();
  master.agents.get("office-pc")!.sources.clear();
  const result = await session.uploadSnapshot("team", snapshot(), "hash-1");
  assert.deepEqual(result, { added: 1, updated: 0, removed: 0, unchanged: 0 });
  assert.deepEqual(master.requests.map((r) => `${r.method} ${r.path}`), [
    "POST /api/agents/register",
    "PUT /api/agents/office-pc/sources/team/snapshot",
    "POST /api/agents/register",
    "PUT /api/agents/office-pc/sources/team/snapshot",
  ]);
  assert.equal(session.acceptedHash("team"), "hash-1");
});

Deno.test("session: a snapshot rejected with 401 re-registers with enrollment and retries", async () => {
  await using dir = await tempDir();
  const master = new FakeMaster();
  const session = await setup(master, dir.path).open();
  await session.ensureRegistered();
  master.reset("office-pc");
  await session.uploadSnapshot("team", snapshot(), "hash-1");
  assert.equal(master.snapshots.get("office-pc/team")?.events.length, 1);
  assert.equal(master.requestsTo(/register/).length, 3);
});

Deno.test("master client: the snapshot travels gzip-compressed and decodes to a valid Snapshot", async () => {
  await using dir = await tempDir();
  const master = new FakeMaster();
  const session = await setup(master, dir.path).open();
  await session.uploadSnapshot("team", snapshot(), "h");
  const [put] = master.requestsTo(/snapshot$/);
  assert.equal(put.contentEncoding, "gzip");
  assert.equal(put.authorization, `Bearer ${master.agents.get("office-pc")!.token}`);
  const decoded = Snapshot.parse(put.body);
  assert.deepEqual(decoded, snapshot());
});

Deno.test("master client: 503 with Retry-After waits as told, then succeeds", async () => {
  await using dir = await tempDir();
  const master = new FakeMaster();
  const { client, waits, lines } = setup(master, dir.path);
  master.override("GET", /^\/health$/, () =>
    Response.json(
      { error: { code: "overloaded", message: "busy", field: null } },
      { status: 503, headers: { "retry-after": "7" } },
    ));
  master.override("GET", /^\/health$/, () => new Response("", { status: 429 }));
  const health = await client.health();
  assert.equal(health.status, "ok");
  assert.deepEqual(waits, [7_000, 1_000], "Retry-After first, then the backoff");
  assert.equal(master.requestsTo(/health/).length, 3);
  assert.ok(lines.some((l) => l.includes("HTTP 503 overloaded: busy; retrying in 7.0 s")));
});

Deno.test("master client: an unreachable master is given up after the attempts, clearly", async () => {
  const { sleep, waits } = recordingSleep();
  let calls = 0;
  const refused: FetchLike = () => {
    calls++;
    return Promise.reject(new TypeError("error sending request: Connection refused"));
  };
  const client = new MasterClient({
    centralApiUrl: "http://master.test:8008/api",
    fetch: refused,
    attempts: 3,
    sleep,
    backoff: () => new Backoff({ random: () => 1 }),
  });
  const error = await client.health().catch((e) => e);
  assert.ok(error instanceof MasterUnreachableError);
  assert.equal(
    error.message,
    "master not reachable: GET http://master.test:8008/health: error sending request: " +
      "Connection refused (gave up after 3 attempts)",
  );
  assert.equal(calls, 3);
  assert.deepEqual(waits, [1_000, 2_000]);
});

Deno.test("master client: a stop signal ends retrying at once", async () => {
  const stop = new AbortController();
  stop.abort();
  let calls = 0;
  const client = new MasterClient({
    centralApiUrl: "http://master.test",
    fetch: () => {
      calls++;
      return Promise.resolve(new Response("", { status: 502 }));
    },
    stop: stop.signal,
  });
  await assert.rejects(client.health(), MasterUnreachableError);
  assert.equal(calls, 1);
});

Deno.test("master client: a 400 names the field and is not retried", async () => {
  await using dir = await tempDir();
  const master = new FakeMaster();
  const { client, waits } = setup(master, dir.path);
  master.override("PUT", /snapshot$/, () =>
    Response.json(
      { error: { code: "invalid", message: "expected an instant", field: "events.0.start" } },
      { status: 400 },
    ));
  const error = await client.putSnapshot("office-pc", "team", snapshot(), "t").catch((e) => e);
  assert.ok(error instanceof MasterError);
  assert.equal(error.status, 400);
  assert.equal(error.field, "events.0.start");
  assert.equal(
    error.message,
    "PUT http://master.test/api/agents/office-pc/sources/team/snapshot: HTTP 400 invalid: " +
      "expected an instant (field events.0.start)",
  );
  assert.equal(master.requests.length, 1);
  assert.deepEqual(waits, []);
});

Deno.test("master client: a non-JSON 404 hints at central_api_url", async () => {
  const client = new MasterClient({
    centralApiUrl: "http://wrong.test",
    fetch: () => Promise.resolve(new Response("<html><h1>Not Found</h1></html>", { status: 404 })),
  });
  await assert.rejects(client.health(), {
    name: "MasterError",
    message: "GET http://wrong.test/health: HTTP 404 http_404: Not Found; is central_api_url " +
      "the master's address?",
  });
});

Deno.test("master client: a slow master times out and counts as unreachable", async () => {
  const never: FetchLike = (request) =>
    new Promise((_, reject) => {
      request.signal.addEventListener("abort", () => reject(request.signal.reason));
    });
  const client = new MasterClient({
    centralApiUrl: "http://slow.test",
    fetch: never,
    attempts: 1,
    timeoutMs: 20,
  });
  await assert.rejects(client.health(), {
    name: "MasterUnreachableError",
    message: /GET http:\/\/slow\.test\/health: no answer within 0.02 s \(gave up after 1 attempt\)/,
  });
});
