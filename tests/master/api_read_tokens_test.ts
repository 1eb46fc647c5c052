import assert from "node:assert/strict";
import { ReadTokenCreated, ReadTokenList } from "../../shared/protocol.ts";
import { ADMIN_TOKEN, enrol, type TestMaster, testMaster, timed } from "../helpers/master_app.ts";

const EVENTS = "/api/events?start=2026-03-01T00:00:00Z&end=2026-04-01T00:00:00Z";

async function withEvent(): Promise<TestMaster> {
  const master = await testMaster();
  const token = await enrol(master, "pc1");
  await master.call("PUT", "/api/agents/pc1/sources/main/snapshot", {
    token,
    body: {
      window: { start: "2026-03-01T00:00:00Z", end: "2026-04-01T00:00:00Z" },
      generated_at: "2026-03-01T11:00:00Z",
      events: [timed("a", "2026-03-02T09:00:00Z")],
    },
  });
  return master;
}

async function create(master: TestMaster, name: string): Promise<ReadTokenCreated> {
  const res = await master.call("POST", "/api/admin/read-tokens", {
    token: ADMIN_TOKEN,
    body: { name },
  });
  assert.equal(res.status, 201);
  return ReadTokenCreated.parse(await res.json());
}

Deno.test("read tokens: created once, listed without the secret, revoked", async () => {
  await using master = await testMaster();
  const first = await create(master, "Intranet");
  assert.equal(first.name, "Intranet");
  assert.equal(first.created_at, "2026-03-01T12:00:00Z");
  assert.ok(first.token.length >= 32);
  const second = await create(master, "Wall display");
  const listed = await master.call("GET", "/api/admin/read-tokens", { token: ADMIN_TOKEN });
  const body = await listed.json();
  assert.deepEqual(ReadTokenList.parse(body).tokens.map((t) => t.name).sort(), [
    "Intranet",
    "Wall display",
  ]);
  assert.ok(!JSON.stringify(body).includes(first.token), "a token is shown once");
  const revoke = (id: string) =>
    master.call("DELETE", `/api/admin/read-tokens/${id}`, { token: ADMIN_TOKEN });
  assert.equal((await revoke(first.token_id)).status, 204);
  const again = await revoke(first.token_id);
  assert.equal(again.status, 404);
  const { error } = await again.json();
  assert.deepEqual([error.code, error.field], ["unknown_token", "token_id"]);
  const left = await master.call("GET", "/api/admin/read-tokens", { token: ADMIN_TOKEN });
  assert.deepEqual(ReadTokenList.parse(await left.json()).tokens, [
    { token_id: second.token_id, name: "Wall display", created_at: second.created_at },
  ]);
  assert.ok(!master.log.some((l) => l.includes(first.token)), "the secret is never logged");
});

Deno.test("read tokens: a name of 1-256 characters is required", async () => {
  await using master = await testMaster();
  for (const body of [{}, { name: "" }, { name: "x".repeat(257) }]) {
    const res = await master.call("POST", "/api/admin/read-tokens", { token: ADMIN_TOKEN, body });
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.equal((await res.json()).error.field, "name");
  }
});

Deno.test("a read token reads events and nothing else", async () => {
  await using master = await withEvent();
  const { token, token_id } = await create(master, "Intranet");
  const read = await master.call("GET", EVENTS, { token });
  assert.equal(read.status, 200);
  assert.deepEqual((await read.json()).events.map((e: { uid: string }) => e.uid), ["a"]);
  const denied: [string, string][] = [
    ["GET", "/api/sync/status"],
    ["GET", "/api/agents"],
    ["GET", "/api/admin/read-tokens"],
    ["POST", "/api/admin/read-tokens"],
    ["GET", "/api/admin/feeds"],
    ["POST", "/api/admin/reconcile"],
    ["POST", "/api/admin/agents/pc1/reset"],
    ["DELETE", "/api/admin/agents/pc1"],
    ["DELETE", `/api/admin/read-tokens/${token_id}`],
    // Routes that check other tokens themselves: a read token is still a 403, not a 401.
    ["POST", "/api/agents/register"],
    ["PUT", "/api/agents/pc1/sources/main/snapshot"],
    ["POST", "/api/agents/pc1/heartbeat"],
    ["GET", "/metrics"],
  ];
  for (const [method, path] of denied) {
    const body = method === "GET" || method === "DELETE" ? undefined : { name: "x" };
    const res = await master.call(method, path, { token, body });
    assert.equal(res.status, 403, `${method} ${path}`);
    assert.equal(res.headers.get("www-authenticate"), null, `${method} ${path}: no challenge`);
    const { error } = await res.json();
    assert.equal(error.code, "forbidden");
    assert.match(error.message, /a read token may read only GET \/api\/events; this route needs/);
  }
  assert.notEqual(await master.store.getAgent("pc1"), null, "nothing was removed");
});

Deno.test("a revoked or wrong read token gets 401", async () => {
  await using master = await withEvent();
  const { token, token_id } = await create(master, "Intranet");
  await master.call("DELETE", `/api/admin/read-tokens/${token_id}`, { token: ADMIN_TOKEN });
  for (const t of [token, "not-a-token"]) {
    for (const path of [EVENTS, "/api/sync/status"]) {
      const res = await master.call("GET", path, { token: t });
      assert.equal(res.status, 401, path);
      assert.equal((await res.json()).error.code, "invalid_token");
    }
  }
});

Deno.test("a feed token is no read token", async () => {
  await using master = await withEvent();
  const res = await master.call("POST", "/api/admin/feeds", {
    token: ADMIN_TOKEN,
    body: { name: "Wall" },
  });
  const { token } = await res.json();
  assert.equal((await master.call("GET", EVENTS, { token })).status, 401);
  assert.equal((await master.call("GET", `/feeds/${token}.ics`)).status, 200);
});
