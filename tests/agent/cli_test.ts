import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { addDays } from "../../shared/time.ts";
import { FakeMaster } from "./fake_master.ts";
import { configObject, tempDir, writeConfig } from "./helpers.ts";

const MAIN = fileURLToPath(new URL("../../agent/main.ts", import.meta.url));
const DENO_JSON = fileURLToPath(new URL("../../deno.json", import.meta.url));

/** `deno run agent/main.ts ...args` in `cwd`, as a user would start it. */
function agent(args: string[], cwd: string) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--config", DENO_JSON, MAIN, ...args],
    cwd,
    env: { NO_COLOR: "1", DEBUG: "" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

async function runAgent(args: string[], cwd: string) {
  const { code, stdout, stderr } = await agent(args, cwd).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code, stdout: decode(stdout), stderr: decode(stderr) };
}

/** An .ics file with one event tomorrow, so it lies inside the real sync window. */
function calendarForTomorrow(): string {
  const day = addDays(new Date().toISOString().slice(0, 10), 1).replaceAll("-", "");
  return [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//calsync//agent tests//EN",
    "BEGIN:VEVENT",
    "UID:tomorrow@calsync.test",
    "DTSTAMP:20260101T000000Z",
    `DTSTART:${day}T090000Z`,
    `DTEND:${day}T100000Z`,
    "SUMMARY:Planning",
    "END:VEVENT",
    "END:VCALENDAR",
    "",
  ].join("\r\n");
}

function serveMaster(master: FakeMaster) {
  return Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, master.app.fetch);
}

async function prepare(dir: string, port: number, overrides: Record<string, unknown> = {}) {
  await Deno.writeTextFile(join(dir, "team.ics"), calendarForTomorrow());
  return await writeConfig(
    dir,
    configObject({
      central_api_url: `http://127.0.0.1:${port}/api`,
      calendar_sources: [{ type: "ics", name: "Team", path: "team.ics" }],
      ...overrides,
    }),
  );
}

Deno.test("cli: --help prints the usage and --version the version", async () => {
  await using dir = await tempDir();
  const help = await runAgent(["--help"], dir.path);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: agent \[command\] \[options\]/);
  for (const command of ["list-calendars", "install", "uninstall", "status"]) {
    assert.match(help.stdout, new RegExp(`^  ${command} `, "m"));
  }
  assert.match(help.stdout, /-c, --config FILE/);
  const version = await runAgent(["--version"], dir.path);
  assert.deepEqual([version.code, version.stdout], [0, "calsync agent 0.1.0\n"]);
});

Deno.test("cli: an unknown command or option is a usage error with exit code 2", async () => {
  await using dir = await tempDir();
  const command = await runAgent(["sync"], dir.path);
  assert.equal(command.code, 2);
  assert.match(
    command.stderr,
    /^agent: unknown command "sync"; expected one of: run, once, check, list-calendars, install, uninstall, status\n\nUsage:/,
  );
  const option = await runAgent(["once", "--frequency", "5"], dir.path);
  assert.equal(option.code, 2);
  assert.match(option.stderr, /^agent: unknown option "--frequency"\n\nUsage:/);
  const extra = await runAgent(["once", "check"], dir.path);
  assert.equal(extra.code, 2);
  assert.match(extra.stderr, /^agent: expected one command, got: once check/);
});

Deno.test("cli: without --config the agent looks in the working directory", async () => {
  await using dir = await tempDir();
  const result = await runAgent(["once"], dir.path);
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /ERROR invalid config .*outlook_config\.json:\n {2}file not found; the agent looked for /,
  );
  assert.ok(result.stderr.includes(join(await Deno.realPath(dir.path), "outlook_config.json")));
});

Deno.test("cli: `once` syncs, and a second `once` finds nothing changed", async () => {
  await using dir = await tempDir();
  const master = new FakeMaster();
  await using server = serveMaster(master);
  const config = await prepare(dir.path, server.addr.port);

  const first = await runAgent(["once", "--config", config], dir.path);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stdout, "1 source(s): 1 uploaded, 0 unchanged, 0 failed\n");
  assert.match(first.stderr, /INFO {2}source "team": uploaded 1 occurrences \(added 1,/);
  assert.deepEqual(master.snapshots.get("office-pc/team")?.events.map((e) => e.title), [
    "Planning",
  ]);

  const second = await runAgent(["once", "--config", config], dir.path);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.stdout, "1 source(s): 0 uploaded, 1 unchanged, 0 failed\n");
  assert.equal(master.requestsTo(/snapshot$/).length, 1);
  assert.equal(master.heartbeats.length, 2);

  const state = JSON.parse(await Deno.readTextFile(join(dir.path, "calendar_agent_state.json")));
  assert.equal(state.token, master.agents.get("office-pc")!.token);
  const log = await Deno.readTextFile(join(dir.path, "calendar_agent.log"));
  assert.match(log, /^\d{4}-\d\d-\d\dT[\d:.]+Z INFO {2}registered agent "office-pc"/);
  assert.ok(!log.includes(state.token) && !log.includes(master.enrollmentToken));
});

Deno.test("cli: `once` exits 1 when a source fails", async () => {
  await using dir = await tempDir();
  const master = new FakeMaster();
  await using server = serveMaster(master);
  const config = await prepare(dir.path, server.addr.port, {
    calendar_sources: [{ type: "ics", name: "Team", path: "missing.ics" }],
  });
  const result = await runAgent(["once", "--config", config], dir.path);
  assert.equal(result.code, 1);
  assert.equal(result.stdout, "1 source(s): 0 uploaded, 0 unchanged, 1 failed\n");
  assert.match(master.heartbeats[0].sources[0].last_error!, /missing\.ics: file not found$/);
});

Deno.test({
  name: "cli: `run` finishes its pass on SIGTERM and exits 0",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await using dir = await tempDir();
    const master = new FakeMaster();
    await using server = serveMaster(master);
    const config = await prepare(dir.path, server.addr.port);
    const child = agent(["run", "--config", config, "--verbose"], dir.path).spawn();
    let exited = false;
    child.status.then(() => exited = true);
    // The signal goes once the agent waits for its next pass (its log says so), never
    // while the pass may still be running: the test does not race the pass.
    const waiting = async () => {
      const log = await Deno.readTextFile(join(dir.path, "calendar_agent.log")).catch(() => "");
      return log.includes("next pass in");
    };
    const deadline = Date.now() + 60_000;
    while (!exited && !await waiting() && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    child.kill("SIGTERM");
    const { code, stderr } = await child.output();
    const log = new TextDecoder().decode(stderr);
    assert.equal(master.heartbeats.length, 1, log);
    assert.equal(code, 0, log);
    assert.match(
      log,
      /INFO {2}calsync agent 0\.1\.0 started: agent "office-pc", master http:\/\/127\.0\.0\.1:\d+, every 15 min/,
    );
    assert.match(log, /DEBUG next pass in 900\.0 s/);
    assert.match(log, /INFO {2}stopping after the current pass\n.*INFO {2}stopped\n$/);
  },
});
