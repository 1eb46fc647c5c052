import assert from "node:assert/strict";
import { MemoryDestination } from "../../master/destinations/memory.ts";
import { configured } from "../../master/destinations/mod.ts";
import { DestinationError } from "../../master/destinations/types.ts";
import { ADMIN_TOKEN, enrol, type TestMaster, testMaster, timed } from "../helpers/master_app.ts";

const WINDOW = { start: "2026-03-01T00:00:00Z", end: "2026-04-01T00:00:00Z" };

/** A browser of one address: keeps the session cookie and posts forms as browsers do. */
class Browser {
  cookie = "";
  constructor(readonly master: TestMaster, readonly address = "192.0.2.10") {}

  async request(method: string, path: string, form?: Record<string, string>) {
    const headers: Record<string, string> = { accept: "text/html" };
    if (this.cookie) headers.cookie = this.cookie;
    let body: string | undefined;
    if (form) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams(form).toString();
    }
    const res = await this.master.app.request(path, { method, headers, body }, {
      remoteAddr: { hostname: this.address },
    });
    const set = res.headers.get("set-cookie");
    if (set) {
      const [pair] = set.split(";");
      this.cookie = /=$/.test(pair) || /Max-Age=0/i.test(set) ? "" : pair;
    }
    return res;
  }

  get = (path: string) => this.request("GET", path);
  post = (path: string, form: Record<string, string> = {}) => this.request("POST", path, form);

  async signIn(token = ADMIN_TOKEN) {
    return await this.post("/login", { token });
  }

  /** The CSRF token of the forms of the page at `path`. */
  async csrf(path = "/"): Promise<string> {
    const html = await (await this.get(path)).text();
    const match = /name="csrf" value="([0-9a-f]+)"/.exec(html);
    assert.ok(match, `no CSRF field on ${path}`);
    return match[1];
  }

  /** Opens an action's confirmation page and submits its form, as a user clicking would. */
  async confirm(path: string): Promise<Response> {
    const page = await this.get(path);
    assert.equal(page.status, 200, `confirmation page ${path}`);
    const html = await page.text();
    const action = path.replace(/\?.*$/, "");
    const form = html.split("<form ").find((f) => f.startsWith(`method="post" action="${action}"`));
    assert.ok(form, `no form posting to ${action}`);
    const fields = Object.fromEntries(
      [...form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((
        m,
      ) => [m[1], m[2].replaceAll("&amp;", "&").replaceAll("&quot;", '"')]),
    );
    return await this.post(action, fields);
  }
}

async function withAgent(master: TestMaster) {
  const token = await enrol(master, "pc1", ["main", "team"]);
  for (const [source, uid, day] of [["main", "m", 2], ["team", "t", 3]] as const) {
    const res = await master.call("PUT", `/api/agents/pc1/sources/${source}/snapshot`, {
      token,
      body: {
        window: WINDOW,
        generated_at: "2026-03-01T11:00:00Z",
        events: [timed(uid, `2026-03-0${day}T09:00:00Z`, 90, { title: `Meeting ${uid}` })],
      },
    });
    assert.equal(res.status, 200);
  }
  await master.call("POST", "/api/agents/pc1/heartbeat", { token, body: {} });
  return token;
}

Deno.test("the page asks for sign-in, and refuses a wrong admin token", async () => {
  await using master = await testMaster();
  const browser = new Browser(master);
  const home = await browser.get("/");
  assert.equal(home.status, 303);
  assert.equal(home.headers.get("location"), "/login");

  const form = await browser.get("/login");
  assert.equal(form.status, 200);
  assert.match(await form.text(), /<input type="password" name="token"/);

  const wrong = await browser.signIn("not-the-admin-token-at-all");
  assert.equal(wrong.status, 401);
  assert.match(await wrong.text(), /That is not the admin token/);
  assert.equal(browser.cookie, "");
  assert.equal((await browser.get("/")).status, 303);
});

Deno.test("signing in sets an HttpOnly SameSite=Strict cookie; signing out ends the session", async () => {
  await using master = await testMaster();
  const browser = new Browser(master);
  const res = await browser.signIn();
  assert.equal(res.status, 303);
  assert.equal(res.headers.get("location"), "/");
  const cookie = res.headers.get("set-cookie")!;
  assert.match(cookie, /^calsync_session=[^;]+; /);
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Strict/);
  assert.doesNotMatch(cookie, /Secure/, "plain HTTP cannot keep a Secure cookie");

  assert.equal((await browser.get("/")).status, 200);
  const stolen = browser.cookie;
  const out = await browser.post("/logout", { csrf: await browser.csrf() });
  assert.equal(out.status, 303);
  assert.equal(out.headers.get("location"), "/login");

  // The session is over in the store too, not only in this browser.
  browser.cookie = stolen;
  assert.equal((await browser.get("/")).status, 303);
});

Deno.test("the session cookie is Secure over HTTPS and expires after SESSION_HOURS", async () => {
  await using master = await testMaster();
  const res = await master.app.request("https://calsync.example/login", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: `token=${ADMIN_TOKEN}`,
  });
  assert.match(res.headers.get("set-cookie")!, /Secure/);

  const browser = new Browser(master);
  await browser.signIn();
  assert.equal((await browser.get("/")).status, 200);
  master.clock.now = new Date(master.clock.now.getTime() + 12 * 3_600_000 + 1000);
  assert.equal((await browser.get("/")).status, 303);
});

Deno.test("the dashboard shows agents, sources, destinations and the calendar", async () => {
  const dest = new MemoryDestination("wall");
  await using master = await testMaster({ destinations: [configured(dest)] });
  await withAgent(master);
  await master.sync.run();
  const browser = new Browser(master);
  await browser.signIn();
  const res = await browser.get("/?view=week&date=2026-03-02&tz=Europe/Berlin");
  assert.equal(res.status, 200);
  const html = await res.text();
  assert.doesNotMatch(html, /<script/i, "the page works without JavaScript");
  assert.match(
    html,
    /<meta http-equiv="refresh" content="30; url=\/\?view=week&amp;date=2026-03-02/,
  );
  assert.match(html, /Agent pc1/);
  assert.match(html, /class="ok">online/);
  assert.match(html, /Source main/);
  assert.match(html, /data-destination="wall"/);
  assert.match(html, /2 March – 8 Mar 2026|2 Mar – 8 Mar 2026/);
  assert.match(html, /\(Europe\/Berlin\)/);
  // 09:00Z is 10:00 in Berlin in March.
  assert.match(html, /10:00 Meeting m/);
  assert.match(html, /10:00 Meeting t/);
  assert.match(html, /pc1 \/ main/);
  assert.match(html, /store: <b>2<\/b> occurrences, <b>\d+\.\d kB<\/b> \(database file\)/);
});

Deno.test("a form without the session's CSRF token changes nothing", async () => {
  await using master = await testMaster();
  const agentToken = await withAgent(master);
  const browser = new Browser(master);
  await browser.signIn();
  const forged = await browser.post("/ui/agents/pc1/reset", { csrf: "0".repeat(64) });
  assert.equal(forged.status, 403);
  assert.match(await forged.text(), /Form expired/);
  const missing = await browser.post("/ui/agents/pc1/remove");
  assert.equal(missing.status, 403);
  const heartbeat = await master.call("POST", "/api/agents/pc1/heartbeat", {
    token: agentToken,
    body: {},
  });
  assert.equal(heartbeat.status, 200, "the agent still works");
});

Deno.test("resetting an agent from the page revokes its token", async () => {
  await using master = await testMaster();
  const agentToken = await withAgent(master);
  const browser = new Browser(master);
  await browser.signIn();
  const res = await browser.confirm("/ui/agents/pc1/reset");
  assert.equal(res.status, 303);
  const notice = await (await browser.get(res.headers.get("location")!)).text();
  assert.match(notice, /Agent “pc1” was reset/);
  const heartbeat = await master.call("POST", "/api/agents/pc1/heartbeat", {
    token: agentToken,
    body: {},
  });
  assert.equal(heartbeat.status, 401);
});

Deno.test("removing a source from the page takes its items out of the destination", async () => {
  const dest = new MemoryDestination("wall");
  await using master = await testMaster({ destinations: [configured(dest)] });
  await withAgent(master);
  await master.sync.run();
  assert.equal(dest.items.size, 2);
  const browser = new Browser(master);
  await browser.signIn();
  const confirmation = await (await browser.get("/ui/agents/pc1/sources/team/remove")).text();
  assert.match(confirmation, /Its 1 events are deleted/);
  const res = await browser.confirm("/ui/agents/pc1/sources/team/remove");
  assert.equal(res.status, 303);
  await master.sync.run();
  assert.deepEqual([...dest.items.values()].map((i) => i.title), ["Meeting m"]);

  await browser.confirm("/ui/agents/pc1/remove");
  await master.sync.run();
  assert.equal(dest.items.size, 0);
  assert.equal((await master.store.listAgents()).length, 0);
});

Deno.test("an action on something unknown answers a 404 page", async () => {
  await using master = await testMaster();
  const browser = new Browser(master);
  await browser.signIn();
  const res = await browser.get("/ui/agents/ghost/remove");
  assert.equal(res.status, 404);
  assert.match(await res.text(), /No agent “ghost” is registered/);
});

Deno.test("a feed created on the page works once shown, and stops when revoked", async () => {
  await using master = await testMaster();
  await withAgent(master);
  const browser = new Browser(master);
  await browser.signIn();
  const created = await browser.confirm("/ui/feeds/new?name=Front%20desk");
  assert.equal(created.status, 201);
  assert.equal(created.headers.get("cache-control"), "no-store");
  const url = /<code class="secret" id="secret">([^<]+)<\/code>/.exec(await created.text())![1];
  assert.match(url, /^http:\/\/localhost\/feeds\/[^/]+\.ics$/);
  const path = new URL(url).pathname;
  const feed = await master.app.request(path);
  assert.equal(feed.status, 200);
  assert.match(await feed.text(), /SUMMARY:Meeting m/);

  const dashboard = await (await browser.get("/")).text();
  const id = /href="\/ui\/feeds\/([^/]+)\/revoke"/.exec(dashboard)![1];
  assert.doesNotMatch(dashboard, new RegExp(path.slice(7, 30)), "the token is shown only once");
  assert.equal((await browser.confirm(`/ui/feeds/${id}/revoke`)).status, 303);
  assert.equal((await master.app.request(path)).status, 404);
});

Deno.test("a read token created on the page reads events and nothing else", async () => {
  await using master = await testMaster();
  await withAgent(master);
  const browser = new Browser(master);
  await browser.signIn();
  const created = await browser.confirm("/ui/read-tokens/new?name=Intranet");
  const token = /id="secret">([^<]+)</.exec(await created.text())![1];
  const events = await master.call(
    "GET",
    `/api/events?start=${WINDOW.start}&end=${WINDOW.end}`,
    { token },
  );
  assert.equal(events.status, 200);
  assert.equal((await events.json()).events.length, 2);
  assert.equal((await master.call("GET", "/api/sync/status", { token })).status, 403);
});

Deno.test("reconcile now runs every destination and says what it did", async () => {
  const dest = new MemoryDestination("wall");
  await using master = await testMaster({ destinations: [configured(dest)] });
  await withAgent(master);
  const browser = new Browser(master);
  await browser.signIn();
  const res = await browser.confirm("/ui/reconcile");
  assert.equal(dest.items.size, 2);
  const page = await (await browser.get(res.headers.get("location")!)).text();
  assert.match(page, /Reconcile finished: wall: 2 created, 0 updated, 0 deleted/);
});

Deno.test("deleting strays from the page removes only calsync's items no source holds", async () => {
  const dest = new MemoryDestination("wall");
  await using master = await testMaster({ destinations: [configured(dest)] });
  await withAgent(master);
  await master.sync.run();
  // Forgetting what was written turns the items of a removed source into strays.
  const team = (await master.store.destinationEntries("wall")).find((e) =>
    dest.items.get(e.href)?.title === "Meeting t"
  )!;
  await master.store.deleteDestinationEntry("wall", team.key);
  await master.store.removeSource("pc1", "team");
  const [kept] = await master.sync.run(true);
  assert.equal(kept.strays, 1);
  assert.equal(dest.items.size, 2);

  const browser = new Browser(master);
  await browser.signIn();
  const res = await browser.confirm("/ui/strays");
  const page = await (await browser.get(res.headers.get("location")!)).text();
  assert.match(page, /wall: 0 created, 0 updated, 1 deleted/);
  assert.deepEqual([...dest.items.values()].map((i) => i.title), ["Meeting m"]);
});

Deno.test("repeated failed sign-ins from one address are answered 429 with Retry-After", async () => {
  await using master = await testMaster({ authFailureLimit: 3 });
  const guesser = new Browser(master, "198.51.100.7");
  for (let i = 0; i < 3; i++) assert.equal((await guesser.signIn(`wrong-token-${i}`)).status, 401);
  const blocked = await guesser.signIn();
  assert.equal(blocked.status, 429, "even the right token waits: the guesser learns nothing");
  assert.equal(blocked.headers.get("retry-after"), "900");
  assert.match(await blocked.text(), /too many failed authentications/);

  // The API counts too, and answers JSON.
  const api = await master.app.request("/api/sync/status", {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  }, { remoteAddr: { hostname: "198.51.100.7" } });
  assert.equal(api.status, 429);
  assert.equal((await api.json()).error.code, "too_many_failures");
  const health = await master.app.request("/health", {}, {
    remoteAddr: { hostname: "198.51.100.7" },
  });
  assert.equal(health.status, 200, "public pages stay open");

  const other = new Browser(master, "203.0.113.9");
  assert.equal((await other.signIn()).status, 303, "other addresses are not affected");

  master.clock.now = new Date(master.clock.now.getTime() + 15 * 60_000);
  assert.equal((await guesser.signIn()).status, 303, "the window has passed");
});

Deno.test("wrong bearer tokens and feed addresses count as failures; behind a proxy, per client", async () => {
  await using master = await testMaster({ authFailureLimit: 2, trustProxy: true });
  const from = (client: string) => ({
    "x-forwarded-for": `${client}, 10.0.0.1`.split(", ").reverse().join(", "),
  });
  const proxy = { remoteAddr: { hostname: "10.0.0.2" } };
  assert.equal(
    (await master.app.request("/feeds/guess.ics", { headers: from("192.0.2.1") }, proxy)).status,
    404,
  );
  assert.equal(
    (await master.app.request("/api/agents", {
      headers: { ...from("192.0.2.1"), authorization: "Bearer wrong-token-0123456789" },
    }, proxy)).status,
    401,
  );
  const blocked = await master.app.request("/api/agents", {
    headers: { ...from("192.0.2.1"), authorization: `Bearer ${ADMIN_TOKEN}` },
  }, proxy);
  assert.equal(blocked.status, 429);
  const neighbour = await master.app.request("/api/agents", {
    headers: { ...from("192.0.2.99"), authorization: `Bearer ${ADMIN_TOKEN}` },
  }, proxy);
  assert.equal(neighbour.status, 200, "another client behind the same proxy is not blocked");
});

Deno.test("page: a refused password is shown with the setting to fix, and Retry now tries once more", async () => {
  const dest = new MemoryDestination("sogo");
  for (let i = 0; i < 10; i++) {
    dest.failNext("changeToken", new DestinationError("unauthorized", "HTTP 401"));
  }
  await using master = await testMaster({ destinations: [configured(dest)] });
  await master.sync.run();
  await master.sync.run();
  assert.equal(dest.calls.changeToken, 1, "the second run sent nothing");

  const browser = new Browser(master);
  await browser.signIn();
  const html = await (await browser.get("/")).text();
  assert.match(html, /refused calsync&#39;s credentials|refused calsync's credentials/);
  assert.match(html, /Fix the destination&#39;s settings|Fix the destination's settings/);
  assert.match(html, /href="\/ui\/destinations\/sogo\/retry"/);
  const res = await browser.confirm("/ui/destinations/sogo/retry");
  assert.equal(res.status, 303);
  assert.equal(dest.calls.changeToken, 2, "Retry now sent one more login");
  await browser.confirm("/ui/destinations/sogo/retry");
  const third = await browser.confirm("/ui/destinations/sogo/retry");
  assert.equal(third.status, 429, "a fourth refused login within 15 minutes is not tried");
  assert.equal(dest.calls.changeToken, 3);
  assert.match(await third.text(), /no login before/);
});
