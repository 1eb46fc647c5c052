/**
 * Warnings and the empty-source guard as a user meets them: `agent once` reads an ICS
 * file and talks to the real master app (in-process, through `app.fetch`), which
 * reconciles an in-memory destination; the admin looks at `/api/sync/status`, the
 * management page and `/metrics`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli } from "../../agent/cli.ts";
import type { FetchLike } from "../../agent/http.ts";
import { sourceFilter } from "../../master/destinations/config.ts";
import { MemoryDestination } from "../../master/destinations/memory.ts";
import { configured } from "../../master/destinations/mod.ts";
import { SyncStatus } from "../../shared/protocol.ts";
import {
  ADMIN_TOKEN,
  enrol,
  ENROLLMENT_TOKEN,
  type TestMaster,
  testMaster,
  timed,
} from "../helpers/master_app.ts";
import { calendar, day, vevent } from "../helpers/pipeline.ts";
import { configObject, tempDir, writeConfig } from "./helpers.ts";

/** The master app as the agent's `fetch`, from one client address. */
function agentFetch(master: TestMaster): FetchLike {
  return (request) =>
    Promise.resolve(master.app.fetch(request, { remoteAddr: { hostname: "192.0.2.20" } }));
}

/** Runs `agent` with `args` against `master`; answers the exit code and the output. */
async function agent(master: TestMaster, config: string, ...args: string[]) {
  const out: string[] = [];
  const code = await runCli([...args, "--config", config], {
    fetch: agentFetch(master),
    stdout: (t) => out.push(t),
    stderr: (t) => out.push(t),
    env: () => undefined,
  });
  return { code, output: out.join("\n") };
}

async function status(master: TestMaster) {
  const res = await master.call("GET", "/api/sync/status", { token: ADMIN_TOKEN });
  assert.equal(res.status, 200);
  return SyncStatus.parse(await res.json());
}

/** The dashboard's HTML, signed in as the admin. */
async function dashboard(master: TestMaster): Promise<string> {
  const env = { remoteAddr: { hostname: "192.0.2.10" } };
  const login = await master.app.request("/login", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "text/html" },
    body: new URLSearchParams({ token: ADMIN_TOKEN }).toString(),
  }, env);
  const cookie = login.headers.get("set-cookie")?.split(";")[0];
  assert.ok(cookie, `no session cookie (HTTP ${login.status})`);
  const page = await master.app.request("/", { headers: { cookie, accept: "text/html" } }, env);
  assert.equal(page.status, 200);
  return await page.text();
}

function event(uid: string, days: number, summary = uid): string[] {
  return vevent([
    `UID:${uid}`,
    `DTSTART:${day(days)}T090000Z`,
    `DTEND:${day(days)}T100000Z`,
    `SUMMARY:${summary}`,
  ]);
}
const good = [1, 2, 3, 4, 5, 6].map((n) => event(`e${n}@x`, n));
/** A VEVENT the reader skips; its UID is markup, which the page must show as text. */
const broken = vevent(["UID:<b>bad</b>@x", "DTSTART:garbage", "SUMMARY:Broken"]);
/** A VEVENT the reader mends: it derives a UID. */
const noUid = vevent([`DTSTART:${day(7)}T090000Z`, `DTEND:${day(7)}T100000Z`, "SUMMARY:Lost"]);

async function setup(dir: string) {
  const dest = new MemoryDestination("wall");
  // A long debounce: every reconcile in these tests is one the test asks for.
  const master = await testMaster({
    destinations: [configured(dest, sourceFilter(["*"]))],
    debounceMs: 60 * 60_000,
  });
  // The agent stamps generated_at with the real clock; the master refuses one ahead of its own.
  master.clock.now = new Date();
  const config = await writeConfig(
    dir,
    configObject({
      agent_id: "office-pc",
      central_api_url: "http://master.test",
      enrollment_token: ENROLLMENT_TOKEN,
      calendar_sources: [{ type: "ics", name: "Team", id: "team", path: "team.ics" }],
    }),
  );
  const feed = (events: string[][]) => Deno.writeTextFile(join(dir, "team.ics"), calendar(events));
  return { master, dest, config, feed };
}

Deno.test("warnings sent with a snapshot show in /api/sync/status, on the page and as a metric", async () => {
  await using dir = await tempDir();
  const { master, dest, config, feed } = await setup(dir.path);
  await using _ = master;
  await feed([...good, broken, noUid]);
  const once = await agent(master, config, "once");
  assert.equal(once.code, 0, once.output);
  assert.match(once.output, /\[event-skipped\] .*VEVENT at line \d+ \(UID <b>bad<\/b>@x\) skipped/);
  await master.sync.run();
  assert.equal(dest.items.size, 7);

  const [source] = (await status(master)).agents[0].sources;
  assert.equal(source.event_count, 7);
  assert.equal(source.last_error, null);
  assert.equal(source.warnings.count, 2);
  assert.deepEqual(source.warnings.by_reason, { "event-skipped": 1, "missing-uid": 1 });
  assert.deepEqual(source.warnings.samples.map((w) => w.reason).sort(), [
    "event-skipped",
    "missing-uid",
  ]);
  const skipped = source.warnings.samples.find((w) => w.reason === "event-skipped")!;
  assert.equal(typeof skipped.line, "number");
  assert.match(skipped.message, /team\.ics|<b>bad<\/b>@x/);

  const html = await dashboard(master);
  const row = html.slice(html.indexOf('data-source="office-pc/team"'));
  const details = row.slice(row.indexOf("<details"), row.indexOf("</details>"));
  assert.match(details, /data-warnings="2"/);
  assert.match(details, /2 warnings \(1 event skipped\)/);
  assert.match(details, /<li data-reason="event-skipped"><code>event-skipped<\/code> 1<\/li>/);
  assert.match(details, /<li data-reason="missing-uid"><code>missing-uid<\/code> 1<\/li>/);
  assert.match(details, /&lt;b&gt;bad&lt;\/b&gt;@x/, "the sample message, escaped");
  assert.doesNotMatch(html, /<b>bad<\/b>/);

  const metrics = await (await master.call("GET", "/metrics", { token: ADMIN_TOKEN })).text();
  assert.match(
    metrics,
    /\ncalsync_source_warnings\{agent_id="office-pc",source_id="team",reason="event-skipped"\} 1\n/,
  );
  assert.match(
    metrics,
    /\ncalsync_source_warnings\{agent_id="office-pc",source_id="team",reason="missing-uid"\} 1\n/,
  );

  // The feed is mended: the next pass uploads, and the warnings are gone.
  await feed(good);
  assert.equal((await agent(master, config, "once")).code, 0);
  const [mended] = (await status(master)).agents[0].sources;
  assert.deepEqual(mended.warnings, { count: 0, by_reason: {}, samples: [] });
  assert.doesNotMatch(await dashboard(master), /<details class="warnings"/);
});

Deno.test("a source that went from many events to none fails, the destination keeps them, --allow-empty lets it through", async () => {
  await using dir = await tempDir();
  const { master, dest, config, feed } = await setup(dir.path);
  await using _ = master;
  await feed(good);
  assert.equal((await agent(master, config, "once")).code, 0);
  await master.sync.run();
  assert.equal(dest.items.size, 6);

  await feed([]);
  const empty = await agent(master, config, "once");
  assert.equal(empty.code, 1, "agent once exits 1");
  assert.match(empty.output, /1 source\(s\): 0 uploaded, 0 unchanged, 1 failed/);
  await master.sync.run();
  assert.equal(dest.items.size, 6, "the destination keeps its events");
  const [held] = (await status(master)).agents[0].sources;
  assert.equal(held.event_count, 6);
  assert.match(held.last_error!, /^source went from 6 events to none; not uploaded/);
  assert.match(held.last_error!, /agent once --allow-empty/);
  assert.match(await dashboard(master), /source went from 6 events to none/);

  const check = await agent(master, config, "check");
  assert.equal(check.code, 1);
  assert.match(check.output, /✗ source "team" .*source went from 6 events to none/);

  const allowed = await agent(master, config, "once", "--allow-empty");
  assert.equal(allowed.code, 0, allowed.output);
  assert.match(allowed.output, /removed 6/);
  await master.sync.run();
  assert.equal(dest.items.size, 0, "the emptied calendar reached the destination");
  const [emptied] = (await status(master)).agents[0].sources;
  assert.deepEqual([emptied.event_count, emptied.last_error], [0, null]);
  // From then on an empty calendar is simply empty.
  assert.equal((await agent(master, config, "once")).code, 0);
});

Deno.test("a source whose every event was skipped fails and is not uploaded, even with --allow-empty", async () => {
  await using dir = await tempDir();
  const { master, dest, config, feed } = await setup(dir.path);
  await using _ = master;
  await feed(good.slice(0, 2));
  assert.equal((await agent(master, config, "once")).code, 0);
  await master.sync.run();
  assert.equal(dest.items.size, 2);

  await feed([broken]);
  for (const args of [["once"], ["once", "--allow-empty"]]) {
    const run = await agent(master, config, ...args);
    assert.equal(run.code, 1, args.join(" "));
  }
  await master.sync.run();
  assert.equal(dest.items.size, 2, "the destination keeps its events");
  const [source] = (await status(master)).agents[0].sources;
  assert.equal(source.event_count, 2);
  assert.match(source.last_error!, /^all events were skipped: .*<b>bad<\/b>@x.*; not uploaded/);
});

Deno.test("--allow-empty is for once only", async () => {
  await using dir = await tempDir();
  const { master, config } = await setup(dir.path);
  await using _ = master;
  const run = await agent(master, config, "run", "--allow-empty");
  assert.equal(run.code, 2);
  assert.match(run.output, /"--allow-empty" applies to "once" only/);
});

Deno.test("a snapshot without warnings, as older agents send it, is accepted with none", async () => {
  await using master = await testMaster({ debounceMs: 60 * 60_000 });
  const token = await enrol(master, "pc1");
  const window = { start: "2026-03-01T00:00:00Z", end: "2026-04-01T00:00:00Z" };
  const put = (generated_at: string, extra: Record<string, unknown>) =>
    master.call("PUT", "/api/agents/pc1/sources/main/snapshot", {
      token,
      body: { window, generated_at, events: [timed("a", "2026-03-02T09:00:00Z")], ...extra },
    });
  const warned = await put("2026-03-01T10:00:00Z", {
    warnings: {
      count: 1,
      by_reason: { "timezone-guessed": 1 },
      samples: [{ reason: "timezone-guessed", line: 3, message: "TZID guessed" }],
    },
  });
  assert.equal(warned.status, 200, await warned.text());
  assert.equal((await status(master)).agents[0].sources[0].warnings.count, 1);
  const old = await put("2026-03-01T11:00:00Z", {});
  assert.equal(old.status, 200, await old.text());
  const [source] = (await status(master)).agents[0].sources;
  assert.deepEqual(source.warnings, { count: 0, by_reason: {}, samples: [] });
  assert.equal(source.event_count, 1);
  const bad = await put("2026-03-01T12:00:00Z", { warnings: { count: -1 } });
  assert.equal(bad.status, 400);
  assert.match((await bad.json()).error.field, /^warnings/);
});
