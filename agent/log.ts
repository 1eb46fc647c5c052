/**
 * The agent's log: ISO-timestamped lines to the console and to a size-rotated file (only
 * the file for an agent running in the background), with secrets masked before anything
 * is written.
 *
 * @module
 */

/** The log file the agent keeps beside its config. */
export const LOG_FILE_NAME = "calendar_agent.log";

/** Severity of a log line, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Where formatted log lines go. */
export interface LogSink {
  /** Writes one formatted line (without trailing newline). */
  write(line: string, level: LogLevel): void;
}

/** Settings of a {@linkcode Logger}. */
export interface LoggerOptions {
  /** Lines below this level are dropped; default `info`. */
  level?: LogLevel;
  /** Destinations of the lines. */
  sinks?: LogSink[];
  /** Clock for timestamps; injectable for tests. */
  now?: () => Date;
}

/** Secrets shorter than this are not masked: masking "a" would garble every line. */
const MIN_SECRET_LENGTH = 4;

/** Writes leveled lines to its sinks, masking every registered secret. */
export class Logger {
  readonly #level: LogLevel;
  readonly #sinks: LogSink[];
  readonly #now: () => Date;
  readonly #secrets = new Set<string>();

  /** Creates a logger; with no sinks it discards everything. */
  constructor(options: LoggerOptions = {}) {
    this.#level = options.level ?? "info";
    this.#sinks = options.sinks ?? [];
    this.#now = options.now ?? (() => new Date());
  }

  /** Masks `secret` (a token or password) as `***` in every later line. */
  addSecret(secret: string | null | undefined): void {
    if (secret && secret.length >= MIN_SECRET_LENGTH) this.#secrets.add(secret);
  }

  /** Logs detail useful only when diagnosing. */
  debug(message: string): void {
    this.#write("debug", message);
  }

  /** Logs normal progress. */
  info(message: string): void {
    this.#write("info", message);
  }

  /** Logs a problem the agent works around. */
  warn(message: string): void {
    this.#write("warn", message);
  }

  /** Logs a failure. */
  error(message: string): void {
    this.#write("error", message);
  }

  #write(level: LogLevel, message: string): void {
    if (RANK[level] < RANK[this.#level]) return;
    let text = message;
    for (const secret of this.#secrets) text = text.replaceAll(secret, "***");
    const line = `${this.#now().toISOString()} ${level.toUpperCase().padEnd(5)} ${text}`;
    for (const sink of this.#sinks) sink.write(line, level);
  }
}

/** A sink handing each line to `print`, e.g. one writing to standard error. */
export function consoleSink(print: (line: string) => void): LogSink {
  return { write: (line) => print(line) };
}

/** A sink collecting lines in memory, for tests and reports. */
export class MemorySink implements LogSink {
  /** Every line written so far. */
  readonly lines: string[] = [];

  /** Appends a line. */
  write(line: string): void {
    this.lines.push(line);
  }
}

/** Settings of a {@linkcode RotatingFileSink}. */
export interface RotationOptions {
  /** Size at which the file is rotated; default 5 MB. */
  maxBytes?: number;
  /** Rotated files kept beside the live one (`.1` newest); default 3. */
  keep?: number;
  /**
   * Told, once, that the file cannot be written; default standard error. An agent running
   * without a console (`run --background`) has nowhere else to say it and passes a no-op.
   */
  reportFailure?: (message: string) => void;
}

/**
 * Appends lines to a file and rotates it by size: `x.log` → `x.log.1` → … → `x.log.N`,
 * dropping the oldest. A file that cannot be written (read-only folder, full disk) is
 * reported once (on the console unless told otherwise) instead of stopping the agent.
 */
export class RotatingFileSink implements LogSink {
  readonly #path: string;
  readonly #maxBytes: number;
  readonly #keep: number;
  readonly #reportFailure: (message: string) => void;
  readonly #encoder = new TextEncoder();
  #size: number;
  #broken = false;

  /** Opens (lazily) the log at `path`. */
  constructor(path: string, options: RotationOptions = {}) {
    this.#path = path;
    this.#maxBytes = options.maxBytes ?? 5 * 1024 * 1024;
    this.#keep = options.keep ?? 3;
    this.#reportFailure = options.reportFailure ?? ((message) => console.error(message));
    this.#size = fileSize(path);
  }

  /** Appends a line, rotating first when it would overflow the file. */
  write(line: string): void {
    if (this.#broken) return;
    const bytes = this.#encoder.encode(line + "\n");
    try {
      if (this.#size > 0 && this.#size + bytes.length > this.#maxBytes) this.#rotate();
      Deno.writeFileSync(this.#path, bytes, { append: true });
      this.#size += bytes.length;
    } catch (error) {
      this.#broken = true;
      this.#reportFailure(`cannot write the log file ${this.#path}: ${(error as Error).message}`);
    }
  }

  #rotate(): void {
    for (let i = this.#keep - 1; i >= 1; i--) {
      renameIfExists(`${this.#path}.${i}`, `${this.#path}.${i + 1}`);
    }
    if (this.#keep > 0) renameIfExists(this.#path, `${this.#path}.1`);
    else Deno.removeSync(this.#path);
    this.#size = 0;
  }
}

function fileSize(path: string): number {
  try {
    return Deno.statSync(path).size;
  } catch {
    return 0;
  }
}

function renameIfExists(from: string, to: string): void {
  try {
    Deno.renameSync(from, to);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}
