/**
 * `agent install`, `uninstall` and `status`: the Windows branch (chosen through the
 * injected platform) against the stand-in `powershell` answering for the ScheduledTasks
 * module, and the systemd branch.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { runCli } from "../../agent/cli.ts";
import { systemdWord } from "../../agent/windows/systemd.ts";
import { agentLaunch } from "../../agent/windows/launch.ts";
import { encodedCommandArgs } from "../../agent/windows/powershell.ts";
import { taskXml, windowsArgument } from "../../agent/windows/task_xml.ts";
import {
  TASK_QUERY,
  TASK_START_COMMAND,
  TASK_STOP_COMMAND,
  TASK_UNREGISTER_COMMAND,
  taskRegisterCommand,
} from "../../agent/windows/task_scheduler.ts";
import { standIns } from "../stand-ins/mod.ts";
import { configObject, tempDir, writeConfig } from "./helpers.ts";

const MAIN = fileURLToPath(new URL("../../agent/main.ts", import.meta.url));
const DENO_JSON = fileURLToPath(new URL("../../deno.json", import.meta.url));
const PERMISSIONS = [
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-run",
  "--allow-sys",
  "--allow-ffi",
];
const WINDOWS_USER: Record<string, string> = { USERNAME: "maria", USERDOMAIN: "CORP" };

/** Runs `agent <command> --config <config>` for `os` with the stand-ins and `env`. */
async function agent(
  command: string,
  config: string,
  os: typeof Deno.build.os,
  env: Record<string, string> = {},
) {
  await using stand = await standIns(env);
  return await runWith(command, config, os, stand.env, stand.records);
}

async function runWith(
  command: string,
  config: string,
  os: typeof Deno.build.os,
  commandEnv: Record<string, string>,
  records: () => Promise<Record<string, unknown>[]> = () => Promise.resolve([]),
) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await runCli([command, "--config", config], {
    os,
    env: (name) => WINDOWS_USER[name],
    commandEnv,
    stdout: (text) => stdout.push(text),
    stderr: (text) => stderr.push(text),
  });
  return {
    code,
    stdout: stdout.join("\n"),
    stderr: stderr.join("\n"),
    records: await records(),
  };
}

/** A folder (removed afterwards) holding a valid config. */
async function configIn(folder = "") {
  const dir = await tempDir();
  const path = join(dir.path, folder);
  await Deno.mkdir(path, { recursive: true });
  return { dir, config: await writeConfig(path, configObject()) };
}

Deno.test("install on Windows: stops a running agent, registers the task from its XML, starts it", async () => {
  // Accents and an ampersand: the XML must reach Register-ScheduledTask unchanged.
  const { dir, config } = await configIn("Agenda équipe & Co");
  await using _ = dir;
  const run = await agent("install", config, "windows");
  assert.equal(run.code, 0, run.stderr);
  assert.equal(
    run.stdout,
    'Installed the task "CalSync Agent" for CORP\\maria and started it: the agent now runs ' +
      `at every logon of CORP\\maria with ${config}.\n` +
      `Its log: ${join(dirname(config), "calendar_agent.log")}. Check it with "agent status".`,
  );

  // IgnoreNew: a start while the old agent runs would do nothing, so it is stopped first.
  assert.deepEqual(run.records.map((r) => r.cmdlet), [
    "Stop-ScheduledTask",
    "Register-ScheduledTask",
    "Start-ScheduledTask",
  ]);
  const [stop, register, start] = run.records;
  const xml = register.xml as string;
  assert.deepEqual(
    [stop.command, register.command, start.command],
    [TASK_STOP_COMMAND, taskRegisterCommand(xml), TASK_START_COMMAND],
  );
  assert.equal(xml, taskXml({ userId: "CORP\\maria", launch: agentLaunch(config, true) }));
  // Far below the 32,767 characters of a Windows command line.
  assert.ok(encodedCommandArgs(register.command as string).join(" ").length < 16_000);
  assert.match(xml, /^<\?xml version="1\.0" encoding="UTF-16"\?>\n<Task version="1\.2" /);
  assert.equal(XMLValidator.validate(xml), true);
  const { Task } = new XMLParser().parse(xml);
  assert.deepEqual(Task.Triggers, {
    LogonTrigger: {
      Enabled: true,
      UserId: "CORP\\maria",
      Repetition: { Interval: "PT5M", StopAtDurationEnd: false },
    },
  });
  assert.deepEqual(Task.Principals.Principal, {
    UserId: "CORP\\maria",
    LogonType: "InteractiveToken",
    RunLevel: "LeastPrivilege",
  });
  assert.equal(Task.Settings.MultipleInstancesPolicy, "IgnoreNew");
  assert.equal(Task.Settings.ExecutionTimeLimit, "PT0S");
  // [MS-TSCH]: Count is at most 255, and a trigger's Repetition comes before its UserId.
  assert.deepEqual(Task.Settings.RestartOnFailure, { Interval: "PT1M", Count: 255 });
  const trigger = /<LogonTrigger>([\s\S]*)<\/LogonTrigger>/.exec(xml)![1];
  assert.deepEqual(
    [...trigger.matchAll(/^ {6}<(\w+)>/gm)].map((m) => m[1]),
    ["Repetition", "Enabled", "UserId"],
  );
  assert.equal(Task.Settings.DisallowStartIfOnBatteries, false);
  assert.equal(Task.Settings.StopIfGoingOnBatteries, false);
  // Under deno run the task starts Deno on the sources; a compiled agent.exe starts itself.
  assert.deepEqual(Task.Actions.Exec, {
    Command: Deno.execPath(),
    Arguments: [
      "run",
      ...PERMISSIONS,
      "--config",
      DENO_JSON,
      MAIN,
      "run",
      "--background",
      "--config",
      `"${config}"`,
    ].join(" "),
    WorkingDirectory: dirname(config),
  });
});

Deno.test("install refuses a config the agent could not run with", async () => {
  await using dir = await tempDir();
  const config = join(dir.path, "outlook_config.json");
  await Deno.writeTextFile(config, JSON.stringify(configObject({ agent_id: "" })));
  const run = await agent("install", config, "windows");
  assert.equal(run.code, 1);
  assert.match(run.stderr, /^invalid config .*\n {2}agent_id: /);
  assert.match(run.stderr, /Fix the config first: the service would fail with it\.$/);
  assert.deepEqual(run.records, []);
});

Deno.test("install on Windows: a refusal arrives in Windows' words, in UTF-8, with advice", async () => {
  const { dir, config } = await configIn();
  await using _ = dir;
  const run = await agent("install", config, "windows", { CALSYNC_STANDIN_DENIED: "register" });
  assert.equal(run.code, 1);
  assert.equal(
    run.stderr,
    'Task Scheduler could not create the task "CalSync Agent" (Register-ScheduledTask, ' +
      "HRESULT 0x80070005): Accès refusé.\n" +
      'Run "agent install" as the Windows user the agent is for, in a normal PowerShell ' +
      'window (not "Run as administrator"). If it still fails, a policy forbids this user to ' +
      "create scheduled tasks: ask an administrator.",
  );
  assert.deepEqual(
    run.records.map((r) => r.cmdlet),
    ["Stop-ScheduledTask", "Register-ScheduledTask"],
    "nothing is started after a failed registration",
  );
});

Deno.test("install on Windows: no task yet is fine; a stop refused is not", async () => {
  const { dir, config } = await configIn();
  await using _ = dir;
  const first = await agent("install", config, "windows", { CALSYNC_STANDIN_TASK: "missing" });
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(first.records.map((r) => r.cmdlet), [
    "Stop-ScheduledTask",
    "Register-ScheduledTask",
    "Start-ScheduledTask",
  ]);

  // The old agent would go on running with its old config: nothing is replaced.
  const stuck = await agent("install", config, "windows", { CALSYNC_STANDIN_DENIED: "stop" });
  assert.equal(stuck.code, 1);
  assert.match(
    stuck.stderr,
    /^Task Scheduler could not stop the task "CalSync Agent" \(Stop-ScheduledTask, HRESULT 0x80070005\): Accès refusé\.\n/,
  );
  assert.deepEqual(stuck.records.map((r) => r.cmdlet), ["Stop-ScheduledTask"]);
});

Deno.test("install on Windows: without the ScheduledTasks module or PowerShell, says so", async () => {
  const { dir, config } = await configIn();
  await using _ = dir;
  const old = await agent("install", config, "windows", { CALSYNC_STANDIN_TASK: "no-module" });
  assert.equal(old.code, 1);
  assert.equal(
    old.stderr,
    'Task Scheduler could not stop the task "CalSync Agent" (Stop-ScheduledTask): The term ' +
      "'Stop-ScheduledTask' is not recognized as the name of a cmdlet, function, script file, " +
      "or operable program. Check the spelling of the name, or if a path was included, verify " +
      "that the path is correct and try again.\n" +
      "PowerShell has no ScheduledTasks module here: the agent's task needs Windows 8 or " +
      "Windows Server 2012 or later.",
  );
  assert.deepEqual(old.records.map((r) => r.cmdlet), ["Stop-ScheduledTask"]);

  await using empty = await tempDir();
  const none = await runWith("install", config, "windows", { PATH: empty.path });
  assert.equal(none.code, 1);
  assert.equal(none.stderr, "cannot start powershell: not found");
});

Deno.test("uninstall on Windows: stops the agent, then unregisters the task", async () => {
  const { dir, config } = await configIn();
  await using _ = dir;
  const run = await agent("uninstall", config, "windows");
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(run.records.map((r) => r.command), [
    TASK_QUERY,
    TASK_STOP_COMMAND,
    TASK_UNREGISTER_COMMAND,
  ]);
  assert.deepEqual(run.records.map((r) => r.cmdlet), [
    "Get-ScheduledTask",
    "Stop-ScheduledTask",
    "Unregister-ScheduledTask",
  ]);
  assert.match(run.stdout, /^Stopped the agent and removed the task "CalSync Agent"\. /);

  const denied = await agent("uninstall", config, "windows", {
    CALSYNC_STANDIN_DENIED: "unregister",
  });
  assert.equal(denied.code, 1);
  assert.match(
    denied.stderr,
    /^Task Scheduler could not remove the task "CalSync Agent" \(Unregister-ScheduledTask, HRESULT 0x80070005\): Accès refusé\.\n/,
  );
});

Deno.test("uninstall on Windows: a missing task is nothing to remove, even when it goes meanwhile", async () => {
  const { dir, config } = await configIn();
  await using _ = dir;
  const missing = await agent("uninstall", config, "windows", { CALSYNC_STANDIN_TASK: "missing" });
  assert.equal(missing.code, 0);
  assert.equal(missing.stdout, 'The task "CalSync Agent" is not installed; nothing to remove.');
  assert.deepEqual(missing.records.map((r) => r.cmdlet), ["Get-ScheduledTask"]);

  const gone = await agent("uninstall", config, "windows", { CALSYNC_STANDIN_TASK: "vanished" });
  assert.equal(gone.code, 0, gone.stderr);
  assert.equal(gone.stdout, 'The task "CalSync Agent" is not installed; nothing to remove.');
  assert.deepEqual(gone.records.map((r) => r.cmdlet), ["Get-ScheduledTask", "Stop-ScheduledTask"]);
});

Deno.test("status on Windows: the task's state and the agent's last activity; 3 when missing", async () => {
  const { dir, config } = await configIn();
  await using _ = dir;
  await Deno.writeTextFile(
    join(dir.path, "calendar_agent_state.json"),
    JSON.stringify({
      agent_id: "office-pc",
      token: "t0k3n-0123456789",
      sources: {
        "main": { snapshot_hash: "a", accepted_at: "2026-11-30T08:02:14Z" },
        "team": { snapshot_hash: "b", accepted_at: "2026-11-29T17:45:00Z" },
      },
    }),
  );
  await Deno.writeTextFile(
    join(dir.path, "calendar_agent.log"),
    '2026-11-30T08:02:14.001Z INFO  source "main": uploaded 12 occurrences\n' +
      '2026-11-30T08:07:15.420Z ERROR source "team": Outlook did not answer within 120 s\n',
  );
  const run = await agent("status", config, "windows");
  assert.equal(run.code, 0, run.stderr);
  assert.equal(
    run.stdout,
    [
      'The task "CalSync Agent" is installed.',
      "  status:      Running",
      "  last run:    2026-11-30T08:02:11Z",
      "  last result: 267009 (0x41301: running now)",
      'Last snapshot accepted by the master: 2026-11-30T08:02:14Z (source "main")',
      `Log: ${join(dir.path, "calendar_agent.log")}`,
      '  last line: 2026-11-30T08:07:15.420Z ERROR source "team": Outlook did not answer ' +
      "within 120 s",
    ].join("\n"),
  );
  // Read through PowerShell's ScheduledTasks module as UTF-8 JSON, not schtasks' OEM text.
  assert.deepEqual(run.records, [{ command: TASK_QUERY, cmdlet: "Get-ScheduledTask" }]);

  const old = await agent("status", config, "windows", { CALSYNC_STANDIN_TASK: "no-module" });
  assert.equal(old.code, 1, "unreadable is neither installed nor missing");
  assert.match(
    old.stderr,
    /^cannot read the task "CalSync Agent" from Task Scheduler: PowerShell exited with 1: Get-ScheduledTask : The term 'Get-ScheduledTask' is not recognized/,
  );

  const never = await agent("status", config, "windows", { CALSYNC_STANDIN_TASK: "never-run" });
  assert.equal(never.code, 0, never.stderr);
  assert.match(
    never.stdout,
    /\n {2}status: {6}Ready\n {2}last run: {4}never\n {2}last result: 267011 \(0x41303: has not run yet\)\n/,
  );

  const missing = await agent("status", config, "windows", { CALSYNC_STANDIN_TASK: "missing" });
  assert.equal(missing.code, 3);
  assert.equal(
    missing.stdout,
    [
      'The task "CalSync Agent" is not installed ("agent install" sets it up).',
      'Last snapshot accepted by the master: 2026-11-30T08:02:14Z (source "main")',
      `Log: ${join(dir.path, "calendar_agent.log")}`,
      '  last line: 2026-11-30T08:07:15.420Z ERROR source "team": Outlook did not answer ' +
      "within 120 s",
    ].join("\n"),
  );
});

Deno.test("install on Linux: prints a systemd user unit and the steps, touching nothing", async () => {
  const { dir, config } = await configIn("my agent");
  await using _ = dir;
  const run = await agent("install", config, "linux");
  assert.equal(run.code, 0, run.stderr);
  const deno = [Deno.execPath(), "run", ...PERMISSIONS, "--config", DENO_JSON, MAIN];
  // systemd keeps the console output in its journal: no --background.
  const words = [...deno, "run"];
  assert.equal(
    run.stdout,
    [
      "[Unit]",
      "Description=calsync agent: sends calendars to the calsync master",
      "",
      "[Service]",
      "Type=simple",
      `ExecStart=${words.join(" ")} --config "${config}"`,
      `WorkingDirectory=${dirname(config)}`,
      "Restart=on-failure",
      "RestartSec=60",
      "",
      "[Install]",
      "WantedBy=default.target",
      "",
    ].join("\n"),
  );
  assert.match(
    run.stderr,
    /^The unit above goes into ~\/\.config\/systemd\/user\/calsync-agent\.service/,
  );
  assert.match(run.stderr, /\n {2}systemctl --user enable --now calsync-agent\n/);
  assert.deepEqual(run.records, [], "no program was started");

  const removal = await agent("uninstall", config, "linux");
  assert.equal(removal.code, 0);
  assert.match(removal.stdout, /\n {2}systemctl --user disable --now calsync-agent\n/);
  assert.deepEqual(removal.records, []);
});

Deno.test("status on Linux: systemctl's answer decides; no systemctl is explained", async () => {
  const { dir, config } = await configIn();
  await using _ = dir;
  const active = await agent("status", config, "linux");
  assert.equal(active.code, 0);
  assert.match(active.stdout, /^The systemd user unit calsync-agent is active\.\n/);
  assert.deepEqual(active.records.map((r) => r.args), [["--user", "is-active", "calsync-agent"]]);

  const stopped = await agent("status", config, "linux", { CALSYNC_STANDIN_UNIT_STATE: "failed" });
  assert.equal(stopped.code, 3);
  assert.match(stopped.stdout, /^The systemd user unit calsync-agent is failed /);

  await using empty = await tempDir();
  const none = await runWith("status", config, "linux", { PATH: empty.path });
  assert.equal(none.code, 3);
  assert.match(none.stdout, /^systemctl is not available here, so the agent is not run by systemd/);
  assert.match(none.stdout, /\nLast snapshot accepted by the master: none yet /);
});

Deno.test("command lines are quoted as Windows and systemd split them", () => {
  assert.equal(windowsArgument("run"), "run");
  assert.equal(windowsArgument("C:\\Calendar Agent\\cfg.json"), '"C:\\Calendar Agent\\cfg.json"');
  assert.equal(windowsArgument('say "hi"'), '"say \\"hi\\""');
  assert.equal(windowsArgument("C:\\dir with space\\"), '"C:\\dir with space\\\\"');
  assert.equal(windowsArgument(""), '""');
  assert.equal(systemdWord("/opt/agent"), "/opt/agent");
  assert.equal(systemdWord("/home/ann/my agent"), '"/home/ann/my agent"');
  assert.equal(systemdWord("/srv/100%/$HOME"), "/srv/100%%/$$HOME");
  assert.equal(systemdWord('a"b\\c'), '"a\\"b\\\\c"');
});
