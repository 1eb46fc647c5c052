/**
 * Child processes for tests: started with no input and their stderr collected, so a test
 * can show what a server said when it fails to start.
 *
 * @module
 */

/** A child process with its collected stderr. */
export type LoggedProcess = {
  child: Deno.ChildProcess;
  /** Resolves once stderr is closed. */
  drained: Promise<void>;
  /** Everything written to stderr so far. */
  log: () => string;
};

/** Spawns `command` with `args` (and extra `env`), stdout discarded, stderr collected. */
export function spawnLogged(
  command: string,
  args: string[],
  env: Record<string, string> = {},
): LoggedProcess {
  const child = new Deno.Command(command, {
    args,
    env,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let log = "";
  const decoder = new TextDecoder();
  const drained = child.stderr.pipeTo(
    new WritableStream({ write: (chunk) => void (log += decoder.decode(chunk)) }),
  );
  return { child, drained, log: () => log };
}

/** Ends the process with `signal` (one that has exited already is fine) and waits for it. */
export async function stopLogged(
  running: LoggedProcess,
  signal: Deno.Signal = "SIGTERM",
): Promise<void> {
  try {
    running.child.kill(signal);
  } catch {
    // it has exited already
  }
  await running.child.status;
  await running.drained;
}
