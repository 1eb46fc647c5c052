/**
 * The command that starts this agent in `run` mode, as a service manager (Task Scheduler,
 * systemd) should start it: the compiled executable itself, or `deno run` of the sources.
 * For Task Scheduler with `--background`, so that the console window it gives a console
 * program closes and the agent logs to its file only; systemd keeps the console output in
 * its journal.
 *
 * @module
 */
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** A program with its arguments and the folder to start it in. */
export interface AgentLaunch {
  /** Absolute path of the program. */
  program: string;
  /** Its arguments, unquoted. */
  args: string[];
  /** The folder it starts in. */
  workingDirectory: string;
}

/**
 * The permissions of `deno task agent`, for an agent run from its sources, and FFI, with
 * which `--background` closes the console window (as `deno task compile:agent` grants).
 */
const PERMISSIONS = [
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-run",
  "--allow-sys",
  "--allow-ffi",
];

/** The agent's own arguments: `run` (without a console when `background`) with `config`. */
function runArgs(config: string, background: boolean): string[] {
  return ["run", ...(background ? ["--background"] : []), "--config", config];
}

/**
 * How to start `agent run` with the config at `configPath` (made absolute, since a service
 * starts elsewhere), with `--background` when `background`. A compiled agent starts in its own folder, where its
 * config usually sits; from sources, Deno is told where `deno.json` is, as the working
 * folder is the config's.
 */
export function agentLaunch(configPath: string, background: boolean): AgentLaunch {
  const config = resolve(configPath);
  const program = Deno.execPath();
  if (Deno.build.standalone) {
    return { program, args: runArgs(config, background), workingDirectory: dirname(program) };
  }
  return {
    program,
    args: [
      "run",
      ...PERMISSIONS,
      "--config",
      fileURLToPath(new URL("../../deno.json", import.meta.url)),
      fileURLToPath(new URL("../main.ts", import.meta.url)),
      ...runArgs(config, background),
    ],
    workingDirectory: dirname(config),
  };
}
