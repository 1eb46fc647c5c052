import assert from "node:assert/strict";
import { join } from "node:path";
import { runCheck } from "../../agent/check.ts";
import { runCli } from "../../agent/cli.ts";
import { agentFiles } from "../../agent/files.ts";
import type { FetchLike } from "../../agent/http.ts";
import { FakeMaster } from "./fake_master.ts";
import { configObject, recordingSleep, tempDir, writeConfig } from "./helpers.ts";

const NOW = () => new Date("2026-03-29T10:00:00Z");
const FIXTURE = new URL("../fixtures/agent/team.ics", import.meta.url);

async function prepare(dir: string, overrides: Record<string, unknown> = {}) {
  await Deno.copyFile(FIXTURE, join(dir, "team.ics"));
  return agentFiles(
    await writeConfig(
      dir,
      configObject({
        calendar_sources: [
          { type: "ics", name: "Team", path: "team.ics" },
          { type: "ics", name: "Rooms", path: "rooms.ics" },
          {
            type: "ics",
            name: "Old",
            url: "https://user:pw99@example.test/old.ics",
            enabled: false,
          },
        ],
        ...overrides,
      }),
    ),
  );
}

Deno.test("check: reports every item with ✓ or ✗", async () => {
  await using dir = await tempDir();
  const files = await prepare(dir.path);
  const master = new FakeMaster();
  const report = await runCheck({ files, fetch: master.fetch, now: NOW });
  assert.equal(report.ok, false);
  assert.equal(
    report.text,
    [
      `calsync agent 0.1.0: checking ${files.config}`,
      '✓ config: agent "office-pc" (Office PC), 3 source(s), 2 enabled',
      "✓ master http://master.test: reachable, version 9.9.9, store memory ok",
      '✓ registration: agent "office-pc" accepted with its enrollment token',
      '✓ source "team" (ics, file team.ics): 5 occurrence(s) from 2026-02-27 to 2026-06-27',
      `✗ source "rooms" (ics, file rooms.ics): ${join(dir.path, "rooms.ics")}: file not found`,
      '- source "old" (ics, https://example.test/old.ics): disabled',
      "1 check(s) failed.",
    ].join("\n"),
  );
  await Deno.copyFile(FIXTURE, join(dir.path, "rooms.ics"));
  const again = await runCheck({ files, fetch: master.fetch, now: NOW });
  assert.equal(again.ok, true);
  assert.match(again.text, /✓ registration: agent "office-pc" accepted with its own token\n/);
  assert.match(again.text, /\nAll checks passed\.$/);
  assert.equal(master.snapshots.size, 0, "a check uploads nothing");
});

Deno.test("check: an invalid config is listed and nothing else is tried", async () => {
  await using dir = await tempDir();
  const files = await prepare(dir.path, { central_api_url: "nowhere", agent_id: 7 });
  let calls = 0;
  const report = await runCheck({
    files,
    fetch: () => {
      calls++;
      return Promise.reject(new Error("unexpected"));
    },
  });
  assert.equal(report.ok, false);
  assert.equal(
    report.text,
    [
      `calsync agent 0.1.0: checking ${files.config}`,
      "✗ config:",
      "    agent_id: expected an id as a string, got a number",
      "    central_api_url: expected an http(s) URL such as https://calsync.example.com/api",
      "1 check(s) failed.",
    ].join("\n"),
  );
  assert.equal(calls, 0);
});

Deno.test("check: an unreachable master skips the registration but still reads sources", async () => {
  await using dir = await tempDir();
  const files = await prepare(dir.path);
  const down: FetchLike = () => Promise.reject(new TypeError("Connection refused"));
  const report = await runCheck({ files, fetch: down, now: NOW, sleep: recordingSleep().sleep });
  assert.match(
    report.text,
    /\n✗ master http:\/\/master\.test: master not reachable: GET http:\/\/master\.test\/health: Connection refused \(gave up after 2 attempts\)\n- registration: not checked, the master is unreachable\n✓ source "team"/,
  );
  assert.equal(report.ok, false);
});

Deno.test("check: `agent check` prints the report and exits 1 on a failure, 0 when all pass", async () => {
  await using dir = await tempDir();
  const files = await prepare(dir.path, {
    calendar_sources: [{ type: "ics", name: "Team", path: "team.ics" }],
  });
  const master = new FakeMaster();
  const out: string[] = [];
  const io = {
    stdout: (t: string) => out.push(t),
    stderr: (t: string) => out.push(t),
    fetch: master.fetch,
  };
  assert.equal(await runCli(["check", "--config", files.config], io), 0);
  assert.match(
    out.join("\n"),
    /✓ source "team" \(ics, file team\.ics\): \d+ occurrence\(s\) from /,
  );
  assert.match(out.join("\n"), /All checks passed\.$/);
  master.enrollmentToken = "rotated-token";
  await Deno.remove(files.state);
  out.length = 0;
  assert.equal(await runCli(["check", "-c", files.config], io), 1);
  assert.match(out.join("\n"), /✗ registration: the master rejected enrollment_token \(HTTP 401\)/);
  const log = await Deno.readTextFile(files.log);
  assert.doesNotMatch(log, /enroll-0123456789|agent-token-/, "no token in the log");
});

function ics(events: string[][]): string {
  const lines = events.flatMap((
    e,
  ) => ["BEGIN:VEVENT", "DTSTAMP:20260101T000000Z", ...e, "END:VEVENT"]);
  return ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//t//EN", ...lines, "END:VCALENDAR", ""]
    .join("\r\n");
}
const good = ["UID:good@x", "DTSTART:20260330T090000Z", "DTEND:20260330T100000Z", "SUMMARY:Ok"];
const broken = ["UID:broken@x", "DTSTART:garbage", "SUMMARY:Broken"];
const noUid = ["DTSTART:20260331T090000Z", "DTEND:20260331T100000Z", "SUMMARY:No UID"];

async function checkOne(dir: string, text: string, state?: unknown) {
  await Deno.writeTextFile(join(dir, "team.ics"), text);
  const files = agentFiles(
    await writeConfig(
      dir,
      configObject({ calendar_sources: [{ type: "ics", name: "Team", path: "team.ics" }] }),
    ),
  );
  if (state !== undefined) await Deno.writeTextFile(files.state, JSON.stringify(state));
  const master = new FakeMaster();
  return await runCheck({ files, fetch: master.fetch, now: NOW });
}

Deno.test("check: prints a source's warnings, counted per reason, with the samples", async () => {
  await using dir = await tempDir();
  const report = await checkOne(dir.path, ics([good, broken, noUid]));
  assert.equal(report.ok, true, report.text);
  const lines = report.text.split("\n");
  const at = lines.findIndex((l) => l.startsWith('✓ source "team"'));
  assert.match(lines[at], /: 2 occurrence\(s\) from 2026-02-27 to 2026-06-27, 2 warning\(s\)$/);
  assert.match(
    lines[at + 1],
    /^ {4}2 warning\(s\): (event-skipped 1, missing-uid 1|missing-uid 1, event-skipped 1)$/,
  );
  assert.match(lines[at + 2], /^ {6}\[event-skipped\] .*broken@x/);
  assert.match(lines[at + 3], /^ {6}\[missing-uid\] /);
});

Deno.test("check: a source whose every event is skipped fails", async () => {
  await using dir = await tempDir();
  const report = await checkOne(dir.path, ics([broken]));
  assert.equal(report.ok, false);
  assert.match(report.text, /✗ source "team" .*: 0 occurrence\(s\) .*: all events were skipped: /);
  assert.match(report.text, /\n {4}1 warning\(s\): event-skipped 1\n/);
});

Deno.test("check: a source that went from many events to none fails, as a pass would", async () => {
  await using dir = await tempDir();
  const accepted = (event_count: number) => ({
    agent_id: "office-pc",
    sources: {
      team: { snapshot_hash: "h", accepted_at: "2026-03-28T10:00:00Z", event_count },
    },
  });
  const report = await checkOne(dir.path, ics([]), accepted(34));
  assert.equal(report.ok, false);
  assert.match(
    report.text,
    /✗ source "team" .*: 0 occurrence\(s\) .*: source went from 34 events to none; not uploaded/,
  );
  assert.match(report.text, /agent once --allow-empty/);
  const few = await checkOne(dir.path, ics([]), accepted(2));
  assert.match(few.text, /✓ source "team" .*: 0 occurrence\(s\)/);
});
