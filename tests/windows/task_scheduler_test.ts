/**
 * The agent's task against the real Task Scheduler: the XML of `task_xml.ts` registered
 * by `schtasks /Create /XML`, and `createTask`, `queryTask` and `deleteTask` of
 * `task_scheduler.ts` on a task that runs a harmless `Start-Sleep`.
 *
 * The lifecycle test uses the agent's own task name, which the module does not let one
 * change: it refuses to run where that task exists (an installed agent), and always
 * deletes what it created.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type AgentLaunch, agentLaunch } from "../../agent/windows/launch.ts";
import { decodeText, type ProgramResult, runProgram } from "../../agent/windows/program.ts";
import {
  createTask,
  deleteTask,
  queryTask,
  TASK_NAME,
} from "../../agent/windows/task_scheduler.ts";
import { Buffer } from "node:buffer";
import { taskXml, windowsArgument } from "../../agent/windows/task_xml.ts";
import {
  NOT_WINDOWS,
  powershellValue,
  processesLeft,
  processesWithCommandLine,
  psString,
} from "./helpers.ts";

/** The account the tests run as, `DOMAIN\user`, as `agent install` names it. */
function currentUser(): string {
  const user = Deno.env.get("USERNAME");
  assert.ok(user, "USERNAME is not set");
  const domain = Deno.env.get("USERDOMAIN");
  return domain ? `${domain}\\${user}` : user;
}

/** Windows PowerShell by its full path, as a task's action names its program. */
function powershellPath(): string {
  const root = Deno.env.get("SystemRoot") ?? "C:\\Windows";
  return join(root, "System32", "WindowsPowerShell", "v1.0", "powershell.exe");
}

function schtasks(args: string[]): Promise<ProgramResult> {
  return runProgram("schtasks.exe", args, { timeoutMs: 60_000 });
}

function said(result: ProgramResult): string {
  return `exit code ${result.code}: ${decodeText(result.stderr)}${decodeText(result.stdout)}`;
}

/** What Task Scheduler registered as the task's action. */
interface RegisteredAction {
  execute: string;
  arguments: string;
  workingDirectory: string;
}

Deno.test({
  name: "Task Scheduler accepts taskXml() for an agent in a folder with a space, as written",
  ignore: NOT_WINDOWS,
  async fn() {
    // Task Scheduler validates task XML against its schema and refuses what does not
    // conform ([MS-TSCH] 2.5 "XML Task Definition Format",
    // https://learn.microsoft.com/openspecs/windows_protocols/ms-tsch/0d6383e4-de92-43e7-b0bb-a60cfa36379f),
    // so registering it is the real check; `/XML` and `/F` as in "schtasks create",
    // https://learn.microsoft.com/windows-server/administration/windows-commands/schtasks-create.
    const dir = await Deno.makeTempDir({ prefix: "calsync task " });
    const launch = agentLaunch(join(dir, "outlook_config.json"), true);
    const file = join(dir, "task.xml");
    // schtasks /XML reads a file reliably as UTF-16LE with a byte-order mark.
    const xml = "\uFEFF" + taskXml({ userId: currentUser(), launch });
    await Deno.writeFile(file, Buffer.from(xml, "utf16le"));
    // A name of its own, so that an installed agent's task is never touched.
    const name = `CalSync schema check ${crypto.randomUUID()}`;
    try {
      const created = await schtasks(["/Create", "/XML", file, "/TN", name, "/F"]);
      assert.equal(created.code, 0, `schtasks /Create /XML refused the task XML, ${said(created)}`);
      const action = await powershellValue(
        `$task = Get-ScheduledTask -TaskPath '\\' -TaskName ${psString(name)}\n` +
          "$exec = $task.Actions[0]",
        "[ordered]@{ execute = $exec.Execute; arguments = $exec.Arguments; " +
          "workingDirectory = $exec.WorkingDirectory }",
      ) as RegisteredAction;
      assert.deepEqual(
        action,
        {
          execute: launch.program,
          arguments: launch.args.map(windowsArgument).join(" "),
          workingDirectory: launch.workingDirectory,
        } satisfies RegisteredAction,
      );
    } finally {
      await schtasks(["/Delete", "/TN", name, "/F"]);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "createTask starts the task, queryTask reads it, deleteTask ends and removes it",
  ignore: NOT_WINDOWS,
  async fn() {
    assert.equal(
      await queryTask({}),
      null,
      `the task "${TASK_NAME}" exists on this PC (an installed agent?); this test would ` +
        "replace and delete it, so it does not run here. Uninstall the agent first.",
    );
    // The marker tells this test's PowerShell from any other in the process list.
    const marker = `calsync-task-test-${crypto.randomUUID()}`;
    const launch: AgentLaunch = {
      program: powershellPath(),
      args: ["-NoProfile", "-NonInteractive", "-Command", `Start-Sleep 600 <# ${marker} #>`],
      workingDirectory: Deno.cwd(),
    };
    try {
      await createTask(taskXml({ userId: currentUser(), launch }), {});
      const state = await queryTask({});
      assert.ok(
        state !== null && ["Running", "Ready"].includes(state.status),
        `after createTask: ${JSON.stringify(state)}`,
      );
      if (state.status === "Running") {
        assert.notDeepEqual(await processesWithCommandLine(marker), [], "no process runs the task");
      }
      await deleteTask({});
      assert.equal(await queryTask({}), null, "the task is still there after deleteTask");
      assert.deepEqual(await processesLeft(marker), [], "the task's program still runs");
    } finally {
      // After a failure above: a task left behind would start again at every logon.
      await deleteTask({}).catch(() => {});
    }
  },
});
