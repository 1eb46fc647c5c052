import assert from "node:assert/strict";
import { AgentList, Health, SyncStatus } from "../../shared/protocol.ts";
import { ADMIN_TOKEN, enrol, testMaster, timed } from "../helpers/master_app.ts";

async function seed() {
  const master = await testMaster();
  const token = await enrol(master, "pc1", ["main", "team"]);
  const put = (source: string, events: unknown[]) =>
    master.call("PUT", `/api/agents/pc1/sources/${source}/snapshot`, {
      token,
      body: {
        window: { start: "2026-03-01T00:00:00Z", end: "2026-04-01T00:00:00Z" },
        generated_at: "2026-03-01T12:00:00Z",
        events,
      },
    });
  await put("main", [
    timed("late", "2026-03-20T09:00:00Z"),
    timed("early", "2026-03-02T09:00:00Z"),
  ]);
  await put("team", [{ uid: "day", all_day: true, start: "2026-03-10", end: "2026-03-11" }]);
  return { master, token };
}

Deno.test("health answers without authentication", async () => {
  await using master = await testMaster();
  const res = await master.call("GET", "/health");
  assert.equal(res.status, 200);
  const health = Health.parse(await res.json());
  assert.equal(health.status, "ok");
  assert.equal(health.uptime_s, 3600);
  assert.deepEqual(health.store, { backend: "sqlite", ok: true });
});

Deno.test("health is 503 when the store is unusable", async () => {
  const master = await testMaster();
  await master.store.close();
  const res = await master.call("GET", "/health");
  assert.equal(res.status, 503);
  const health = Health.parse(await res.json());
  assert.equal(health.status, "error");
  assert.equal(health.store.ok, false);
});

Deno.test("events: sorted by start, filtered by range, agent and source", async () => {
  const { master } = await seed();
  await using _ = master;
  const all = await master.call(
    "GET",
    "/api/events?start=2026-03-01T00:00:00Z&end=2026-04-01T00:00:00Z",
    {
      token: ADMIN_TOKEN,
    },
  );
  assert.equal(all.status, 200);
  const { events } = await all.json();
  assert.deepEqual(events.map((e: { uid: string; source_id: string }) => [e.uid, e.source_id]), [
    ["early", "main"],
    ["day", "team"],
    ["late", "main"],
  ]);
  assert.equal(events[1].all_day, true);
  assert.equal(events[1].start, "2026-03-10");
  const team = await master.call(
    "GET",
    "/api/events?start=2026-03-01T00:00:00Z&end=2026-04-01T00:00:00Z&agent_id=pc1&source_id=team",
    { token: ADMIN_TOKEN },
  );
  assert.deepEqual((await team.json()).events.map((e: { uid: string }) => e.uid), ["day"]);
  const offset = await master.call(
    "GET",
    `/api/events?start=${encodeURIComponent("2026-03-10T01:00:00+02:00")}&end=2026-03-15T00:00:00Z`,
    { token: ADMIN_TOKEN },
  );
  assert.deepEqual((await offset.json()).events.map((e: { uid: string }) => e.uid), ["day"]);
});

Deno.test("events: bad queries name the parameter", async () => {
  await using master = await testMaster();
  const cases: [string, string, RegExp][] = [
    ["/api/events?end=2026-04-01T00:00:00Z", "start", /required/],
    ["/api/events?start=yesterday&end=2026-04-01T00:00:00Z", "start", /ISO 8601 instant/],
    ["/api/events?start=2026-04-01T00:00:00Z&end=2026-03-01T00:00:00Z", "end", /after start/],
    [
      "/api/events?start=2026-03-01T00:00:00Z&end=2026-04-01T00:00:00Z&agent_id=a%20b",
      "agent_id",
      /letters, digits/,
    ],
  ];
  for (const [path, field, message] of cases) {
    const res = await master.call("GET", path, { token: ADMIN_TOKEN });
    assert.equal(res.status, 400, path);
    const { error } = await res.json();
    assert.equal(error.field, field, path);
    assert.match(error.message, message, path);
  }
});

Deno.test("admin routes need the admin token, not an agent token", async () => {
  const { master, token } = await seed();
  await using _ = master;
  for (
    const path of [
      "/api/sync/status",
      "/api/agents",
      "/api/events?start=2026-03-01T00:00:00Z&end=2026-04-01T00:00:00Z",
    ]
  ) {
    assert.equal((await master.call("GET", path)).status, 401);
    assert.equal((await master.call("GET", path, { token })).status, 401);
  }
  const reset = await master.call("POST", "/api/admin/agents/pc1/reset", { token });
  assert.equal(reset.status, 401);
  assert.notEqual((await master.store.getAgent("pc1"))?.token_hash, null);
});

Deno.test("agents: the same agents as the sync status", async () => {
  const { master } = await seed();
  await using _ = master;
  const res = await master.call("GET", "/api/agents", { token: ADMIN_TOKEN });
  assert.equal(res.status, 200);
  const { agents } = AgentList.parse(await res.json());
  const status = await master.call("GET", "/api/sync/status", { token: ADMIN_TOKEN });
  assert.deepEqual(agents, SyncStatus.parse(await status.json()).agents);
  assert.deepEqual(agents[0].sources.map((s) => [s.source_id, s.event_count]), [
    ["main", 2],
    ["team", 1],
  ]);
});

Deno.test("resetting an unknown agent is 404", async () => {
  await using master = await testMaster();
  const res = await master.call("POST", "/api/admin/agents/ghost/reset", { token: ADMIN_TOKEN });
  assert.equal(res.status, 404);
  assert.equal((await res.json()).error.code, "unknown_agent");
});

Deno.test("unknown routes answer JSON 404", async () => {
  await using master = await testMaster();
  const res = await master.call("GET", "/nope");
  assert.equal(res.status, 404);
  assert.equal((await res.json()).error.code, "not_found");
});

Deno.test("CORS_ORIGINS opens the read APIs, not the agent API", async () => {
  await using master = await testMaster();
  const origin = { origin: "https://app.example.com" };
  const read = await master.app.request("/health", { headers: origin });
  assert.equal(read.headers.get("access-control-allow-origin"), "https://app.example.com");
  const other = await master.app.request("/health", {
    headers: { origin: "https://evil.example" },
  });
  assert.equal(other.headers.get("access-control-allow-origin"), null);
  const agentApi = await master.app.request("/api/agents/register", {
    method: "POST",
    headers: origin,
  });
  assert.equal(agentApi.headers.get("access-control-allow-origin"), null);
  for (const path of ["/api/admin/reconcile", "/api/admin/feeds", "/metrics", "/"]) {
    const res = await master.app.request(path, { method: "OPTIONS", headers: origin });
    assert.equal(res.headers.get("access-control-allow-origin"), null, path);
  }
  const preflight = await master.app.request("/api/events", {
    method: "OPTIONS",
    headers: {
      ...origin,
      "access-control-request-method": "GET",
      "access-control-request-headers": "authorization",
    },
  });
  assert.equal(preflight.status, 204);
  assert.match(preflight.headers.get("access-control-allow-headers") ?? "", /authorization/i);
  const events = await master.app.request("/api/agents", { headers: origin });
  assert.equal(events.headers.get("access-control-allow-origin"), "https://app.example.com");
  assert.match(events.headers.get("access-control-expose-headers") ?? "", /retry-after/i);
});

Deno.test("a store that is down answers 503 with Retry-After, not 500", async () => {
  const master = await testMaster();
  const token = await enrol(master, "pc1");
  await master.store.close();
  const res = await master.call("PUT", "/api/agents/pc1/sources/main/snapshot", {
    token,
    body: {
      window: { start: "2026-03-01T00:00:00Z", end: "2026-04-01T00:00:00Z" },
      generated_at: "2026-03-01T12:00:00Z",
      events: [],
    },
  });
  assert.equal(res.status, 503);
  assert.equal(res.headers.get("retry-after"), "5");
  assert.equal((await res.json()).error.code, "store_unavailable");
});
