/**
 * Starting the programs the agent relies on outside itself (PowerShell for Outlook,
 * `schtasks.exe`, `systemctl`): a time limit, the whole output collected, and errors that
 * say which program failed to start.
 *
 * @module
 */

/** How to start a program. */
export interface ProgramOptions {
  /** Killed after this many milliseconds. */
  timeoutMs: number;
  /**
   * Variables added to the agent's own environment. Tests put stand-ins first on `PATH`
   * with it.
   */
  env?: Record<string, string>;
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

/** Reads a stream to its end; `stop` ends the reading early. */
function collect(stream: ReadableStream<Uint8Array>) {
  const reader = stream.getReader();
  const bytes = (async () => {
    const chunks: Uint8Array[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
    }
    const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const chunk of chunks) {
      all.set(chunk, at);
      at += chunk.length;
    }
    return all;
  })();
  return { bytes, stop: () => reader.cancel().catch(() => {}) };
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
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(program, {
      args,
      env: options.env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw new ProgramNotFoundError(program);
    throw error;
  }
  const stdout = collect(child.stdout);
  const stderr = collect(child.stderr);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<"expired">((resolve) => {
    timer = setTimeout(() => resolve("expired"), options.timeoutMs);
  });
  // The limit covers the output too: a child the program left behind may hold its pipes.
  const finished = Promise.all([child.status, stdout.bytes, stderr.bytes]);
  try {
    const outcome = await Promise.race([finished, expired]);
    if (outcome !== "expired") {
      const [status, out, err] = outcome;
      return { code: status.code, stdout: out, stderr: err };
    }
  } finally {
    clearTimeout(timer);
  }
  try {
    child.kill("SIGKILL");
  } catch {
    // It exited just now.
  }
  await Promise.all([stdout.stop(), stderr.stop()]);
  await finished;
  throw new ProgramTimeoutError(program, options.timeoutMs);
}

/** Standard output or error as text: UTF-8, a byte-order mark dropped, never throwing. */
export function decodeText(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}
