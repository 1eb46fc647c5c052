/**
 * Hostile requests (issue 15): known crashes of a fuzz run as named cases, then a bounded,
 * seeded fuzz over every route and method the app has. Every answer must be below 500, no
 * stack reaches the log, and a refused request changes nothing a caller can observe.
 * `FUZZ_SEED=<n>` reruns one sequence; a failure prints its seed and request.
 */
import assert from "node:assert/strict";
import {
  ADMIN_TOKEN,
  enrol,
  ENROLLMENT_TOKEN,
  type TestMaster,
  testMaster,
  timed,
} from "../helpers/master_app.ts";

const SEED = Number(Deno.env.get("FUZZ_SEED") ?? "15");
const REQUESTS = 3000;
const WINDOW = { start: "2026-03-01T00:00:00Z", end: "2026-04-01T00:00:00Z" };

/** Mulberry32: a small PRNG whose sequence a seed fixes, so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A master with one agent, one source with an event, a read token and a page session. */
async function seeded() {
  // No debounced reconcile: the store changes only when a request changes it.
  const master = await testMaster({ debounceMs: 3_600_000 });
  const agentToken = await enrol(master, "pc1");
  await master.call("PUT", "/api/agents/pc1/sources/main/snapshot", {
    token: agentToken,
    body: {
      window: WINDOW,
      generated_at: "2026-03-01T11:00:00Z",
      events: [timed("a", "2026-03-02T09:00:00Z")],
    },
  });
  const read = await master.call("POST", "/api/admin/read-tokens", {
    token: ADMIN_TOKEN,
    body: { name: "Intranet" },
  });
  const readToken: string = (await read.json()).token;
  const session = await signIn(master);
  return { master, agentToken, readToken, session };
}

/** Signs in to the page; answers the session cookie and its forms' CSRF value. */
async function signIn(master: TestMaster): Promise<{ cookie: string; csrf: string }> {
  const res = await master.app.request("/login", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token: ADMIN_TOKEN }).toString(),
  });
  const cookie = res.headers.get("set-cookie")!.split(";")[0];
  const page = await (await master.app.request("/", { headers: { cookie } })).text();
  const csrf = /name="csrf" value="([0-9a-f]+)"/.exec(page)![1];
  return { cookie, csrf };
}

/** What an admin can observe of the store: a refused request must leave it as it was. */
async function observable(master: TestMaster): Promise<string> {
  const paths = [
    "/api/sync/status",
    "/api/agents",
    "/api/events?start=1900-01-01T00:00:00Z&end=2200-12-31T00:00:00Z",
    "/api/admin/feeds",
    "/api/admin/read-tokens",
  ];
  const bodies = await Promise.all(
    paths.map(async (p) => await (await master.call("GET", p, { token: ADMIN_TOKEN })).text()),
  );
  return bodies.join("\n");
}

/** Whether the log holds a stack trace, which a client's mistake must never cause. */
function stackIn(log: string[]): string | undefined {
  return log.find((l) => /\n\s+at /.test(l) || l.startsWith("error "));
}

Deno.test("hostile: a multipart or JSON sign-in is a 400 page, not a 500", async () => {
  await using master = await testMaster();
  const form = new FormData();
  form.set("token", ADMIN_TOKEN);
  for (
    const init of [
      { body: form },
      { body: "--x\r\nbroken", headers: { "content-type": "multipart/form-data; boundary=x" } },
      { body: '{"token": 1}', headers: { "content-type": "application/json" } },
    ]
  ) {
    const res = await master.app.request("/login", { method: "POST", ...init });
    assert.equal(res.status, 400);
    assert.match(res.headers.get("content-type")!, /text\/html/);
    assert.match(await res.text(), /application\/x-www-form-urlencoded/);
  }
  assert.equal(stackIn(master.log), undefined);
});

Deno.test("hostile: a form over 64 KB is a 413 page, even gzip-compressed", async () => {
  await using master = await testMaster();
  const big = new URLSearchParams({ token: "x".repeat(70_000) }).toString();
  const gzipped = await new Response(
    new Blob([big]).stream().pipeThrough(new CompressionStream("gzip")),
  ).arrayBuffer();
  for (
    const [body, extra] of [[big, {}], [gzipped, { "content-encoding": "gzip" }]] as const
  ) {
    const res = await master.app.request("/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", ...extra },
      body,
    });
    assert.equal(res.status, 413);
    assert.match(await res.text(), /larger than 0\.063 MB/);
  }
  assert.equal(stackIn(master.log), undefined);
});

Deno.test("hostile: a CSRF value with a non-ASCII character is a 403 that says why", async () => {
  await using master = await testMaster();
  const { cookie, csrf } = await signIn(master);
  for (const bad of [`${csrf.slice(0, 63)}é`, "ü".repeat(64), "", "\0".repeat(64)]) {
    const res = await master.app.request("/logout", {
      method: "POST",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrf: bad }).toString(),
    });
    assert.equal(res.status, 403, JSON.stringify(bad));
    assert.match(await res.text(), /not a value this master issues \(64 hex digits\)/);
  }
  const page = await master.app.request("/", { headers: { cookie } });
  assert.equal(page.status, 200, "the session was not ended");
  assert.equal(stackIn(master.log), undefined);
});

Deno.test("hostile: dates outside 1900-2200 are a 400 naming the field", async () => {
  await using master = await testMaster();
  const { cookie } = await signIn(master);
  for (const date of ["9999-12-31", "0000-01-01", "1899-12-31", "2201-01-01"]) {
    for (const view of ["week", "month"]) {
      const res = await master.app.request(`/?view=${view}&date=${date}`, { headers: { cookie } });
      assert.equal(res.status, 400, date);
      assert.match(await res.text(), /date: must lie in the years 1900-2200/);
    }
  }
  for (const date of ["1900-01-01", "2200-12-31"]) {
    const res = await master.app.request(`/?view=month&date=${date}`, { headers: { cookie } });
    assert.equal(res.status, 200, date);
  }
  for (
    const [start, end, field] of [
      ["9999-12-30T00:00:00Z", "9999-12-31T00:00:00Z", "start"],
      ["0000-01-01T00:00:00Z", "2026-01-01T00:00:00Z", "start"],
      ["2026-01-01T00:00:00Z", "9999-12-31T23:00:00-14:00", "end"],
    ]
  ) {
    const res = await master.call("GET", `/api/events?start=${start}&end=${end}`, {
      token: ADMIN_TOKEN,
    });
    assert.equal(res.status, 400);
    const { error } = await res.json();
    assert.deepEqual([error.code, error.field], ["invalid_field", field]);
    assert.match(error.message, /1900-2200/);
  }
});

Deno.test("hostile: an unknown page is an HTML 404", async () => {
  await using master = await testMaster();
  const { cookie } = await signIn(master);
  const res = await master.app.request("/ui/nothing/here", { headers: { cookie } });
  assert.equal(res.status, 404);
  assert.match(res.headers.get("content-type")!, /text\/html/);
});

/** A request the fuzzer sends, kept printable so a failure can be read and replayed. */
type Sent = { method: string; path: string; headers: Record<string, string>; body: string };

const HOSTILE_STRINGS = [
  "",
  " ",
  "\0",
  "a\0b",
  "é",
  "日本語",
  "\u{1F600}",
  "\uFFFF",
  "%00",
  "%ZZ",
  "../../etc/passwd",
  "<script>alert(1)</script>",
  "'; DROP TABLE events; --",
  "x".repeat(5000),
  "-1",
  "NaN",
  "Infinity",
  "1e309",
  "99999999999999999999999",
  "true",
  "null",
  "[]",
  "{}",
];
const HOSTILE_DATES = [
  "9999-12-31",
  "0000-01-01",
  "-1",
  "NaN",
  "2026-02-30",
  "2026-13-01",
  "+275760-09-13T00:00:00Z",
  "9999-12-31T23:59:59-14:00",
  "0000-01-01T00:00:00Z",
  "1899-12-31T23:59:59Z",
  "2026-03-01T00:00:00Z",
  "2026-04-01T00:00:00Z",
  "2026-03-02",
  "8640000000000000",
];
const QUERY_KEYS = [
  "start",
  "end",
  "date",
  "view",
  "tz",
  "full",
  "delete_strays",
  "agent_id",
  "source_id",
  "name",
  "done",
  "what",
];
const CONTENT_TYPES = [
  "application/json",
  "application/json; charset=utf-16",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=zzz",
  "multipart/form-data",
  "text/plain",
  "application/octet-stream",
  "text/calendar",
  "",
  "\u00e9/\u00e9",
];

function fuzzer(seed: number, tokens: { agent: string; read: string; csrf: string }) {
  const random = prng(seed);
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)];
  const chance = (p: number) => random() < p;

  const text = (): string =>
    chance(0.3) ? pick(HOSTILE_DATES) : chance(0.7) ? pick(HOSTILE_STRINGS) : "pc1";

  /** A JSON value of random shape: wrong types, long strings, deep nesting. */
  const value = (depth: number): unknown => {
    const kind = int(depth > 3 ? 5 : 8);
    switch (kind) {
      case 0:
        return text();
      case 1:
        return pick([0, -1, 1.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2]);
      case 2:
        return pick([true, false]);
      case 3:
        return null;
      case 4:
        return pick(HOSTILE_DATES);
      case 5:
        return Array.from({ length: int(4) }, () => value(depth + 1));
      default:
        return Object.fromEntries(
          Array.from(
            { length: int(5) },
            () => [pick([...QUERY_KEYS, "events", "sources", "window"]), value(depth + 1)],
          ),
        );
    }
  };

  /** A body the routes expect, with one field made hostile, to get past the first checks. */
  const nearlyValid = (): unknown => {
    const templates: Record<string, unknown>[] = [
      {
        agent_id: "pc1",
        agent_name: "Agent",
        environment: "test",
        version: "1.0.0",
        sources: [{ source_id: "main", name: "Main", type: "ics" }],
      },
      {
        window: { ...WINDOW },
        generated_at: "2026-03-01T11:30:00Z",
        events: [timed("b", "2026-03-03T09:00:00Z")],
      },
      { sources: [{ source_id: "main", last_error: null }] },
      { name: "Wall" },
    ];
    const body = structuredClone(pick(templates));
    const keys = Object.keys(body);
    const key = pick(keys);
    body[key] = chance(0.5) ? value(1) : pick(HOSTILE_DATES);
    if (key !== "window" && "window" in body && chance(0.5)) {
      body.window = { start: pick(HOSTILE_DATES), end: pick(HOSTILE_DATES) };
    }
    return body;
  };

  const deep = (n: number) => "[".repeat(n) + "]".repeat(n);

  const body = (): { body: string; type?: string } => {
    switch (int(11)) {
      case 0:
        return { body: "" };
      case 1:
        return { body: pick(['{"a":', "[", "nul", "{'a': 1}", "\uFEFF{}", "{}\0", '"\\ud800"']) };
      case 2:
        return { body: JSON.stringify(value(0)), type: "application/json" };
      case 3:
        return { body: JSON.stringify(nearlyValid()), type: "application/json" };
      case 4:
        return { body: JSON.stringify({ name: "x".repeat(100_000 + int(1000)) }) };
      case 5:
        return { body: deep(chance(0.5) ? 10_000 : 100), type: "application/json" };
      case 6:
        return {
          body:
            `--zzz\r\nContent-Disposition: form-data; name="${pick(["token", "csrf", "name"])}"` +
            `\r\n\r\n${text()}\r\n${chance(0.5) ? "--zzz--\r\n" : ""}`,
          type: "multipart/form-data; boundary=zzz",
        };
      case 7: {
        const form = new URLSearchParams();
        if (chance(0.6)) form.set("csrf", chance(0.5) ? tokens.csrf : text());
        for (const k of ["token", "name"]) if (chance(0.5)) form.set(k, text());
        return { body: form.toString(), type: "application/x-www-form-urlencoded" };
      }
      case 8:
        return { body: "%" + pick(["C3", "FF", "E2%82"]) + "=%" + pick(["28", "00", "ZZ"]) };
      case 9:
        return { body: "x".repeat(chance(0.1) ? 1_100_000 : 70_000), type: pick(CONTENT_TYPES) };
      default:
        return { body: text() };
    }
  };

  const authorization = (): string | null => {
    switch (int(10)) {
      case 0:
        return null;
      case 1:
        return pick(["Bearer", "Bearer ", "Basic YWRtaW46YWRtaW4=", "Bearer a b", "bearer\t\0"]);
      case 2:
        return `Bearer ${text().replace(/\s/g, "") || "x"}`;
      case 3:
        return `Bearer ${ENROLLMENT_TOKEN}`;
      case 4:
      case 5:
        return `Bearer ${ADMIN_TOKEN}`;
      case 6:
      case 7:
        return `Bearer ${tokens.agent}`;
      default:
        return `Bearer ${tokens.read}`;
    }
  };

  const segment = () =>
    chance(0.6) ? pick(["pc1", "main", "nobody", "memory"]) : encodeURIComponent(text()) || "x";

  /** A request to `route` (a Hono path such as `/api/agents/:agent_id/heartbeat`). */
  return (route: { method: string; path: string }, session: { cookie: string }): Sent => {
    const method = chance(0.8)
      ? route.method
      : pick(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]);
    let path = route.path.replace(/:[a-z_]+(\{[^}]*\})?/g, segment).replace(/\*$/, segment());
    const query = new URLSearchParams();
    for (let i = int(4); i > 0; i--) {
      const key = pick(QUERY_KEYS);
      query.append(key, chance(0.5) ? pick(HOSTILE_DATES) : text());
    }
    if (query.size > 0) path += `?${query}`;
    const headers: Record<string, string> = {};
    const auth = authorization();
    if (auth !== null) headers.authorization = auth;
    if (chance(0.4)) headers.cookie = session.cookie;
    if (chance(0.1)) headers.cookie = `calsync_session=${text()}`;
    const sent = method === "GET" || method === "HEAD" ? { body: "" } : body();
    if (sent.type !== undefined || chance(0.3)) {
      headers["content-type"] = chance(0.8) && sent.type ? sent.type : pick(CONTENT_TYPES);
    }
    if (chance(0.1)) headers["content-encoding"] = pick(["gzip", "br", "identity", "x-nope"]);
    if (chance(0.05)) headers["content-length"] = pick(["-1", "abc", "99999999999"]);
    if (chance(0.1)) headers.accept = pick(["text/html", "application/json", "*/*"]);
    if (chance(0.05)) headers["x-forwarded-for"] = text();
    // HTTP carries header values as bytes: non-ASCII arrives as its UTF-8 bytes, and NUL,
    // CR and LF cannot arrive at all.
    for (const [k, v] of Object.entries(headers)) {
      headers[k] = String.fromCharCode(...new TextEncoder().encode(v)).replace(/[\0\r\n]/g, "");
    }
    return { method, path, headers, body: sent.body };
  };
}

/** The routes of the app, by method, so that a route added later is fuzzed too. */
function routesOf(master: TestMaster): { method: string; path: string }[] {
  const seen = new Map<string, { method: string; path: string }>();
  for (const r of master.app.routes) {
    const method = r.method === "ALL" ? "POST" : r.method;
    seen.set(`${method} ${r.path}`, { method, path: r.path });
  }
  return [...seen.values()].sort((a, b) =>
    `${a.method} ${a.path}` < `${b.method} ${b.path}` ? -1 : 1
  );
}

Deno.test(`fuzz: ${REQUESTS} hostile requests, none a 5xx, none that is refused changes data`, async () => {
  const { master, agentToken, readToken, session } = await seeded();
  await using _ = master;
  const routes = routesOf(master);
  assert.ok(routes.length >= 30, `found only ${routes.length} routes`);
  const tokens = { agent: agentToken, read: readToken, csrf: session.csrf };
  let login = session;
  const next = fuzzer(SEED, tokens);
  const pick = prng(SEED ^ 0x5eed);
  let before = await observable(master);
  let refused = 0;
  for (let i = 0; i < REQUESTS; i++) {
    const sent = next(routes[Math.floor(pick() * routes.length)], login);
    const replay = `seed ${SEED}, request ${i}: ${
      JSON.stringify({ ...sent, body: sent.body.slice(0, 300) })
    }`;
    let res: Response;
    try {
      res = await master.app.request(sent.path, {
        method: sent.method,
        headers: sent.headers,
        body: sent.method === "GET" || sent.method === "HEAD" ? undefined : sent.body,
      }, { remoteAddr: { hostname: "192.0.2.10" } });
    } catch (err) {
      assert.fail(`${replay}\nthrew ${err}`);
    }
    await res.body?.cancel();
    assert.ok(res.status < 500, `${replay}\nanswered ${res.status}`);
    const stack = stackIn(master.log);
    assert.equal(stack, undefined, `${replay}\nlogged ${stack}`);
    const after = await observable(master);
    if (res.status >= 400) {
      refused++;
      assert.equal(after, before, `${replay}\nwas refused with ${res.status} but changed data`);
    }
    before = after;
    if (res.status >= 400 || sent.method === "GET") continue;
    // An accepted request may have ended the session or removed the agent: start them
    // again, so that the rest of the run still gets past the token checks.
    const signedIn = await master.app.request("/login", { headers: { cookie: login.cookie } });
    if (signedIn.status !== 303) {
      login = await signIn(master);
      tokens.csrf = login.csrf;
    }
    if (!(await master.store.getAgent("pc1"))) tokens.agent = await enrol(master, "pc1");
    before = await observable(master);
  }
  assert.ok(refused > REQUESTS / 2, `only ${refused} of ${REQUESTS} requests were refused`);
  console.log(
    `fuzz: seed ${SEED}, ${REQUESTS} requests over ${routes.length} routes, ${refused} refused`,
  );
});
