/**
 * The agent's task in the Windows Task Scheduler, driven through `schtasks.exe`: create it
 * from XML, start it, end and delete it, and read its state.
 *
 * @module
 */
import { decodeText, type ProgramResult, runProgram } from "./program.ts";
import { utf16le } from "./task_xml.ts";

/** The task's name in Task Scheduler. */
export const TASK_NAME = "CalSync Agent";

/** `schtasks` as Windows names it; elsewhere only tests call it, through a stand-in. */
const SCHTASKS = Deno.build.os === "windows" ? "schtasks.exe" : "schtasks";

/** schtasks answers within seconds; a minute means it hangs. */
const TIMEOUT_MS = 60_000;

/** Extra environment for `schtasks` (tests put a stand-in first on `PATH`). */
export type SchtasksEnv = Record<string, string>;

/** What `schtasks /Query /V` tells about the task. */
export interface TaskState {
  /** Such as "Running" or "Ready", in the language of Windows. */
  status: string;
  /** When it last started, in the PC's date format; "N/A" before the first run. */
  lastRunTime: string;
  /** The last run's result code as schtasks prints it (decimal). */
  lastResult: string;
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

/**
 * The task's state, or null when there is no such task. The labels of `schtasks /Query`
 * are translated with Windows, but their order is fixed and the task's name is not
 * translated, so the fields are found by their place after the TaskName line.
 */
export async function queryTask(env: SchtasksEnv): Promise<TaskState | null> {
  const result = await schtasks(["/Query", "/TN", TASK_NAME, "/FO", "LIST", "/V"], env);
  if (result.code !== 0) return null;
  const values = decodeText(result.stdout)
    .split(/\r?\n/)
    .filter((line) => line.trim() !== "")
    .map((line) => line.replace(/^[^:]*:\s*/, "").trim());
  const at = values.indexOf(`\\${TASK_NAME}`);
  // After TaskName: Next Run Time, Status, Logon Mode, Last Run Time, Last Result.
  const field = (offset: number) => (at < 0 ? undefined : values[at + offset]) ?? "unknown";
  return { status: field(2), lastRunTime: field(4), lastResult: field(5) };
}

/** Result codes of Task Scheduler that say more than a number. */
const RESULTS: Record<number, string> = {
  0: "ended normally",
  0x41301: "running now",
  0x41303: "has not run yet",
  0x41306: "was ended by the user or Task Scheduler",
};

/** A task's last result, such as `267009 (0x41301: running now)`. */
export function describeResult(lastResult: string): string {
  const code = Number(lastResult);
  if (!Number.isInteger(code)) return lastResult;
  const hex = `0x${(code >>> 0).toString(16).toUpperCase()}`;
  return `${lastResult} (${hex}${code in RESULTS ? `: ${RESULTS[code]}` : ""})`;
}
