/**
 * `agent run --background`: the console window left through FreeConsole on Windows only
 * (with a stand-in kernel32), and everything the agent says, fatal errors at start
 * included, written to the log file and nothing to standard output or error.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli } from "../../agent/cli.ts";
import { Logger, MemorySink } from "../../agent/log.ts";
import { consoleToLog, detachConsole, type Kernel32 } from "../../agent/windows/console.ts";
import { agentLaunch } from "../../agent/windows/launch.ts";
import { FakeMaster } from "./fake_master.ts";
import { configObject, tempDir, writeConfig } from "./helpers.ts";

/** A stand-in kernel32.dll counting its calls; FreeConsole answers `result`. */
function fakeKernel32(result = 1) {
  const calls = { load: 0, freeConsole: 0, close: 0 };
  const library: Kernel32 = {
    symbols: { FreeConsole: () => (calls.freeConsole++, result) },
    close: () => void calls.close++,
  };
  return { calls, load: () => (calls.load++, library) };
}

Deno.test("console: on Windows FreeConsole is called once and the library released", () => {
  const sink = new MemorySink();
  const kernel32 = fakeKernel32();
  detachConsole({ os: "windows", load: kernel32.load, log: new Logger({ sinks: [sink] }) });
  assert.deepEqual(kernel32.calls, { load: 1, freeConsole: 1, close: 1 });
  assert.deepEqual(sink.lines, []);
});

Deno.test("console: elsewhere kernel32 is never loaded", () => {
  for (const os of ["linux", "darwin"] as const) {
    const kernel32 = fakeKernel32();
    detachConsole({ os, load: kernel32.load, log: new Logger() });
    assert.deepEqual(kernel32.calls, { load: 0, freeConsole: 0, close: 0 }, os);
  }
});

Deno.test("console: FFI refused is logged and the agent goes on", () => {
  const sink = new MemorySink();
  detachConsole({
    os: "windows",
    load: () => {
      throw new Deno.errors.NotCapable(
        'Requires ffi access to "kernel32.dll", run again with the --allow-ffi flag',
      );
    },
    log: new Logger({ sinks: [sink] }),
  });
  assert.equal(sink.lines.length, 1);
  assert.match(
    sink.lines[0],
    / WARN {2}cannot close the console window: Requires ffi access to "kernel32\.dll"/,
  );
});

Deno.test("console: FreeConsole failing is logged", () => {
  const sink = new MemorySink();
  const kernel32 = fakeKernel32(0);
  detachConsole({ os: "windows", load: kernel32.load, log: new Logger({ sinks: [sink] }) });
  assert.deepEqual(kernel32.calls, { load: 1, freeConsole: 1, close: 1 });
  assert.match(sink.lines[0], / WARN {2}cannot close the console window: FreeConsole failed$/);
});

/**
 * A test running `agent run --background` in this process: off Windows only, where it
 * would detach the test runner itself from its console.
 */
function backgroundTest(name: string, fn: () => Promise<void>) {
  Deno.test({ name, ignore: Deno.build.os === "windows", fn });
}

/** `agent run --background` in-process, with what it wrote to stdout and stderr. */
async function runInBackground(config: string) {
  const written: string[] = [];
  const code = await runCli(["run", "--background", "--config", config], {
    stdout: (text) => written.push(text),
    stderr: (text) => written.push(text),
    fetch: () => Promise.reject(new Error("no master in this test")),
    env: () => undefined,
  });
  return { code, console: written };
}

backgroundTest("background: an invalid config is told to the log file only", async () => {
  await using dir = await tempDir();
  const config = await writeConfig(dir.path, configObject({ sync_interval_minutes: "often" }));
  assert.deepEqual(await runInBackground(config), { code: 1, console: [] });
  const log = await Deno.readTextFile(join(dir.path, "calendar_agent.log"));
  assert.match(log, /ERROR invalid config .*outlook_config\.json:\n {2}sync_interval_minutes: /);
});

backgroundTest(
  "background: a log file that cannot be written is not reported on the console",
  async () => {
    await using dir = await tempDir();
    const config = await writeConfig(dir.path, configObject({ sync_interval_minutes: "often" }));
    await Deno.mkdir(join(dir.path, "calendar_agent.log"));
    const consoleError = console.error;
    const reported: unknown[] = [];
    console.error = (...data) => reported.push(...data);
    try {
      assert.deepEqual(await runInBackground(config), { code: 1, console: [] });
    } finally {
      console.error = consoleError;
    }
    assert.deepEqual(reported, []);
  },
);

backgroundTest("background: an unreadable state file is told to the log file only", async () => {
  await using dir = await tempDir();
  const config = await writeConfig(dir.path, configObject());
  await Deno.writeTextFile(join(dir.path, "calendar_agent_state.json"), "{ not json");
  assert.deepEqual(await runInBackground(config), { code: 1, console: [] });
  const log = await Deno.readTextFile(join(dir.path, "calendar_agent.log"));
  assert.match(log, /ERROR .*calendar_agent_state\.json.*not valid JSON/);
});

backgroundTest(
  "background: an error nobody expected at start is told to the log file, exit 1",
  async () => {
    await using dir = await tempDir();
    const config = await writeConfig(dir.path, configObject());
    // Signals refused are no reason to stop (an agent without a console may be refused
    // them); timers that fail are.
    const { addSignalListener } = Deno;
    const { setTimeout } = globalThis;
    Deno.addSignalListener = () => {
      throw new Error("signals are refused");
    };
    globalThis.setTimeout = (() => {
      throw new Error("timers are broken");
    }) as unknown as typeof globalThis.setTimeout;
    try {
      assert.deepEqual(await runInBackground(config), { code: 1, console: [] });
    } finally {
      Deno.addSignalListener = addSignalListener;
      globalThis.setTimeout = setTimeout;
    }
    const log = await Deno.readTextFile(join(dir.path, "calendar_agent.log"));
    assert.match(log, /INFO {2}calsync agent .* started/);
    assert.match(
      log,
      /ERROR the agent stopped on an unexpected error: Error: timers are broken\n/,
    );
  },
);

Deno.test("background: applies to run only", async () => {
  const stderr: string[] = [];
  const code = await runCli(["once", "--background"], { stderr: (text) => stderr.push(text) });
  assert.equal(code, 2);
  assert.match(stderr[0], /^agent: "--background" applies to "run" only: agent run --background\n/);
});

Deno.test({
  name: "background: the task's command under deno run writes nothing to stdout or stderr",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await using dir = await tempDir();
    const master = new FakeMaster();
    await using server = Deno.serve(
      { port: 0, hostname: "127.0.0.1", onListen: () => {} },
      master.app.fetch,
    );
    await Deno.writeTextFile(join(dir.path, "empty.ics"), "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n");
    const config = await writeConfig(
      dir.path,
      configObject({
        central_api_url: `http://127.0.0.1:${server.addr.port}/api`,
        calendar_sources: [{ type: "ics", name: "Empty", path: "empty.ics" }],
      }),
    );
    const launch = agentLaunch(config, true);
    const child = new Deno.Command(launch.program, {
      args: launch.args,
      cwd: launch.workingDirectory,
      env: { NO_COLOR: "1", DEBUG: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let exited = false;
    child.status.then(() => exited = true);
    const logFile = join(dir.path, "calendar_agent.log");
    const logText = () => Deno.readTextFile(logFile).catch(() => "");
    // Once the first pass is over, the agent waits for the next one: stop it there.
    const deadline = Date.now() + 20_000;
    while (!(await logText()).includes("next pass in") && !exited && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    child.kill("SIGTERM");
    const { code, stdout, stderr } = await child.output();
    const log = await logText();
    assert.equal(code, 0, log);
    assert.deepEqual([stdout.length, stderr.length], [0, 0], new TextDecoder().decode(stderr));
    assert.match(log, /INFO {2}calsync agent 0\.1\.0 started: agent "office-pc"/);
    assert.match(log, /INFO {2}source "empty": uploaded 0 occurrences/);
    assert.match(log, /DEBUG next pass in 900\.0 s/);
    assert.match(log, /INFO {2}stopping after the current pass\n.*INFO {2}stopped\n$/);
  },
});

Deno.test("console: what libraries print goes to the log until console is put back", () => {
  const lines: string[] = [];
  const log = new Logger({ level: "debug", sinks: [{ write: (line) => lines.push(line) }] });
  const original = console.log;
  const restore = consoleToLog(log);
  try {
    console.log("fetched", { items: 3 });
    console.error("cannot parse");
  } finally {
    restore();
  }
  assert.equal(console.log, original);
  assert.equal(lines.length, 2);
  assert.match(lines[0], /DEBUG fetched \{ items: 3 \}$/);
  assert.match(lines[1], /ERROR cannot parse$/);
});
