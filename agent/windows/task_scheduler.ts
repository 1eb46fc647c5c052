/**
 * The agent's task in the Windows Task Scheduler: created from XML, started, ended and
 * deleted through `schtasks.exe`, and its state read through PowerShell's ScheduledTasks
 * module, whose answer comes as JSON in UTF-8 with names that Windows does not translate.
 * (`schtasks /Query` prints translated labels and values in the console's OEM code page.)
 *
 * @module
 */
import { z } from "zod";
import { decodeText, type ProgramResult, runProgram } from "./program.ts";
import { encodedCommandArgs, jsonOutput, POWERSHELL } from "./powershell.ts";
import { utf16le } from "./task_xml.ts";

/** The task's name in Task Scheduler. */
export const TASK_NAME = "CalSync Agent";

/** `schtasks` as Windows names it; elsewhere only tests call it, through a stand-in. */
const SCHTASKS = Deno.build.os === "windows" ? "schtasks.exe" : "schtasks";

/** schtasks answers within seconds; a minute means it hangs. */
const TIMEOUT_MS = 60_000;

/** Extra environment for `schtasks` (tests put a stand-in first on `PATH`). */
export type SchtasksEnv = Record<string, string>;

/** What Task Scheduler tells about the task. */
export interface TaskState {
  /** `Ready`, `Running`, `Disabled`, `Queued` or `Unknown` (the same in every language). */
  status: string;
  /** When it last started, a UTC instant; null before the first run. */
  lastRunTime: string | null;
  /** The last run's result code. */
  lastResult: number;
}

/** A schtasks call that failed, with what schtasks said. */
export class SchtasksError extends Error {
  /** Creates the error for `action` and schtasks' answer. */
  constructor(action: string, result: ProgramResult) {
    const said = (decodeText(result.stderr) + decodeText(result.stdout)).trim();
    super(`schtasks could not ${action} (exit code ${result.code})${said ? `: ${said}` : ""}`);
    this.name = "SchtasksError";
  }
}

function schtasks(args: string[], env: SchtasksEnv): Promise<ProgramResult> {
  return runProgram(SCHTASKS, args, { timeoutMs: TIMEOUT_MS, env });
}

/**
 * Creates the task from `xml`, replacing one of the same name, then starts it. A running
 * instance is ended first: with the IgnoreNew policy `/Run` does nothing while one runs,
 * and the old agent with its old config would go on until the next logon.
 */
export async function createTask(xml: string, env: SchtasksEnv): Promise<void> {
  // /End fails when there is no task yet or it does not run, which is fine.
  await schtasks(["/End", "/TN", TASK_NAME], env);
  const file = await Deno.makeTempFile({ prefix: "calsync-task-", suffix: ".xml" });
  try {
    await Deno.writeFile(file, utf16le(xml));
    const created = await schtasks(["/Create", "/TN", TASK_NAME, "/XML", file, "/F"], env);
    if (created.code !== 0) throw new SchtasksError(`create the task "${TASK_NAME}"`, created);
  } finally {
    await Deno.remove(file).catch(() => {});
  }
  // Started now rather than at the next logon, so the agent runs as soon as it is installed.
  const started = await schtasks(["/Run", "/TN", TASK_NAME], env);
  if (started.code !== 0) throw new SchtasksError(`start the task "${TASK_NAME}"`, started);
}

/** Ends the agent if it runs and deletes the task. */
export async function deleteTask(env: SchtasksEnv): Promise<void> {
  // /End fails when the task is not running, which is fine: deleting is what matters.
  await schtasks(["/End", "/TN", TASK_NAME], env);
  const deleted = await schtasks(["/Delete", "/TN", TASK_NAME, "/F"], env);
  if (deleted.code !== 0) throw new SchtasksError(`delete the task "${TASK_NAME}"`, deleted);
}

/** The answer of {@link TASK_QUERY}. */
const TaskAnswer = z.union([
  z.object({ found: z.literal(false) }),
  z.object({
    found: z.literal(true),
    state: z.string(),
    last_run_time: z.string().nullable(),
    last_result: z.number().int(),
  }),
]);

/**
 * PowerShell 5.1 that answers `{"found": false}` or the task's state, last run (UTC, null
 * when it never ran: Task Scheduler then reports 30 November 1999) and last result.
 * `State` is an enumeration, written by name, not as the number ConvertTo-Json would give.
 */
export const TASK_QUERY = [
  "$ErrorActionPreference = 'Stop'",
  `$task = Get-ScheduledTask -TaskPath '\\' -TaskName '${TASK_NAME.replaceAll("'", "''")}' ` +
  "-ErrorAction SilentlyContinue",
  "if ($null -eq $task) { $answer = [ordered]@{ found = $false } } else {",
  "  $info = Get-ScheduledTaskInfo -InputObject $task",
  "  $lastRun = $null",
  "  if ($null -ne $info.LastRunTime -and $info.LastRunTime.Year -ge 2000) {",
  "    $lastRun = $info.LastRunTime.ToUniversalTime().ToString(" +
  "\"yyyy-MM-dd'T'HH:mm:ss'Z'\", [System.Globalization.CultureInfo]::InvariantCulture)",
  "  }",
  "  $answer = [ordered]@{",
  "    found = $true",
  "    state = [string]$task.State",
  "    last_run_time = $lastRun",
  "    last_result = [int64]$info.LastTaskResult",
  "  }",
  "}",
  jsonOutput("$answer"),
].join("\n");

/** A failure to read the task's state, with what PowerShell said. */
export class TaskQueryError extends Error {
  /** Creates the error from PowerShell's answer. */
  constructor(detail: string) {
    super(`cannot read the task "${TASK_NAME}" from Task Scheduler: ${detail}`);
    this.name = "TaskQueryError";
  }
}

/** The task's state, or null when there is no such task. */
export async function queryTask(env: SchtasksEnv): Promise<TaskState | null> {
  const result = await runProgram(POWERSHELL, encodedCommandArgs(TASK_QUERY), {
    timeoutMs: TIMEOUT_MS,
    env,
  });
  const said = decodeText(result.stdout).trim();
  if (result.code !== 0) {
    throw new TaskQueryError(
      `PowerShell exited with ${result.code}: ${decodeText(result.stderr).trim() || said}`,
    );
  }
  let answer: z.output<typeof TaskAnswer>;
  try {
    answer = TaskAnswer.parse(JSON.parse(said));
  } catch {
    throw new TaskQueryError(`PowerShell answered ${JSON.stringify(said.slice(0, 200))}`);
  }
  if (!answer.found) return null;
  return {
    status: answer.state,
    lastRunTime: answer.last_run_time,
    lastResult: answer.last_result,
  };
}

/** Result codes of Task Scheduler that say more than a number. */
const RESULTS: Record<number, string> = {
  0: "ended normally",
  0x41301: "running now",
  0x41303: "has not run yet",
  0x41306: "was ended by the user or Task Scheduler",
};

/** A task's last result, such as `267009 (0x41301: running now)`. */
export function describeResult(code: number): string {
  const hex = `0x${(code >>> 0).toString(16).toUpperCase()}`;
  return `${code} (${hex}${code in RESULTS ? `: ${RESULTS[code]}` : ""})`;
}
