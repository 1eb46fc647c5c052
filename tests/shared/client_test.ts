import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  CalendarArgumentError,
  CalendarClient,
  CalendarClientError,
  CalendarHttpError,
  CalendarNetworkError,
  CalendarResponseError,
  type FetchLike,
} from "../../shared/client.ts";
import type { StoredEvent } from "../../shared/protocol.ts";
import { eventOrder, liveMaster } from "../helpers/live_master.ts";
import { freePort } from "../helpers/master_process.ts";

const MARCH = ["2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z"] as const;

/** A throwaway HTTP server on a free loopback port answering with `handler`. */
function fakeServer(handler: (req: Request) => Response | Promise<Response>) {
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, handler);
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/** The error `promise` rejects with, failing the test if it resolves. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  assert.fail("expected the call to fail");
}

/** A `fetch` that records the URLs and headers it is called with and answers `body`. */
function recordingFetch(body: unknown = { events: [] }) {
  const calls: { url: string; headers: Headers }[] = [];
  const fetch: FetchLike = (url, init) => {
    calls.push({ url, headers: new Headers(init.headers) });
    return Promise.resolve(Response.json(body));
  };
  return { calls, fetch };
}

const sorted = (events: StoredEvent[]) => events.toSorted(eventOrder);

Deno.test("getEvents with a read token returns exactly the sent events, filtered", async () => {
  await using master = await liveMaster();
  const client = new CalendarClient(master.url, { token: master.readToken });

  const all = await client.getEvents(...MARCH);
  assert.deepEqual(sorted(all), master.sent);
  const starts = all.map((e) => Date.parse(e.start.length === 10 ? `${e.start}T00:00Z` : e.start));
  assert.deepEqual(starts, starts.toSorted((a, b) => a - b), "sorted by start");

  const pc1 = await client.getEvents(new Date(MARCH[0]), new Date(MARCH[1]), { agentId: "pc1" });
  assert.deepEqual(sorted(pc1), master.sent.filter((e) => e.agent_id === "pc1"));

  const main = await client.getEvents(...MARCH, { sourceId: "main" });
  assert.deepEqual(sorted(main), master.sent.filter((e) => e.source_id === "main"));

  const pc2Main = await client.getEvents(...MARCH, { agentId: "pc2", sourceId: "main" });
  assert.deepEqual(
    sorted(pc2Main),
    master.sent.filter((e) => e.agent_id === "pc2" && e.source_id === "main"),
  );
  assert.equal(pc2Main.length, 2);

  // Plain dates count from UTC midnight; the all-day event of 10-11 March overlaps the 11th.
  const eleventh = await client.getEvents("2026-03-11", "2026-03-12");
  assert.deepEqual(eleventh.map((e) => e.uid), ["holiday"]);
  const withOffset = await client.getEvents(
    "2026-03-02T10:00:00+01:00",
    "2026-03-02T10:15:00+01:00",
  );
  assert.deepEqual(sorted(withOffset).map((e) => `${e.agent_id}/${e.uid}`), [
    "pc1/standup",
    "pc2/standup",
  ]);
  assert.deepEqual(await client.getEvents(...MARCH, { agentId: "nobody" }), []);
});

Deno.test("getStatus and getAgents with the admin token", async () => {
  await using master = await liveMaster();
  const admin = new CalendarClient(master.url, { token: master.adminToken });

  const status = await admin.getStatus();
  assert.deepEqual(status.totals, { agents: 2, sources: 3, events: master.sent.length });
  assert.deepEqual(status.agents.map((a) => a.agent_id).toSorted(), ["pc1", "pc2"]);

  const agents = await admin.getAgents();
  assert.deepEqual(
    agents.map((a) => [a.agent_id, a.sources.map((s) => [s.source_id, s.event_count])]).toSorted(),
    [["pc1", [["main", 2], ["team", 1]]], ["pc2", [["main", 2]]]],
  );
  assert.equal(agents.find((a) => a.agent_id === "pc1")?.agent_name, "Agent pc1");

  // The admin token reads events too.
  assert.deepEqual(sorted(await admin.getEvents(...MARCH)), master.sent);
});

Deno.test("a read token on getStatus or getAgents is a 403 forbidden, a wrong token a 401", async () => {
  await using master = await liveMaster();
  const reader = new CalendarClient(master.url, { token: master.readToken });
  for (const call of [() => reader.getStatus(), () => reader.getAgents()]) {
    const err = await rejection(call());
    assert.ok(err instanceof CalendarHttpError, String(err));
    assert.ok(err instanceof CalendarClientError);
    assert.equal(err.status, 403);
    assert.equal(err.code, "forbidden");
    assert.equal(err.name, "CalendarHttpError");
    assert.equal(err.retryAfter, null);
  }

  const stranger = new CalendarClient(master.url, { token: "not-a-token-of-this-master" });
  for (const call of [() => stranger.getEvents(...MARCH), () => stranger.getStatus()]) {
    const err = await rejection(call());
    assert.ok(err instanceof CalendarHttpError, String(err));
    assert.equal(err.status, 401);
    assert.equal(err.code, "invalid_token");
    assert.equal(err.field, null);
    assert.doesNotMatch(err.message, /not-a-token/, "the token never appears in messages");
  }
});

Deno.test("baseUrl with a trailing slash or behind a reverse proxy at /calsync/", async () => {
  await using master = await liveMaster();
  await using proxy = fakeServer((req) => {
    const url = new URL(req.url);
    if (!url.pathname.startsWith("/calsync/")) return new Response("no such page", { status: 404 });
    const upstream = `${master.url}${url.pathname.slice("/calsync".length)}${url.search}`;
    return fetch(upstream, { headers: req.headers });
  });
  for (const base of [`${master.url}/`, `${proxy.url}/calsync`, `${proxy.url}/calsync/`]) {
    const client = new CalendarClient(base, { token: master.readToken });
    assert.deepEqual(sorted(await client.getEvents(...MARCH)), master.sent, base);
  }

  // Without the prefix the proxy answers its own 404 page, not calsync's error body.
  const wrong = new CalendarClient(proxy.url, { token: master.readToken });
  const err = await rejection(wrong.getEvents(...MARCH));
  assert.ok(err instanceof CalendarHttpError, String(err));
  assert.equal(err.status, 404);
  assert.equal(err.code, "http_error");
  assert.match(err.message, /no such page/);
});

Deno.test("an unreachable master is a CalendarNetworkError wrapping the cause", async () => {
  const url = `http://127.0.0.1:${freePort()}`;
  const err = await rejection(new CalendarClient(url, { token: "t" }).getEvents(...MARCH));
  assert.ok(err instanceof CalendarNetworkError, String(err));
  assert.ok(err instanceof CalendarClientError);
  assert.equal(err.timedOut, false);
  assert.ok(err.cause instanceof Error, "the cause is what fetch threw");
  assert.ok(err.url.startsWith(`${url}/api/events?start=`));
  assert.match(err.message, /could not reach/);
});

Deno.test("a master that does not answer within timeoutMs is a timed-out CalendarNetworkError", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })();
  try {
    const client = new CalendarClient(`http://127.0.0.1:${listener.addr.port}`, {
      token: "t",
      timeoutMs: 200,
    });
    const started = Date.now();
    const err = await rejection(client.getStatus());
    assert.ok(err instanceof CalendarNetworkError, String(err));
    assert.equal(err.timedOut, true);
    assert.match(err.message, /within 200 ms/);
    assert.ok(Date.now() - started < 5_000);
  } finally {
    listener.close();
    await accepting.catch(() => {});
    for (const conn of held) conn.close();
  }
});

Deno.test("a malformed or wrongly shaped answer is a CalendarResponseError naming the field", async () => {
  const answers: Record<string, () => Response> = {
    "/api/events": () => Response.json({ events: [{ uid: "x", start: "soon", end: "later" }] }),
    "/api/agents": () => Response.json({ agents: [{ agent_id: "pc1" }] }),
    "/api/sync/status": () => new Response('{"agents": [', { status: 200 }),
  };
  await using server = fakeServer((req) => answers[new URL(req.url).pathname]());
  const client = new CalendarClient(server.url, { token: "t" });

  const events = await rejection(client.getEvents(...MARCH));
  assert.ok(events instanceof CalendarResponseError, String(events));
  assert.ok(events instanceof CalendarClientError);
  assert.equal(events.field, "events[0].start");
  assert.match(events.message, /events\[0\]\.start: expected an ISO 8601 instant/);
  assert.equal(events.status, 200);

  const agents = await rejection(client.getAgents());
  assert.ok(agents instanceof CalendarResponseError, String(agents));
  assert.equal(agents.field, "agents[0].agent_name");

  const status = await rejection(client.getStatus());
  assert.ok(status instanceof CalendarResponseError, String(status));
  assert.equal(status.field, null);
  assert.match(status.message, /not JSON/);

  answers["/api/sync/status"] = () => Response.json({ agents: [], destinations: [] });
  const missing = await rejection(client.getStatus());
  assert.ok(missing instanceof CalendarResponseError, String(missing));
  assert.equal(missing.field, "totals");
});

Deno.test("an error answer carries code, field and Retry-After", async () => {
  await using server = fakeServer((req) =>
    new URL(req.url).pathname === "/api/events"
      ? Response.json(
        { error: { code: "invalid_field", message: "end: end must be after start", field: "end" } },
        { status: 400 },
      )
      : Response.json(
        { error: { code: "store_unavailable", message: "try again shortly", field: null } },
        { status: 503, headers: { "retry-after": "5" } },
      )
  );
  const client = new CalendarClient(server.url, { token: "t" });
  const bad = await rejection(client.getEvents(...MARCH));
  assert.ok(bad instanceof CalendarHttpError, String(bad));
  assert.deepEqual([bad.status, bad.code, bad.field, bad.message, bad.retryAfter], [
    400,
    "invalid_field",
    "end",
    "end: end must be after start",
    null,
  ]);
  const busy = await rejection(client.getAgents());
  assert.ok(busy instanceof CalendarHttpError, String(busy));
  assert.deepEqual([busy.status, busy.code, busy.retryAfter], [503, "store_unavailable", 5]);
});

Deno.test("bad arguments are refused before any request, naming the argument", async () => {
  const { calls, fetch } = recordingFetch();
  const client = new CalendarClient("https://calsync.example.com", { token: "t", fetch });
  const cases: [string, () => Promise<unknown>][] = [
    ["start", () => client.getEvents(new Date("nonsense"), MARCH[1])],
    ["start", () => client.getEvents("2026-02-30", MARCH[1])],
    ["start", () => client.getEvents("tomorrow", MARCH[1])],
    ["start", () => client.getEvents(1_700_000_000_000 as unknown as string, MARCH[1])],
    ["end", () => client.getEvents(MARCH[0], "2026-03-01T25:00:00Z")],
    ["end", () => client.getEvents(MARCH[0], MARCH[0])],
    ["end", () => client.getEvents(MARCH[1], MARCH[0])],
    ["end", () => client.getEvents(MARCH[0], new Date("+010000-01-01T00:00:00Z"))],
    ["agentId", () => client.getEvents(...MARCH, { agentId: "no spaces please" })],
    ["sourceId", () => client.getEvents(...MARCH, { sourceId: "" })],
  ];
  for (const [argument, call] of cases) {
    const err = await rejection(call());
    assert.ok(err instanceof CalendarArgumentError, String(err));
    assert.ok(err instanceof CalendarClientError);
    assert.equal(err.argument, argument, err.message);
    assert.match(err.message, new RegExp(`^${argument}\\b`));
  }
  assert.equal(calls.length, 0, "no request was sent");

  const construct: [string, () => unknown][] = [
    ["baseUrl", () => new CalendarClient("calsync.example.com", { token: "t" })],
    ["baseUrl", () => new CalendarClient("ftp://calsync.example.com", { token: "t" })],
    ["baseUrl", () => new CalendarClient("https://example.com/calsync?x=1", { token: "t" })],
    ["token", () => new CalendarClient("https://example.com", { token: "" })],
    ["token", () => new CalendarClient("https://example.com", { token: "abc\n" })],
    ["token", () => new CalendarClient("https://example.com", undefined as never)],
    ["timeoutMs", () => new CalendarClient("https://example.com", { token: "t", timeoutMs: 0 })],
    ["timeoutMs", () => new CalendarClient("https://example.com", { token: "t", timeoutMs: NaN })],
    ["fetch", () => new CalendarClient("https://example.com", { token: "t", fetch: 1 as never })],
  ];
  for (const [argument, make] of construct) {
    assert.throws(make, (err) => err instanceof CalendarArgumentError && err.argument === argument);
  }
});

Deno.test("the custom fetch gets the URL, the bearer token and a range widened to seconds", async () => {
  const { calls, fetch } = recordingFetch();
  const client = new CalendarClient("https://example.com/calsync/", { token: "read-1", fetch });
  await client.getEvents(
    new Date("2026-03-01T08:00:00.900Z"),
    new Date("2026-03-01T09:00:00.100Z"),
    { agentId: "pc1", sourceId: "main" },
  );
  assert.equal(
    calls[0].url,
    "https://example.com/calsync/api/events?start=2026-03-01T08%3A00%3A00Z" +
      "&end=2026-03-01T09%3A00%3A01Z&agent_id=pc1&source_id=main",
  );
  assert.equal(calls[0].headers.get("authorization"), "Bearer read-1");
  assert.equal(calls[0].headers.get("accept"), "application/json");
});

Deno.test("a cancelled call rejects with the signal's reason, not a client error", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })();
  try {
    const client = new CalendarClient(`http://127.0.0.1:${listener.addr.port}`, { token: "t" });
    const controller = new AbortController();
    const pending = rejection(client.getAgents({ signal: controller.signal }));
    setTimeout(() => controller.abort(), 50);
    const err = await pending;
    assert.ok(err instanceof DOMException && err.name === "AbortError", String(err));
    const already = await rejection(client.getStatus({ signal: AbortSignal.abort() }));
    assert.ok(already instanceof DOMException && already.name === "AbortError");
  } finally {
    listener.close();
    await accepting.catch(() => {});
    for (const conn of held) conn.close();
  }
});

Deno.test("the client module imports only zod and other shared/ modules free of Deno APIs", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", fileURLToPath(new URL("../../shared/client.ts", import.meta.url))],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const graph = JSON.parse(new TextDecoder().decode(out.stdout));
  const shared = new URL("../../shared/", import.meta.url).href;
  for (const module of graph.modules as { specifier: string; kind: string }[]) {
    if (module.kind === "npm") {
      assert.match(module.specifier, /^npm:\/?zod@/, module.specifier);
      continue;
    }
    assert.ok(module.specifier.startsWith(shared), `${module.specifier} is outside shared/`);
    const source = await Deno.readTextFile(new URL(module.specifier));
    assert.doesNotMatch(source, /\bDeno\./, `${module.specifier} uses a Deno API`);
  }
});
