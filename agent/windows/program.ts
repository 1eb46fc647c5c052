/**
 * Starting the programs the agent relies on outside itself (PowerShell for Outlook and
 * Task Scheduler, `systemctl`): a time limit, the whole output collected, and errors that
 * say which program failed to start.
 *
 * Programs are started with `node:child_process` rather than `Deno.Command` for its
 * `windowsHide` (CREATE_NO_WINDOW): an agent running without a console (`run
 * --background`) that starts a console program such as powershell.exe would otherwise
 * have Windows open a new, visible console window for it.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { constants } from "node:os";

/** How to start a program. */
export interface ProgramOptions {
  /** Killed after this many milliseconds. */
  timeoutMs: number;
  /**
   * Variables added to the agent's own environment. Tests put stand-ins first on `PATH`
   * with it.
   */
  env?: Record<string, string>;
  /** Told the process id once the program started; tests check the process is gone. */
  onSpawn?: (pid: number) => void;
}

/** What a program did before it exited. */
export interface ProgramResult {
  /** Its exit code. */
  code: number;
  /** Everything it wrote to standard output. */
  stdout: Uint8Array;
  /** Everything it wrote to standard error. */
  stderr: Uint8Array;
}

/** The program could not be found on `PATH` (or at the path given). */
export class ProgramNotFoundError extends Error {
  /** Creates the error for `program`. */
  constructor(readonly program: string) {
    super(`cannot start ${program}: not found`);
    this.name = "ProgramNotFoundError";
  }
}

/** The program did not exit within its time limit and was killed. */
export class ProgramTimeoutError extends Error {
  /** Creates the error for `program` and its limit. */
  constructor(readonly program: string, readonly timeoutMs: number) {
    super(`${program} did not finish within ${timeoutMs / 1000} s and was stopped`);
    this.name = "ProgramTimeoutError";
  }
}

/**
 * The agent's environment with `extra` over it. Windows treats variable names without
 * regard to case, so there `extra`'s `PATH` must replace the inherited `Path` rather than
 * sit beside it.
 */
function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env = Deno.env.toObject();
  if (Deno.build.os === "windows") {
    const replaced = new Set(Object.keys(extra).map((name) => name.toUpperCase()));
    for (const name of Object.keys(env)) {
      if (replaced.has(name.toUpperCase())) delete env[name];
    }
  }
  return { ...env, ...extra };
}

/** Every chunk a stream delivers, joined once it is done. */
function collect(stream: NodeJS.ReadableStream): () => Uint8Array {
  const chunks: Uint8Array[] = [];
  stream.on("data", (chunk: Uint8Array) => chunks.push(chunk));
  return () => {
    const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const chunk of chunks) {
      all.set(chunk, at);
      at += chunk.length;
    }
    return all;
  };
}

/** The exit code the shells report for a program a signal ended: 128 + its number. */
function exitCode(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal === null ? 0 : constants.signals[signal]);
}

/**
 * Settles once the program exited and its output pipes closed (`close`), or when it could
 * not start (`error`, with `ENOENT` for a program that does not exist).
 */
function closed(child: ChildProcess, program: string): Promise<number> {
  return new Promise((resolve, reject) => {
    child.on("error", (error: NodeJS.ErrnoException) => {
      reject(error.code === "ENOENT" ? new ProgramNotFoundError(program) : error);
    });
    child.on("close", (code, signal) => resolve(exitCode(code, signal)));
  });
}

/**
 * Runs `program` with `args` (no input) and collects its output. A program still running
 * after `timeoutMs` is killed and {@linkcode ProgramTimeoutError} thrown.
 */
export async function runProgram(
  program: string,
  args: string[],
  options: ProgramOptions,
): Promise<ProgramResult> {
  const child = spawn(program, args, {
    windowsHide: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: childEnv(options.env),
  });
  const stdout = collect(child.stdout!);
  const stderr = collect(child.stderr!);
  // The limit covers the output too: a child the program left behind may hold its pipes.
  const finished = closed(child, program);
  if (child.pid !== undefined) options.onSpawn?.(child.pid);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<"expired">((resolve) => {
    timer = setTimeout(() => resolve("expired"), options.timeoutMs);
  });
  try {
    const outcome = await Promise.race([finished, expired]);
    if (outcome !== "expired") return { code: outcome, stdout: stdout(), stderr: stderr() };
  } finally {
    clearTimeout(timer);
  }
  child.kill("SIGKILL");
  child.stdout!.destroy();
  child.stderr!.destroy();
  await finished;
  throw new ProgramTimeoutError(program, options.timeoutMs);
}

/** Standard output or error as text: UTF-8, a byte-order mark dropped, never throwing. */
export function decodeText(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}
