/**
 * The admin and enrollment tokens. A token given in the environment is used as is; an
 * unset one is generated on first start and kept in a file under `DATA_DIR`, so it
 * survives restarts. Only the path is logged, never the token.
 *
 * @module
 */
import { join } from "node:path";
import { Buffer } from "node:buffer";
import { randomBytes, timingSafeEqual } from "node:crypto";
import { sha256Hex } from "../shared/hash.ts";
import type { Logger } from "./log.ts";

/** A new random token: 32 bytes, URL-safe base64. */
export function newToken(): string {
  return randomBytes(32).toString("base64url");
}

/** The stored form of a token: its SHA-256 (tokens are random, so no salt is needed). */
export function hashToken(token: string): string {
  return sha256Hex(token);
}

/** Compares two hex hashes in constant time. */
export function sameHash(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/**
 * Returns `configured` when set; otherwise the token kept in `DATA_DIR/fileName`,
 * creating it (mode 0600) on first start.
 */
export async function loadOrCreateToken(
  configured: string | undefined,
  dataDir: string,
  fileName: string,
  variable: string,
  logger: Logger,
): Promise<string> {
  if (configured) return configured;
  const path = join(dataDir, fileName);
  try {
    const existing = (await Deno.readTextFile(path)).trim();
    if (existing.length >= 16) {
      logger.log("info", `${variable} not set: using the token stored in ${path}`);
      return existing;
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  const token = newToken();
  await Deno.writeTextFile(path, token + "\n", { mode: 0o600 });
  logger.log("info", `${variable} not set: generated one; read it in ${path}`);
  return token;
}
