/**
 * The PowerShell commands that stop, register, start and unregister the agent's task: parsed
 * with a real PowerShell grammar (they cannot run here), and how their answers, or PowerShell
 * failing before it answers, become the agent's messages.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Node } from "web-tree-sitter";
import {
  createTask,
  deleteTask,
  TASK_START_COMMAND,
  TASK_STOP_COMMAND,
  TASK_UNREGISTER_COMMAND,
  taskRegisterCommand,
  TaskSchedulerError,
} from "../../agent/windows/task_scheduler.ts";
import { agentLaunch } from "../../agent/windows/launch.ts";
import { taskXml } from "../../agent/windows/task_xml.ts";
import { firstSyntaxError, loadPowerShell } from "../helpers/powershell_grammar.ts";
import { standIns } from "../stand-ins/mod.ts";
import { tempDir } from "./helpers.ts";

const parser = await loadPowerShell();

function parse(source: string): Node {
  const tree = parser.parse(source);
  assert.ok(tree, "the parser returned no tree");
  return tree.rootNode;
}

const XML = taskXml({
  userId: "CORP\\o'brien",
  launch: agentLaunch("C:\\Agenda d'équipe\\outlook_config.json", true),
});

const COMMANDS = {
  stop: {
    text: TASK_STOP_COMMAND,
    call: "Stop-ScheduledTask -TaskPath '\\' -TaskName 'CalSync Agent'",
  },
  register: {
    text: taskRegisterCommand(XML),
    call: "Register-ScheduledTask -TaskPath '\\' -TaskName 'CalSync Agent' -Xml $xml -Force",
  },
  start: {
    text: TASK_START_COMMAND,
    call: "Start-ScheduledTask -TaskPath '\\' -TaskName 'CalSync Agent'",
  },
  unregister: {
    text: TASK_UNREGISTER_COMMAND,
    call: "Unregister-ScheduledTask -TaskPath '\\' -TaskName 'CalSync Agent' -Confirm:$false",
  },
};

for (const [step, { text, call }] of Object.entries(COMMANDS)) {
  Deno.test(`the ${step} command parses as PowerShell and answers one JSON as UTF-8 bytes`, () => {
    const root = parse(text);
    assert.equal(firstSyntaxError(root), null);
    assert.match(text, /^\$ErrorActionPreference = 'Stop'\ntry \{\n/);
    // Its output discarded: only the JSON answer may reach standard output.
    assert.ok(text.includes(`\n  $null = ${call}\n`), text);
    assert.ok(text.includes(`\n    step = '${step}'\n`));
    assert.match(text, /\[Console\]::OpenStandardOutput\(\)/);
    const tries = root.descendantsOfType("try_statement");
    assert.equal(tries.length, 1);
    assert.equal(tries[0]?.descendantsOfType("catch_clause").length, 1);
  });
}

Deno.test("the register command carries the XML as base64 of UTF-8, no quote left to escape", () => {
  const literal = /FromBase64String\('([A-Za-z0-9+/=]+)'\)/.exec(COMMANDS.register.text);
  assert.ok(literal);
  const decoded = new TextDecoder().decode(
    Uint8Array.from(atob(literal[1]), (c) => c.charCodeAt(0)),
  );
  assert.equal(decoded, XML);
  assert.ok(XML.includes("o&apos;brien") && XML.includes("équipe"));
});

/** A `powershell` in a folder of its own that prints `stdout` and `stderr`, then exits. */
async function fakePowerShell(folder: string, stdout: string, stderr: string, code: number) {
  const script = join(folder, "powershell");
  await Deno.writeTextFile(
    script,
    `#!/bin/sh\nprintf '%s' '${stdout}'\nprintf '%s' '${stderr}' >&2\nexit ${code}\n`,
  );
  await Deno.chmod(script, 0o755);
  return { PATH: folder };
}

Deno.test("PowerShell failing before it answers is reported with its words and exit code", async () => {
  await using dir = await tempDir();
  const env = await fakePowerShell(
    dir.path,
    "",
    "Stop-ScheduledTask : Le terme « Stop-ScheduledTask » n’est pas reconnu. " +
      "+ FullyQualifiedErrorId : CommandNotFoundException",
    1,
  );
  const error = await createTask(XML, env).then(() => null, (e) => e);
  assert.ok(error instanceof TaskSchedulerError);
  assert.equal(
    error.message,
    'PowerShell could not stop the task "CalSync Agent": it exited with 1 before answering: ' +
      "Stop-ScheduledTask : Le terme « Stop-ScheduledTask » n’est pas reconnu. " +
      "+ FullyQualifiedErrorId : CommandNotFoundException\n" +
      "PowerShell has no ScheduledTasks module here: the agent's task needs Windows 8 or " +
      "Windows Server 2012 or later.",
  );
});

Deno.test("with a JSON answer, PowerShell's own stderr stays out of the message", async () => {
  await using dir = await tempDir();
  const answer = JSON.stringify({
    ok: false,
    step: "stop",
    message: "Le service Planificateur de tâches n’est pas disponible.",
    error_id: "HRESULT 0x80041315,Stop-ScheduledTask",
    hresult: "0x80041315",
  });
  const env = await fakePowerShell(dir.path, answer, "noise from a profile", 1);
  const error = await deleteTask(env).then(() => null, (e) => e);
  assert.ok(error instanceof TaskSchedulerError);
  assert.equal(
    error.message,
    'Task Scheduler could not stop the task "CalSync Agent" (Stop-ScheduledTask, ' +
      "HRESULT 0x80041315): Le service Planificateur de tâches n’est pas disponible.\n" +
      'The Task Scheduler service is not running: start "Task Scheduler" in services.msc, or ' +
      "ask an administrator.",
  );
});

Deno.test("an XML too long for a Windows command line is refused before anything runs", async () => {
  await using stand = await standIns();
  const huge = XML.replace("</Task>", `<!--${"x".repeat(12_000)}--></Task>`);
  await assert.rejects(
    createTask(huge, stand.env),
    (error) =>
      error instanceof TaskSchedulerError &&
      error.message === 'cannot create the task "CalSync Agent": its PowerShell command would ' +
          "exceed the 32,767 characters of a Windows command line",
  );
  assert.deepEqual(await stand.records(), [], "the running agent was not even stopped");
});
