/**
 * Errors a store raises when it cannot write for a reason outside calsync: a full disk
 * or database, an I/O error, a read-only file, Redis at its `maxmemory`. The HTTP layer
 * answers them with 507 and `/health` with 503 until a write succeeds again; the failed
 * write changed nothing, so every stored event is kept.
 *
 * @module
 */

/** The store refused a write because its storage is full or cannot be written. */
export class StorageFullError extends Error {
  /** `reason` is the storage's own words, such as "database or disk is full". */
  constructor(readonly backend: string, readonly reason: string, options?: ErrorOptions) {
    super(
      `the master's ${backend} storage is full or cannot be written (${reason}); ` +
        "free space where it keeps its data (DATA_DIR, or Redis's maxmemory), and the next " +
        "write goes through; nothing stored was lost",
      options,
    );
    this.name = "StorageFullError";
  }
}

/** SQLite's primary result codes that mean the storage, not the statement, failed. */
const SQLITE_STORAGE_CODES: Record<number, string> = {
  8: "SQLITE_READONLY",
  10: "SQLITE_IOERR",
  13: "SQLITE_FULL",
};

/** SQLite's own texts of those codes, for errors that arrive without `errcode`. */
const SQLITE_STORAGE_TEXTS: [RegExp, string][] = [
  [/attempt to write a readonly database/, "SQLITE_READONLY"],
  [/disk I\/O error/, "SQLITE_IOERR"],
  [/database or disk is full/, "SQLITE_FULL"],
];

/**
 * `err` as a `StorageFullError` when it is a `node:sqlite` error whose (extended) result
 * code names full, read-only or failing storage; null for any other error. A failed
 * COMMIT on a full file system comes without `errcode`, so SQLite's text decides then.
 */
export function sqliteStorageError(err: unknown): StorageFullError | null {
  if (!(err instanceof Error)) return null;
  const errcode = (err as { errcode?: unknown }).errcode;
  // Extended codes (SQLITE_IOERR_WRITE = 778) keep the primary code in the low byte.
  const name = typeof errcode === "number"
    ? SQLITE_STORAGE_CODES[errcode & 0xff]
    : (err as { code?: unknown }).code === "ERR_SQLITE_ERROR"
    ? SQLITE_STORAGE_TEXTS.find(([text]) => text.test(err.message))?.[1]
    : undefined;
  if (name === undefined) return null;
  return new StorageFullError("sqlite", `${name}: ${err.message}`, { cause: err });
}

/**
 * `err` as a `StorageFullError` when Redis refused a write at its `maxmemory` ("OOM
 * command not allowed when used memory > 'maxmemory'"); null for any other error. Redis
 * refuses MULTI itself then, and ioredis reports the refusal among the EXECABORT error's
 * `previousErrors`.
 */
export function redisStorageError(err: unknown): StorageFullError | null {
  const previous = (err as { previousErrors?: unknown } | null)?.previousErrors;
  const candidates = [err, ...(Array.isArray(previous) ? previous : [])];
  // A script's refusal wraps the same words, so they are looked for anywhere.
  const oom = candidates.find((e) =>
    e instanceof Error && e.message.includes("OOM command not allowed")
  );
  if (oom === undefined) return null;
  return new StorageFullError("redis", (oom as Error).message, { cause: err });
}
