/**
 * `agent install`, `agent uninstall` and `agent status`: the agent as a task of the
 * Windows Task Scheduler, started at the user's logon; on Linux and macOS the systemd
 * user unit to set up by hand.
 *
 * @module
 */
import { ConfigError, loadConfig } from "../config.ts";
import type { AgentFiles } from "../files.ts";
import { lastActivity } from "./last_activity.ts";
import { agentLaunch } from "./launch.ts";
import { installSteps, systemdUnit, uninstallSteps, UNIT_NAME, unitState } from "./systemd.ts";
import {
  createTask,
  deleteTask,
  describeResult,
  queryTask,
  TASK_NAME,
  TaskQueryError,
  TaskSchedulerError,
  type TaskState,
} from "./task_scheduler.ts";
import { ProgramNotFoundError, ProgramTimeoutError } from "./program.ts";
import { taskXml } from "./task_xml.ts";

/** What the service commands work with. */
export interface ServiceContext {
  /** The agent's files; the config is what the service will run with. */
  files: AgentFiles;
  /** The platform to act for (`Deno.build.os`; tests pass "windows"). */
  os: typeof Deno.build.os;
  /** Reads an environment variable (the Windows user's name and domain). */
  env: (name: string) => string | undefined;
  /** Variables added to the environment of PowerShell and systemctl. */
  commandEnv: Record<string, string>;
  /** Prints to standard output. */
  stdout: (text: string) => void;
  /** Prints to standard error. */
  stderr: (text: string) => void;
}

/** Exit codes of the service commands; `status` answers NOT_INSTALLED when not installed. */
const OK = 0;
const FAILED = 1;
const NOT_INSTALLED = 3;

/** Whether the config loads; prints its problems when not. */
async function configUsable(context: ServiceContext): Promise<boolean> {
  try {
    await loadConfig(context.files.config);
    return true;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    context.stderr(`${error.message}\nFix the config first: the service would fail with it.`);
    return false;
  }
}

/** The Windows account the task is for, `DOMAIN\user`. */
function windowsUser(context: ServiceContext): string | null {
  const user = context.env("USERNAME");
  if (!user) return null;
  const domain = context.env("USERDOMAIN");
  return domain ? `${domain}\\${user}` : user;
}

/** `agent install`. */
export async function install(context: ServiceContext): Promise<number> {
  if (!await configUsable(context)) return FAILED;
  // Only Task Scheduler opens a console window to be left; systemd journals the output.
  const launch = agentLaunch(context.files.config, context.os === "windows");
  if (context.os !== "windows") {
    context.stdout(systemdUnit(launch));
    context.stderr(installSteps());
    if (context.os === "darwin") {
      context.stderr(
        "macOS has no systemd: have launchd keep the ExecStart command above running instead.",
      );
    }
    return OK;
  }
  const userId = windowsUser(context);
  if (userId === null) {
    context.stderr("cannot tell the Windows user: USERNAME is not set");
    return FAILED;
  }
  try {
    await createTask(taskXml({ userId, launch }), context.commandEnv);
  } catch (error) {
    if (!taskFailure(error)) throw error;
    context.stderr(error.message);
    return FAILED;
  }
  context.stdout(
    `Installed the task "${TASK_NAME}" for ${userId} and started it: the agent now runs at ` +
      `every logon of ${userId} with ${context.files.config}.\n` +
      `Its log: ${context.files.log}. Check it with "agent status".`,
  );
  return OK;
}

/** `agent uninstall`. */
export async function uninstall(context: ServiceContext): Promise<number> {
  if (context.os !== "windows") {
    context.stdout(uninstallSteps());
    return OK;
  }
  const task = await readTask(context);
  if (task === undefined) return FAILED;
  let deleted = false;
  try {
    deleted = task !== null && await deleteTask(context.commandEnv);
  } catch (error) {
    if (!taskFailure(error)) throw error;
    context.stderr(error.message);
    return FAILED;
  }
  if (!deleted) {
    context.stdout(`The task "${TASK_NAME}" is not installed; nothing to remove.`);
    return OK;
  }
  context.stdout(
    `Stopped the agent and removed the task "${TASK_NAME}". The config, state and log ` +
      `files in ${context.files.dir} are left as they are.`,
  );
  return OK;
}

/** `agent status`: 0 when installed (on Linux: active), 3 when not. */
export async function status(context: ServiceContext): Promise<number> {
  const installed = context.os === "windows"
    ? await taskStatus(context)
    : await unitStatus(context);
  for (const line of await lastActivity(context.files)) context.stdout(line);
  return installed === undefined ? FAILED : installed ? OK : NOT_INSTALLED;
}

/**
 * Whether `error` is Task Scheduler's or PowerShell's failure, to report rather than a bug:
 * PowerShell missing, hanging, refusing or answering a failure.
 */
function taskFailure(error: unknown): error is Error {
  return error instanceof TaskSchedulerError || error instanceof TaskQueryError ||
    error instanceof ProgramNotFoundError || error instanceof ProgramTimeoutError;
}

/**
 * The task's state, null when there is none, or undefined when it could not be read (the
 * reason is written to stderr).
 */
async function readTask(context: ServiceContext): Promise<TaskState | null | undefined> {
  try {
    return await queryTask(context.commandEnv);
  } catch (error) {
    if (!taskFailure(error)) throw error;
    context.stderr(error.message);
    return undefined;
  }
}

/** Whether the task is installed; undefined when that could not be read. */
async function taskStatus(context: ServiceContext): Promise<boolean | undefined> {
  const task = await readTask(context);
  if (task === undefined) return undefined;
  if (task === null) {
    context.stdout(`The task "${TASK_NAME}" is not installed ("agent install" sets it up).`);
    return false;
  }
  context.stdout(
    `The task "${TASK_NAME}" is installed.\n` +
      `  status:      ${task.status}\n` +
      `  last run:    ${task.lastRunTime ?? "never"}\n` +
      `  last result: ${describeResult(task.lastResult)}`,
  );
  return true;
}

async function unitStatus(context: ServiceContext): Promise<boolean> {
  const state = await unitState(context.commandEnv);
  if (state === null) {
    context.stdout(
      "systemctl is not available here, so the agent is not run by systemd. Keep " +
        '"agent run" running another way (launchd on macOS, a login item, screen…).',
    );
    return false;
  }
  if (state === "active") {
    context.stdout(`The systemd user unit ${UNIT_NAME} is active.`);
    return true;
  }
  context.stdout(
    `The systemd user unit ${UNIT_NAME} is ${state} ("agent install" prints the unit and ` +
      "how to enable it).",
  );
  return false;
}
