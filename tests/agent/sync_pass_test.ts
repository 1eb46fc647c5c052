import assert from "node:assert/strict";
import { join } from "node:path";
import { Backoff } from "../../agent/backoff.ts";
import { parseConfig } from "../../agent/config.ts";
import type { FetchLike } from "../../agent/http.ts";
import { MasterClient } from "../../agent/master_client.ts";
import { AgentSession } from "../../agent/session.ts";
import { readState } from "../../agent/state.ts";
import { passSucceeded, runSyncPass } from "../../agent/sync_pass.ts";
import { readWarning } from "../../shared/warnings.ts";
import { FakeMaster } from "./fake_master.ts";
import {
  configObject,
  FakeSources,
  memoryLogger,
  occurrence,
  recordingSleep,
  tempDir,
} from "./helpers.ts";

const NOW = new Date("2026-03-29T10:00:00Z");

async function setup(
  dir: string,
  master: { fetch: FetchLike },
  keys = ["team", "rooms"],
  display: Record<string, unknown> = {},
  allowEmpty = false,
  now = NOW,
) {
  const sources = new FakeSources();
  const config = parseConfig(
    JSON.stringify(configObject({
      calendar_sources: [
        ...keys.map((key) => ({ type: "fake", name: key, key, ...display })),
        { type: "fake", name: "Off", key: "off", enabled: false },
      ],
    })),
    "test.json",
    sources.registry,
  );
  const { log, lines } = memoryLogger();
  const client = new MasterClient({
    centralApiUrl: config.central_api_url,
    fetch: master.fetch,
    attempts: 2,
    sleep: recordingSleep().sleep,
    backoff: () => new Backoff({ random: () => 0 }),
    log,
  });
  const statePath = join(dir, "calendar_agent_state.json");
  const session = await AgentSession.open({ config, client, statePath, log });
  const pass = () =>
    runSyncPass({
      config,
      session,
      registry: sources.registry,
      configDir: dir,
      fetch: master.fetch,
      log,
      now: () => now,
      allowEmpty,
    });
  return { sources, pass, lines, statePath };
}

const standup = occurrence("standup@x", "2026-03-30T08:00:00Z", "2026-03-30T08:15:00Z");
const review = occurrence("review@x", "2026-04-02T13:00:00Z", "2026-04-02T14:00:00Z");
const holiday = occurrence("holiday@x", "2026-04-03", "2026-04-04", { all_day: true });

Deno.test("sync pass: uploads each enabled source, then heartbeats", async () => {
  await using dir = await tempDir();
  const master = new FakeMaster();
  const { sources, pass } = await setup(dir.path, master);
  sources.readings.set("team", [review, standup]);
  sources.readings.set("rooms", [holiday]);
  const report = await pass();
  assert.ok(passSucceeded(report));
  assert.deepEqual(report.window, { start: "2026-02-27T00:00:00Z", end: "2026-06-27T00:00:00Z" });
  assert.deepEqual(report.sources.map((s) => [s.source_id, s.status, s.events]), [
    ["team", "uploaded", 2],
    ["rooms", "uploaded", 1],
  ]);
  const team = master.snapshots.get("office-pc/team")!;
  assert.deepEqual(team.events.map((e) => e.uid), ["standup@x", "review@x"], "sorted by start");
  assert.equal(team.generated_at, "2026-03-29T10:00:00Z");
  assert.equal(sources.reads.get("off"), undefined, "a disabled source is not read");
  assert.deepEqual(master.heartbeats, [{
    version: "0.1.0",
    sync_interval_minutes: 15,
    sources: [{ source_id: "team", last_error: null }, { source_id: "rooms", last_error: null }],
  }]);
});

Deno.test("sync pass: an unchanged source is not uploaded again, but the heartbeat goes", async () => {
  await using dir = await tempDir();
  const master = new FakeMaster();
  const first = await setup(dir.path, master);
  first.sources.readings.set("team", [standup, review]);
  first.sources.readings.set("rooms", [holiday]);
  await first.pass();
  // A new process with the same state file: the hashes survive the restart.
  const second = await setup(dir.path, master);
  second.sources.readings.set("team", [review, standup]);
  second.sources.readings.set("rooms", [holiday]);
  const before = master.requests.length;
  const report = await second.pass();
  assert.deepEqual(report.sources.map((s) => s.status), ["unchanged", "unchanged"]);
  assert.deepEqual(
    master.requests.slice(before).map((r) => `${r.method} ${r.path}`),
    ["POST /api/agents/register", "POST /api/agents/office-pc/heartbeat"],
  );
  second.sources.readings.set("rooms", []);
  const third = await second.pass();
  assert.deepEqual(third.sources.map((s) => s.status), ["unchanged", "uploaded"]);
  assert.deepEqual(third.sources[1].result, { added: 0, updated: 0, removed: 1, unchanged: 0 });
});

Deno.test("sync pass: a failing source does not stop the next; its error reaches the heartbeat", async () => {
  await using dir = await tempDir();
  const master = new FakeMaster();
  const { sources, pass, lines } = await setup(dir.path, master);
  sources.readings.set("team", new Error("GET https://example.test/team.ics: HTTP 503"));
  sources.readings.set("rooms", [holiday]);
  const report = await pass();
  assert.equal(passSucceeded(report), false);
  assert.deepEqual(report.sources.map((s) => s.status), ["failed", "uploaded"]);
  assert.deepEqual(master.heartbeats[0].sources, [
    { source_id: "team", last_error: "GET https://example.test/team.ics: HTTP 503" },
    { source_id: "rooms", last_error: null },
  ]);
  assert.ok(
    lines.some((l) => l.includes('ERROR source "team": GET https://example.test/team.ics')),
  );
  sources.readings.set("team", [standup]);
  assert.ok(passSucceeded(await pass()));
  assert.deepEqual(master.heartbeats[1].sources.map((s) => s.last_error), [null, null]);
});

Deno.test("sync pass: a repeated occurrence is dropped with a warning, not fatal", async () => {
  await using dir = await tempDir();
  const master = new FakeMaster();
  const { sources, pass, lines } = await setup(dir.path, master, ["team"]);
  sources.readings.set("team", [standup, { ...standup, title: "again" }]);
  const report = await pass();
  assert.deepEqual(report.sources.map((s) => [s.status, s.events]), [["uploaded", 1]]);
  assert.ok(lines.some((l) => l.includes("uid standup@x appears more than once; kept the first")));
});

Deno.test("sync pass: a snapshot the master rejects fails that source only, and is retried next pass", async () => {
  await using dir = await tempDir();
  const master = new FakeMaster();
  const { sources, pass, statePath } = await setup(dir.path, master);
  sources.readings.set("team", [standup]);
  sources.readings.set("rooms", [holiday]);
  master.override(
    "PUT",
    /team\/snapshot$/,
    () =>
      Response.json({ error: { code: "too_large", message: "limit 10 MB", field: null } }, {
        status: 413,
      }),
  );
  const report = await pass();
  assert.deepEqual(report.sources.map((s) => s.status), ["failed", "uploaded"]);
  assert.match(report.sources[0].error!, /HTTP 413 too_large: limit 10 MB/);
  assert.equal(master.requestsTo(/team\/snapshot$/).length, 1, "not retried within the pass");
  assert.equal((await readState(statePath)).sources.team, undefined);
  assert.equal((await pass()).sources[0].status, "uploaded");
});

Deno.test("sync pass: an unreachable master ends the pass without reading sources", async () => {
  await using dir = await tempDir();
  const down: FetchLike = () => Promise.reject(new TypeError("Connection refused"));
  const { sources, pass } = await setup(dir.path, { fetch: down });
  sources.readings.set("team", [standup]);
  const report = await pass();
  assert.equal(report.masterUnreachable, true);
  assert.match(
    report.masterError!,
    /^master not reachable: POST http:\/\/master\.test\/api\/agents\/register/,
  );
  assert.deepEqual(report.sources.map((s) => s.status), ["skipped", "skipped"]);
  assert.equal(sources.reads.size, 0);
  assert.equal(passSucceeded(report), false);
});

Deno.test("sync pass: a registration problem is reported, not thrown", async () => {
  await using dir = await tempDir();
  const master = new FakeMaster();
  master.enrollmentToken = "something-else";
  const { pass } = await setup(dir.path, master);
  const report = await pass();
  assert.equal(report.masterUnreachable, false);
  assert.match(report.masterError!, /rejected enrollment_token/);
});

Deno.test("sync pass: a rejected heartbeat is reported, not thrown", async () => {
  await using dir = await tempDir();
  const master = new FakeMaster();
  const { sources, pass } = await setup(dir.path, master, ["team"]);
  sources.readings.set("team", [standup]);
  master.override(
    "POST",
    /heartbeat$/,
    () =>
      Response.json({ error: { code: "invalid", message: "bad", field: "sources" } }, {
        status: 400,
      }),
  );
  const report = await pass();
  assert.deepEqual(report.sources.map((s) => s.status), ["uploaded"]);
  assert.equal(report.masterUnreachable, false);
  assert.match(report.masterError!, /heartbeat: HTTP 400 invalid: bad \(field sources\)$/);
  assert.equal(passSucceeded(report), false);
});

Deno.test("sync pass: a source's settings travel with its snapshot; changing them re-uploads", async () => {
  await using dir = await tempDir();
  const master = new FakeMaster();
  const first = await setup(dir.path, master, ["team"], { label: "PC 1" });
  first.sources.readings.set("team", [standup]);
  await first.pass();
  assert.equal(master.snapshots.get("office-pc/team")?.settings.label, "PC 1");
  const second = await setup(dir.path, master, ["team"], { label: "PC 1", privacy: "busy" });
  second.sources.readings.set("team", [standup]);
  const report = await second.pass();
  assert.deepEqual(report.sources.map((s) => s.status), ["uploaded"]);
  assert.equal(master.snapshots.get("office-pc/team")?.settings.privacy, "busy");
});

Deno.test("sync pass: a master that lost our snapshots gets them again in the same pass", async () => {
  await using dir = await tempDir();
  const master = new FakeMaster();
  const first = await setup(dir.path, master);
  first.sources.readings.set("team", [standup]);
  first.sources.readings.set("rooms", [holiday]);
  await first.pass();
  master.snapshots.delete("office-pc/rooms");
  const report = await first.pass();
  assert.deepEqual(report.sources.map((s) => s.status), ["unchanged", "uploaded"]);
  assert.equal(master.snapshots.get("office-pc/rooms")?.events.length, 1);
});

Deno.test("sync pass: a master rebuilt from nothing re-enrols us and gets every source", async () => {
  await using dir = await tempDir();
  const master = new FakeMaster();
  const first = await setup(dir.path, master);
  first.sources.readings.set("team", [standup]);
  first.sources.readings.set("rooms", [holiday]);
  await first.pass();
  master.agents.clear();
  master.snapshots.clear();
  const report = await first.pass();
  assert.ok(passSucceeded(report));
  assert.deepEqual(report.sources.map((s) => s.status), ["uploaded", "uploaded"]);
  assert.equal(master.snapshots.size, 2);
});

Deno.test("sync pass: warnings travel with the snapshot, counted per reason; a change re-uploads", async () => {
  await using dir = await tempDir();
  const master = new FakeMaster();
  const { sources, pass, lines } = await setup(dir.path, master, ["team"]);
  sources.readings.set("team", [standup, review]);
  sources.warnings.set("team", [
    readWarning("missing-uid", "VEVENT at line 4 has no UID", 4),
    readWarning("event-skipped", "VEVENT at line 9 skipped: bad DTSTART", 9),
  ]);
  assert.ok(passSucceeded(await pass()));
  assert.deepEqual(master.snapshots.get("office-pc/team")?.warnings, {
    count: 2,
    by_reason: { "missing-uid": 1, "event-skipped": 1 },
    samples: [
      { reason: "missing-uid", line: 4, message: "VEVENT at line 4 has no UID" },
      { reason: "event-skipped", line: 9, message: "VEVENT at line 9 skipped: bad DTSTART" },
    ],
  });
  assert.ok(lines.some((l) => l.includes('source "team": [event-skipped] VEVENT at line 9')));
  assert.equal((await pass()).sources[0].status, "unchanged");
  sources.warnings.set("team", []);
  assert.equal((await pass()).sources[0].status, "uploaded", "the warnings went away");
  assert.deepEqual(master.snapshots.get("office-pc/team")?.warnings.count, 0);
});

Deno.test("sync pass: a source whose every event was skipped fails and is not uploaded", async () => {
  await using dir = await tempDir();
  const master = new FakeMaster();
  const { sources, pass } = await setup(dir.path, master);
  sources.readings.set("team", []);
  sources.warnings.set("team", [
    readWarning("malformed-line", "line 3 could not be read", 3),
    readWarning("event-skipped", "VEVENT at line 5 skipped: no DTSTART", 5),
  ]);
  sources.readings.set("rooms", [holiday]);
  const report = await pass();
  assert.equal(passSucceeded(report), false);
  assert.deepEqual(report.sources.map((s) => s.status), ["failed", "uploaded"]);
  assert.equal(master.requestsTo(/team\/snapshot$/).length, 0, "nothing uploaded");
  assert.match(
    master.heartbeats[0].sources[0].last_error!,
    /^all events were skipped: VEVENT at line 5 skipped: no DTSTART; not uploaded/,
  );
});

Deno.test("sync pass: a source that went from many events to none fails until allowed", async () => {
  await using dir = await tempDir();
  const master = new FakeMaster();
  const first = await setup(dir.path, master, ["team", "rooms"]);
  const many = [1, 2, 3, 4, 5].map((n) =>
    occurrence(`e${n}@x`, `2026-04-0${n}T09:00:00Z`, `2026-04-0${n}T10:00:00Z`)
  );
  first.sources.readings.set("team", many);
  first.sources.readings.set("rooms", [standup, holiday]);
  await first.pass();
  assert.equal((await readState(first.statePath)).sources.team.event_count, 5);

  // The next run reads nothing: a feed that came back empty by mistake.
  const second = await setup(dir.path, master, ["team", "rooms"]);
  second.sources.readings.set("team", []);
  second.sources.readings.set("rooms", []);
  const report = await second.pass();
  assert.deepEqual(report.sources.map((s) => [s.status, s.events]), [
    ["failed", 0],
    ["uploaded", 0],
  ], "two events to none is a calendar that emptied itself");
  assert.equal(master.snapshots.get("office-pc/team")?.events.length, 5, "the master keeps them");
  const error = master.heartbeats.at(-1)!.sources[0].last_error!;
  assert.match(error, /^source went from 5 events to none; not uploaded/);
  assert.match(error, /agent once --allow-empty/);
  assert.equal((await readState(first.statePath)).sources.team.event_count, 5);
  assert.equal((await second.pass()).sources[0].status, "failed", "and again next pass");

  // The admin confirms the calendar was emptied, with `agent once --allow-empty` beside
  // the running agent.
  const later = new Date(NOW.getTime() + 60_000);
  const allowed = await setup(dir.path, master, ["team", "rooms"], {}, true, later);
  allowed.sources.readings.set("team", []);
  allowed.sources.readings.set("rooms", []);
  const through = await allowed.pass();
  assert.ok(passSucceeded(through));
  assert.deepEqual(through.sources[0].result, { added: 0, updated: 0, removed: 5, unchanged: 0 });
  assert.equal((await readState(first.statePath)).sources.team.event_count, 0);
  // The running agent learns from its registration that the master holds a newer
  // snapshot, and from then on an empty reading is the normal case.
  const next = await second.pass();
  assert.ok(passSucceeded(next), next.sources[0].error ?? "");
});

Deno.test("sync pass: a state file without event counts does not hold an empty source back", async () => {
  await using dir = await tempDir();
  const master = new FakeMaster();
  const first = await setup(dir.path, master, ["team"]);
  first.sources.readings.set("team", [standup, review, holiday]);
  await first.pass();
  const state = JSON.parse(await Deno.readTextFile(first.statePath));
  delete state.sources.team.event_count;
  await Deno.writeTextFile(first.statePath, JSON.stringify(state));
  const second = await setup(dir.path, master, ["team"]);
  second.sources.readings.set("team", []);
  assert.equal((await second.pass()).sources[0].status, "uploaded");
});
