/**
 * The master's log: one line per record on stderr, `time level message`. Secrets never
 * reach it: callers pass paths without query strings and never tokens.
 *
 * @module
 */

/** Severity of a log line. */
export type Level = "debug" | "info" | "warn" | "error";

/** Where the master writes what happens. */
export interface Logger {
  /** Writes a line at `level`; debug lines only when debug is on. */
  log(level: Level, message: string): void;
}

/**
 * A logger writing to stderr; `debug` enables debug lines. Lines logged in one turn of
 * the event loop go out in one write at its end, as a write per line costs a busy master
 * a system call per request; warnings and errors are written at once, and whatever waits
 * is written when the process exits.
 */
export function consoleLogger(debug: boolean): Logger {
  const encoder = new TextEncoder();
  let pending: string[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const bytes = encoder.encode(pending.join(""));
    pending = [];
    // A write may take only part of the buffer; the rest follows.
    for (let at = 0; at < bytes.length;) at += Deno.stderr.writeSync(bytes.subarray(at));
  };
  globalThis.addEventListener("unload", flush);
  return {
    log(level, message) {
      if (level === "debug" && !debug) return;
      if (pending.length === 0) setTimeout(flush, 0);
      pending.push(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${message}\n`);
      if (level === "warn" || level === "error") flush();
    },
  };
}

/** A logger that keeps lines in memory, for tests that assert what was logged. */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, log: (level, message) => lines.push(`${level} ${message}`) };
}
