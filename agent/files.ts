/**
 * Where the agent's files live: the config, and beside it the state file and the log.
 *
 * @module
 */
import { dirname, join, resolve } from "node:path";
import { CONFIG_FILE_NAME } from "./config.ts";
import { LOG_FILE_NAME } from "./log.ts";
import { STATE_FILE_NAME } from "./state.ts";

/** The agent's files, as absolute paths. */
export interface AgentFiles {
  /** The config file. */
  config: string;
  /** Its folder, which holds the other files and anchors relative source paths. */
  dir: string;
  /** The state file (token, hashes of accepted snapshots). */
  state: string;
  /** The live log file. */
  log: string;
}

/**
 * `outlook_config.json` beside the executable when compiled, so `agent.exe` finds its
 * config wherever it is started from; in the working directory under `deno run`.
 */
export function defaultConfigPath(): string {
  return join(Deno.build.standalone ? dirname(Deno.execPath()) : Deno.cwd(), CONFIG_FILE_NAME);
}

/** The agent's files for the config at `configPath`. */
export function agentFiles(configPath: string): AgentFiles {
  const config = resolve(configPath);
  const dir = dirname(config);
  return { config, dir, state: join(dir, STATE_FILE_NAME), log: join(dir, LOG_FILE_NAME) };
}
