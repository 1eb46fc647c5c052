/**
 * Leaving the console window: Task Scheduler starts agent.exe, a console program, with a
 * console window of its own, which would stay on the user's desktop all session and stop
 * the agent when closed. `agent run --background` detaches from it with kernel32's
 * FreeConsole; a console closes when the last process attached to it detaches
 * (https://learn.microsoft.com/windows/console/freeconsole). From then on the process has
 * no usable standard handles, so nothing may be written to stdout or stderr.
 *
 * @module
 */
import type { Logger } from "../log.ts";

/** The part of kernel32.dll the agent calls. */
export interface Kernel32 {
  /** The library's functions. */
  symbols: {
    /** Detaches the process from its console; nonzero on success. */
    FreeConsole: () => number;
  };
  /** Releases the library. */
  close(): void;
}

/** Opens kernel32.dll; tests pass a stand-in. */
export type Kernel32Loader = () => Kernel32;

/** kernel32.dll through Deno's FFI, which needs `--allow-ffi`. */
function loadKernel32(): Kernel32 {
  return Deno.dlopen("kernel32.dll", { FreeConsole: { parameters: [], result: "i32" } });
}

/** What {@linkcode detachConsole} works with. */
export interface DetachOptions {
  /** Where a failure is told: the log file, as the console is meant to be gone. */
  log: Logger;
  /** The platform; only Windows has a console to leave. Default `Deno.build.os`. */
  os?: typeof Deno.build.os;
  /** Opens kernel32.dll; default Deno's FFI. */
  load?: Kernel32Loader;
}

/**
 * Detaches the agent from its console window on Windows; does nothing elsewhere, where a
 * background agent only stops logging to the console. A failure (FFI not permitted, say)
 * is logged and the agent runs on, with its window open.
 */
export function detachConsole(options: DetachOptions): void {
  if ((options.os ?? Deno.build.os) !== "windows") return;
  let kernel32: Kernel32;
  try {
    kernel32 = (options.load ?? loadKernel32)();
  } catch (error) {
    options.log.warn(`cannot close the console window: ${(error as Error).message}`);
    return;
  }
  try {
    if (kernel32.symbols.FreeConsole() === 0) {
      options.log.warn("cannot close the console window: FreeConsole failed");
    }
  } finally {
    kernel32.close();
  }
}

/**
 * Sends what anything in the process writes with `console` to `log` instead, until the
 * returned function puts `console` back: after the console is left, a write to the
 * standard handles would fail inside whatever library made it. Warnings and errors keep
 * their level; the rest is debug detail.
 */
export function consoleToLog(log: Logger): () => void {
  const names = ["error", "warn", "log", "info", "debug", "trace"] as const;
  const saved = names.map((name) => [name, console[name]] as const);
  const text = (data: unknown[]) =>
    data.map((part) => typeof part === "string" ? part : Deno.inspect(part)).join(" ");
  console.error = (...data: unknown[]) => log.error(text(data));
  console.warn = (...data: unknown[]) => log.warn(text(data));
  for (const name of ["log", "info", "debug", "trace"] as const) {
    console[name] = (...data: unknown[]) => log.debug(text(data));
  }
  return () => {
    for (const [name, method] of saved) console[name] = method;
  };
}
