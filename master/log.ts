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

/** A logger writing to stderr; `debug` enables debug lines. */
export function consoleLogger(debug: boolean): Logger {
  return {
    log(level, message) {
      if (level === "debug" && !debug) return;
      console.error(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${message}`);
    },
  };
}

/** A logger that keeps lines in memory, for tests that assert what was logged. */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, log: (level, message) => lines.push(`${level} ${message}`) };
}
