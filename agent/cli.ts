/**
 * The agent's command line: `run` (default), `once`, `check`, `list-calendars`,
 * `install`, `uninstall`, `status`, `--config`, `--verbose`, `--background`, `--help` and
 * `--version`, with exit codes 0 (success), 1 (failure), 2 (usage) and 3 (`status`: not
 * installed).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { VERSION } from "../shared/version.ts";
import { runCheck } from "./check.ts";
import { ConfigError, configSecrets, loadConfig } from "./config.ts";
import { type AgentFiles, agentFiles, defaultConfigPath } from "./files.ts";
import { defaultFetch, type FetchLike } from "./http.ts";
import {
  consoleSink,
  Logger,
  type LogSink,
  RotatingFileSink,
  type RotationOptions,
} from "./log.ts";
import { MasterClient } from "./master_client.ts";
import { listCalendars } from "./outlook/list_calendars.ts";
import { runLoop } from "./run_loop.ts";
import { AgentSession } from "./session.ts";
import { SOURCE_TYPES } from "./sources/mod.ts";
import { StateError } from "./state.ts";
import { type PassReport, passSucceeded, runSyncPass } from "./sync_pass.ts";
import { consoleToLog, detachConsole } from "./windows/console.ts";
import { install, type ServiceContext, status, uninstall } from "./windows/service.ts";

/** Exit code of a successful command. */
export const EXIT_OK = 0;
/** Exit code when a source, the master or the config failed. */
export const EXIT_FAILURE = 1;
/** Exit code of a command line that could not be understood. */
export const EXIT_USAGE = 2;

/** The help text. */
export const USAGE = `Usage: agent [command] [options]

Commands:
  run             sync every sync_interval_minutes until stopped with Ctrl+C or SIGTERM
                  (the default)
  once            one sync pass; exits 1 if a source failed or the master was unreachable
  check           check the config, the master, the registration and every source;
                  exits 1 on any failure
  list-calendars  list the Outlook calendars of this Windows user with the exact
                  calendar_name to put in the config (Windows)
  install         run the agent at every logon of this Windows user (Task Scheduler);
                  on Linux, print a systemd user unit and how to enable it
  uninstall       stop the agent and remove what install set up
  status          whether the agent is installed and when it last synced; exits 3
                  if it is not installed

Options:
  -c, --config FILE  the config file (default: outlook_config.json beside the agent
                     executable, or in the working directory under deno run)
  -v, --verbose      log debug lines too (as does the DEBUG environment variable)
      --allow-empty  with once: upload a source that now reads no events although
                     it had many, when its calendar was really emptied
      --background   with run: close the console window (Windows) and log to
                     calendar_agent.log only, as the installed task runs it
  -h, --help         show this help
  -V, --version      show the version

The state file calendar_agent_state.json and the log calendar_agent.log are kept
beside the config file.`;

/** What the command line talks to; replaceable for tests. */
export interface CliIo {
  /** Prints to standard output. */
  stdout: (text: string) => void;
  /** Prints to standard error. */
  stderr: (text: string) => void;
  /** HTTP access for the master and the sources. */
  fetch: FetchLike;
  /** Reads an environment variable. */
  env: (name: string) => string | undefined;
  /** The platform whose service manager `install`, `uninstall` and `status` use. */
  os: typeof Deno.build.os;
  /**
   * Variables added to the environment of the programs `list-calendars`, `install`,
   * `uninstall` and `status` start (PowerShell, systemctl); tests put
   * stand-ins first on `PATH` with it.
   */
  commandEnv: Record<string, string>;
}

const encoder = new TextEncoder();
const defaultIo: CliIo = {
  stdout: (text) => Deno.stdout.writeSync(encoder.encode(text + "\n")),
  stderr: (text) => Deno.stderr.writeSync(encoder.encode(text + "\n")),
  fetch: defaultFetch,
  env: (name) => Deno.env.get(name),
  os: Deno.build.os,
  commandEnv: {},
};

const COMMANDS = [
  "run",
  "once",
  "check",
  "list-calendars",
  "install",
  "uninstall",
  "status",
] as const;
type Command = typeof COMMANDS[number];

interface Invocation {
  command: Command;
  configPath: string;
  verbose: boolean;
  allowEmpty: boolean;
  background: boolean;
}

/** Runs the command line `args` and returns the process exit code. */
export async function runCli(args: string[], io: Partial<CliIo> = {}): Promise<number> {
  const cli: CliIo = { ...defaultIo, ...io };
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        config: { type: "string", short: "c" },
        verbose: { type: "boolean", short: "v" },
        "allow-empty": { type: "boolean" },
        background: { type: "boolean" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "V" },
      },
    });
  } catch (error) {
    // node:util's own wording suggests "--" tricks that do not apply to this agent.
    const unknown = (error as { code?: string }).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION"
      ? (error as Error).message.match(/'([^']+)'/)?.[1]
      : undefined;
    return usageError(
      cli,
      unknown === undefined ? (error as Error).message : `unknown option "${unknown}"`,
    );
  }
  const { values, positionals } = parsed;
  if (values.help) {
    cli.stdout(USAGE);
    return EXIT_OK;
  }
  if (values.version) {
    cli.stdout(`calsync agent ${VERSION}`);
    return EXIT_OK;
  }
  if (positionals.length > 1) {
    return usageError(cli, `expected one command, got: ${positionals.join(" ")}`);
  }
  const command = positionals[0] ?? "run";
  if (!(COMMANDS as readonly string[]).includes(command)) {
    return usageError(cli, `unknown command "${command}"; expected one of: ${COMMANDS.join(", ")}`);
  }
  if (values["allow-empty"] && command !== "once") {
    return usageError(cli, '"--allow-empty" applies to "once" only: agent once --allow-empty');
  }
  if (values.background && command !== "run") {
    return usageError(cli, '"--background" applies to "run" only: agent run --background');
  }
  const debugEnv = cli.env("DEBUG");
  return await execute({
    command: command as Command,
    configPath: values.config ?? defaultConfigPath(),
    verbose: values.verbose === true ||
      (debugEnv !== undefined && !["", "0", "false", "no"].includes(debugEnv.toLowerCase())),
    allowEmpty: values["allow-empty"] === true,
    background: values.background === true,
  }, cli);
}

function serviceContext(files: AgentFiles, cli: CliIo): ServiceContext {
  return {
    files,
    os: cli.os,
    env: cli.env,
    commandEnv: cli.commandEnv,
    stdout: cli.stdout,
    stderr: cli.stderr,
  };
}

function usageError(cli: CliIo, message: string): number {
  cli.stderr(`agent: ${message}\n\n${USAGE}`);
  return EXIT_USAGE;
}

async function execute(invocation: Invocation, cli: CliIo): Promise<number> {
  const files = agentFiles(invocation.configPath);
  switch (invocation.command) {
    case "list-calendars":
      return await listCalendars({
        configPath: files.config,
        os: cli.os,
        script: { env: cli.commandEnv },
        stdout: cli.stdout,
        stderr: cli.stderr,
      });
    case "install":
      return await install(serviceContext(files, cli));
    case "uninstall":
      return await uninstall(serviceContext(files, cli));
    case "status":
      return await status(serviceContext(files, cli));
  }
  const level = invocation.verbose ? "debug" : "info";
  if (invocation.background) {
    // Without a console there is nowhere to say that the file cannot be written.
    const sinks = await fileSinks(files, { reportFailure: () => {} });
    return await inBackground(invocation, files, cli, new Logger({ level, sinks }));
  }
  const sinks = await fileSinks(files);

  if (invocation.command === "check") {
    if (invocation.verbose) sinks.push(consoleSink(cli.stderr));
    const report = await runCheck({
      files,
      fetch: cli.fetch,
      log: new Logger({ level, sinks }),
    });
    cli.stdout(report.text);
    return report.ok ? EXIT_OK : EXIT_FAILURE;
  }

  sinks.push(consoleSink(cli.stderr));
  return await sync(invocation, files, cli, new Logger({ level, sinks }));
}

/**
 * `run --background`: the console window closed first, and everything, even an error
 * nobody expected, told to the log file only, as standard output and error are gone.
 */
async function inBackground(
  invocation: Invocation,
  files: AgentFiles,
  cli: CliIo,
  log: Logger,
): Promise<number> {
  detachConsole({ log });
  const restoreConsole = consoleToLog(log);
  try {
    return await sync(invocation, files, cli, log);
  } catch (error) {
    log.error(`the agent stopped on an unexpected error: ${(error as Error).stack ?? error}`);
    return EXIT_FAILURE;
  } finally {
    restoreConsole();
  }
}

/** `once` and `run` with `log`: the config and state loaded, then one pass or the loop. */
async function sync(
  invocation: Invocation,
  files: AgentFiles,
  cli: CliIo,
  log: Logger,
): Promise<number> {
  let config;
  try {
    config = await loadConfig(files.config);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    log.error(error.message);
    return EXIT_FAILURE;
  }
  for (const secret of configSecrets(config)) log.addSecret(secret);

  const stop = new AbortController();
  const client = new MasterClient({
    centralApiUrl: config.central_api_url,
    fetch: cli.fetch,
    stop: stop.signal,
    log,
  });
  let session: AgentSession;
  try {
    session = await AgentSession.open({ config, client, statePath: files.state, log });
  } catch (error) {
    if (!(error instanceof StateError)) throw error;
    log.error(error.message);
    return EXIT_FAILURE;
  }
  const pass = () =>
    runSyncPass({
      config,
      session,
      registry: SOURCE_TYPES,
      configDir: files.dir,
      fetch: cli.fetch,
      log,
      allowEmpty: invocation.allowEmpty,
    });

  if (invocation.command === "once") {
    const report = await pass();
    cli.stdout(summarize(report));
    return passSucceeded(report) ? EXIT_OK : EXIT_FAILURE;
  }

  log.info(
    `calsync agent ${VERSION} started: agent "${config.agent_id}", master ${client.baseUrl}, ` +
      `every ${config.sync_interval_minutes} min`,
  );
  const removeHandlers = onStopSignal(log, () => {
    log.info("stopping after the current pass");
    stop.abort();
  });
  try {
    await runLoop({
      pass,
      intervalMs: config.sync_interval_minutes * 60_000,
      stop: stop.signal,
      log,
    });
  } finally {
    removeHandlers();
  }
  log.info("stopped");
  return EXIT_OK;
}

/**
 * Calls `handler` on the first SIGINT/SIGTERM (SIGBREAK on Windows, which has no
 * SIGTERM); a second signal exits at once for an impatient operator. Returns a remover.
 */
function onStopSignal(log: Logger, handler: () => void): () => void {
  const wanted: Deno.Signal[] = Deno.build.os === "windows"
    ? ["SIGINT", "SIGBREAK"]
    : ["SIGINT", "SIGTERM"];
  let stopping = false;
  const listener = () => {
    if (stopping) Deno.exit(130);
    stopping = true;
    handler();
  };
  const listening: Deno.Signal[] = [];
  for (const signal of wanted) {
    // Windows delivers these as console control events; an agent that left its console
    // may be refused them, and must run on all the same (Task Scheduler ends it anyway).
    try {
      Deno.addSignalListener(signal, listener);
      listening.push(signal);
    } catch (error) {
      log.debug(`not listening for ${signal}: ${(error as Error).message}`);
    }
  }
  return () => {
    for (const signal of listening) Deno.removeSignalListener(signal, listener);
  };
}

function summarize(report: PassReport): string {
  const count = (status: string) => report.sources.filter((s) => s.status === status).length;
  const sources = `${report.sources.length} source(s): ${count("uploaded")} uploaded, ` +
    `${count("unchanged")} unchanged, ${count("failed")} failed`;
  if (report.masterError === null) return sources;
  return `${sources}, ${count("skipped")} skipped; master: ${report.masterError}`;
}

/** The log file as a sink, or none when its folder does not exist. */
async function fileSinks(files: AgentFiles, options: RotationOptions = {}): Promise<LogSink[]> {
  return await isDirectory(files.dir) ? [new RotatingFileSink(files.log, options)] : [];
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}
