/**
 * The agent's task in the Windows Task Scheduler, managed through PowerShell's ScheduledTasks
 * module: read, stopped, registered from XML, started and unregistered. Each command writes
 * one JSON answer as UTF-8 bytes, with names Windows does not translate, so a localised
 * message ("Accès refusé.") arrives intact; `schtasks.exe` prints translated text in the
 * console's OEM code page instead.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { z } from "zod";
import { decodeText, type ProgramResult, runProgram } from "./program.ts";
import { encodedCommandArgs, jsonOutput, POWERSHELL } from "./powershell.ts";

/** The task's name in Task Scheduler. */
export const TASK_NAME = "CalSync Agent";

/** PowerShell and the ScheduledTasks module answer within seconds; a minute means a hang. */
const TIMEOUT_MS = 60_000;

/** Extra environment for PowerShell (tests put a stand-in first on `PATH`). */
export type TaskSchedulerEnv = Record<string, string>;

/** What Task Scheduler tells about the task. */
export interface TaskState {
  /** `Ready`, `Running`, `Disabled`, `Queued` or `Unknown` (the same in every language). */
  status: string;
  /** When it last started, a UTC instant; null before the first run. */
  lastRunTime: string | null;
  /** The last run's result code. */
  lastResult: number;
}

/** The ScheduledTasks cmdlet each command runs, by the step it is in the agent's words. */
const CMDLETS = {
  stop: "Stop-ScheduledTask",
  register: "Register-ScheduledTask",
  start: "Start-ScheduledTask",
  unregister: "Unregister-ScheduledTask",
} as const;

/** One step of installing or removing the task. */
export type TaskStep = keyof typeof CMDLETS;

/** The task in the root folder, as every ScheduledTasks cmdlet is given it. */
const TASK_ADDRESS = `-TaskPath '\\' -TaskName '${TASK_NAME.replaceAll("'", "''")}'`;

/**
 * PowerShell that runs `call` (its output discarded: only the JSON answer may reach standard
 * output) and answers `{"ok":true}`, or what failed: the message, the error's invariant id
 * (`CmdletizationQuery_NotFound_TaskName,…` for a missing task, `CommandNotFoundException`
 * without the module) and, when Task Scheduler refused, its HRESULT.
 *
 * The HRESULT comes from the CimException's error data, an MSFT_WmiError whose `error_Code`
 * is an HRESULT or a Win32 code as `error_Type` says ("MSFT_WmiError class",
 * https://learn.microsoft.com/previous-versions/windows/desktop/ramgmtpsprov/msft-wmierror;
 * CimException.ErrorData, https://learn.microsoft.com/previous-versions/windows/desktop/wmi_v2/mi-managed-api/hh832325(v=vs.85);
 * the types MI_RESULT_TYPE_HRESULT and MI_RESULT_TYPE_WIN32 of "MI_Utilities_CimErrorFromErrorCode").
 * A Win32 code becomes HRESULT_FROM_WIN32 (0x80070000 + code, written in decimal so that the
 * sum is positive whatever type a PowerShell version gives a hexadecimal literal with the top
 * bit set; "about_Numeric_Literals"). Errors PowerShell raises itself carry
 * no HRESULT of Task Scheduler's, so theirs is null. No type literal names the CIM classes:
 * without the module their assembly may not be loaded, and the catch block must not fail.
 */
function stepCommand(step: TaskStep, setup: string[], call: string): string {
  return [
    "$ErrorActionPreference = 'Stop'",
    "try {",
    ...setup.map((line) => `  ${line}`),
    `  $null = ${call}`,
    "  $answer = [ordered]@{ ok = $true }",
    "} catch {",
    "  $answer = [ordered]@{",
    "    ok = $false",
    `    step = '${step}'`,
    "    message = [string]$_.Exception.Message",
    "    error_id = [string]$_.FullyQualifiedErrorId",
    "    hresult = $null",
    "  }",
    "  $details = $_.Exception.PSObject.Properties['ErrorData']",
    "  if ($null -ne $details -and $null -ne $details.Value) {",
    "    $code = $details.Value.CimInstanceProperties['error_Code']",
    "    $type = $details.Value.CimInstanceProperties['error_Type']",
    "    if ($null -ne $code -and $null -ne $code.Value -and $null -ne $type) {",
    "      if ($type.Value -eq 'HRESULT') {",
    "        $answer.hresult = '0x{0:X8}' -f [uint32]$code.Value",
    "      } elseif ($type.Value -eq 'Win32' -and $code.Value -gt 0 -and $code.Value -le 65535) {",
    "        $answer.hresult = '0x{0:X8}' -f [uint32](2147942400 + $code.Value)",
    "      }",
    "    }",
    "  }",
    "}",
    jsonOutput("$answer"),
  ].join("\n");
}

/**
 * Stops every running instance of the task ("Stop-ScheduledTask",
 * https://learn.microsoft.com/powershell/module/scheduledtasks/stop-scheduledtask).
 */
export const TASK_STOP_COMMAND = stepCommand("stop", [], `${CMDLETS.stop} ${TASK_ADDRESS}`);

/**
 * Starts the task now ("Start-ScheduledTask",
 * https://learn.microsoft.com/powershell/module/scheduledtasks/start-scheduledtask).
 */
export const TASK_START_COMMAND = stepCommand("start", [], `${CMDLETS.start} ${TASK_ADDRESS}`);

/**
 * Deletes the task without asking ("Unregister-ScheduledTask",
 * https://learn.microsoft.com/powershell/module/scheduledtasks/unregister-scheduledtask).
 */
export const TASK_UNREGISTER_COMMAND = stepCommand(
  "unregister",
  [],
  `${CMDLETS.unregister} ${TASK_ADDRESS} -Confirm:$false`,
);

/**
 * Registers the task from `xml`, replacing one of the same name (-Force;
 * "Register-ScheduledTask", https://learn.microsoft.com/powershell/module/scheduledtasks/register-scheduledtask:
 * -Xml takes the definition as a string). The XML travels as base64 of its UTF-8 bytes,
 * decoded inside the command, so no character of it can end a PowerShell string literal.
 * Its declaration says UTF-16, which is what a .NET string is once decoded: Task Scheduler
 * receives the text as a BSTR ("ITaskFolder::RegisterTask",
 * https://learn.microsoft.com/windows/win32/api/taskschd/nf-taskschd-itaskfolder-registertask).
 */
export function taskRegisterCommand(xml: string): string {
  const encoded = Buffer.from(xml, "utf8").toString("base64");
  return stepCommand(
    "register",
    [`$xml = [System.Text.Encoding]::UTF8.GetString([System.Convert]::FromBase64String('${encoded}'))`],
    `${CMDLETS.register} ${TASK_ADDRESS} -Xml $xml -Force`,
  );
}

/**
 * The longest command line Windows starts: 32,767 characters with the terminating null
 * ("CreateProcessW function", lpCommandLine,
 * https://learn.microsoft.com/windows/win32/api/processthreadsapi/nf-processthreadsapi-createprocessw).
 * PowerShell's own path (at most MAX_PATH, 260) and the blanks between arguments come on
 * top of the arguments. The register command is the largest: its XML as base64 of UTF-8
 * (×4/3) inside about 1,300 characters of PowerShell, all as base64 of UTF-16 (×8/3), so
 * the agent's XML of about 2,000 characters makes about 10,500, and an XML of up to about
 * 8,000 characters (long paths) would fit.
 */
const MAX_ARGUMENTS = 32_767 - 1 - 260 - 1;

/** The answer of a {@link stepCommand}. */
const StepAnswer = z.union([
  z.object({ ok: z.literal(true) }),
  z.object({
    ok: z.literal(false),
    step: z.enum(Object.keys(CMDLETS) as [TaskStep, ...TaskStep[]]),
    message: z.string(),
    error_id: z.string(),
    hresult: z.string().regex(/^0x[0-9A-F]{8}$/).nullable(),
  }),
]);

/** What a step that failed answered. */
export type StepFailure = Extract<z.output<typeof StepAnswer>, { ok: false }>;

/**
 * Advice for HRESULTs a user can act on, from "COM Error Codes" (E_ACCESSDENIED) and "Task
 * Scheduler Error and Success Constants"
 * (https://learn.microsoft.com/windows/win32/taskschd/task-scheduler-error-and-success-constants).
 */
const ADVICE: Record<string, string> = {
  "0x80070005": 'Run "agent install" as the Windows user the agent is for, in a normal ' +
    'PowerShell window (not "Run as administrator"). If it still fails, a policy forbids ' +
    "this user to create scheduled tasks: ask an administrator.",
  "0x80041315": 'The Task Scheduler service is not running: start "Task Scheduler" in ' +
    "services.msc, or ask an administrator.",
  "0x80041316": "Task Scheduler refused the task's XML: please report this message.",
  "0x80041318": "Task Scheduler refused the task's XML: please report this message.",
  "0x80041319": "Task Scheduler refused the task's XML: please report this message.",
  "0x8004131A": "Task Scheduler refused the task's XML: please report this message.",
  "0x8004131F": 'An older agent still runs: end it (Stop-ScheduledTask -TaskName "CalSync ' +
    'Agent") and run "agent install" again.',
  "0x80041326": "The task is disabled: enable it in Task Scheduler (taskschd.msc) or run " +
    '"agent install" again.',
};

/** SCHED_E_TASK_NOT_RUNNING: "There is no running instance of the task." */
const NOT_RUNNING = "0x8004130B";

/** What each step does, for messages. */
const DOING: Record<TaskStep, string> = {
  stop: "stop",
  register: "create",
  start: "start",
  unregister: "remove",
};

/** Why the ScheduledTasks module may be missing, and what is needed. */
const NO_MODULE = "PowerShell has no ScheduledTasks module here: the agent's task needs " +
  "Windows 8 or Windows Server 2012 or later.";

/** A Task Scheduler operation that failed, with what Windows said, in UTF-8. */
export class TaskSchedulerError extends Error {
  /** Creates the error from its full message. */
  constructor(message: string) {
    super(message);
    this.name = "TaskSchedulerError";
  }

  /** The error for a step that answered a failure. */
  static fromAnswer(failure: StepFailure): TaskSchedulerError {
    const code = failure.hresult === null ? "" : `, HRESULT ${failure.hresult}`;
    const said = `Task Scheduler could not ${DOING[failure.step]} the task "${TASK_NAME}" ` +
      `(${CMDLETS[failure.step]}${code}): ${failure.message.trim()}`;
    const advice = failure.error_id.startsWith("CommandNotFoundException")
      ? NO_MODULE
      : ADVICE[failure.hresult ?? ""];
    return new TaskSchedulerError(advice ? `${said}\n${advice}` : said);
  }

  /** The error for PowerShell failing before it answered. */
  static fromSilence(step: TaskStep, result: ProgramResult): TaskSchedulerError {
    const said = (decodeText(result.stderr).trim() || decodeText(result.stdout).trim())
      .slice(0, 500);
    // The error's invariant id, not its translated text, tells that a cmdlet is missing.
    const missing = /CommandNotFoundException/.test(said) ? `\n${NO_MODULE}` : "";
    return new TaskSchedulerError(
      `PowerShell could not ${DOING[step]} the task "${TASK_NAME}": it exited with ` +
        `${result.code} before answering${said ? `: ${said}` : ""}${missing}`,
    );
  }
}

/** Whether a step failed because there is no such task. */
function taskMissing(failure: StepFailure): boolean {
  // The cmdlets find the task by a query; finding none is reported under this invariant id
  // (PowerShell's cmdletization, QueryJobBase.OnCompleted, ObjectNotFound).
  return failure.error_id.startsWith("CmdletizationQuery_NotFound");
}

/**
 * The PowerShell arguments for one step's command; refused before anything runs when they
 * would not fit on a Windows command line.
 */
function stepArgs(step: TaskStep, command: string): string[] {
  const args = encodedCommandArgs(command);
  if (args.join(" ").length > MAX_ARGUMENTS) {
    throw new TaskSchedulerError(
      `cannot ${DOING[step]} the task "${TASK_NAME}": its PowerShell command would exceed ` +
        "the 32,767 characters of a Windows command line",
    );
  }
  return args;
}

/** Runs one step; null when it succeeded, else what failed. */
async function runStep(
  step: TaskStep,
  args: string[],
  env: TaskSchedulerEnv,
): Promise<StepFailure | null> {
  const result = await runProgram(POWERSHELL, args, { timeoutMs: TIMEOUT_MS, env });
  // A JSON answer says it all; PowerShell's own stderr then adds nothing but noise.
  const parsed = StepAnswer.safeParse(parseJson(decodeText(result.stdout)));
  if (!parsed.success) throw TaskSchedulerError.fromSilence(step, result);
  return parsed.data.ok ? null : parsed.data;
}

/** `text` parsed as JSON, or undefined when it is not JSON. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Stops the running agent. Fine when nothing runs (SCHED_E_TASK_NOT_RUNNING); false when
 * there is no task.
 */
async function stopTask(env: TaskSchedulerEnv): Promise<boolean> {
  const failure = await runStep("stop", stepArgs("stop", TASK_STOP_COMMAND), env);
  if (failure === null || failure.hresult === NOT_RUNNING) return true;
  if (taskMissing(failure)) return false;
  throw TaskSchedulerError.fromAnswer(failure);
}

/**
 * Creates the task from `xml`, replacing one of the same name, then starts it. A running
 * instance is stopped first: with the IgnoreNew policy a start does nothing while one runs,
 * and the old agent with its old config would go on until the next logon. No task yet is
 * fine.
 */
export async function createTask(xml: string, env: TaskSchedulerEnv): Promise<void> {
  // Checked first: a command too long must not leave the old agent stopped and no new one.
  const register = stepArgs("register", taskRegisterCommand(xml));
  await stopTask(env);
  const registered = await runStep("register", register, env);
  if (registered) throw TaskSchedulerError.fromAnswer(registered);
  // Started now rather than at the next logon, so the agent runs as soon as it is installed.
  const started = await runStep("start", stepArgs("start", TASK_START_COMMAND), env);
  if (started) throw TaskSchedulerError.fromAnswer(started);
}

/**
 * Stops the agent if it runs and deletes the task; false when there was no task (it went
 * between the caller's look and now).
 */
export async function deleteTask(env: TaskSchedulerEnv): Promise<boolean> {
  if (!await stopTask(env)) return false;
  const failure = await runStep("unregister", stepArgs("unregister", TASK_UNREGISTER_COMMAND), env);
  if (failure === null) return true;
  if (taskMissing(failure)) return false;
  throw TaskSchedulerError.fromAnswer(failure);
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
export async function queryTask(env: TaskSchedulerEnv): Promise<TaskState | null> {
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
