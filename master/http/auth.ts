/**
 * Bearer-token checks for the admin API and the agent API.
 *
 * @module
 */
import { hashToken, sameHash } from "../secrets.ts";
import type { Store } from "../store/types.ts";
import { HttpError } from "./errors.ts";

/** The token of an `Authorization: Bearer …` header; a 401 when absent or malformed. */
export function bearerToken(request: Request): string {
  const header = request.headers.get("authorization");
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!match) {
    throw new HttpError(
      401,
      "missing_token",
      "send the token as an 'Authorization: Bearer <token>' header",
      null,
      { "WWW-Authenticate": 'Bearer realm="calsync"' },
    );
  }
  return match[1];
}

/** A 401 for a token that matches nothing; `which` says which token was expected. */
export function wrongToken(which: string): HttpError {
  return new HttpError(401, "invalid_token", `the ${which} is wrong or has been revoked`, null, {
    "WWW-Authenticate": 'Bearer realm="calsync", error="invalid_token"',
  });
}

/** Checks that the request carries the admin token (given by its hash). */
export function requireAdmin(request: Request, adminTokenHash: string): void {
  if (!sameHash(hashToken(bearerToken(request)), adminTokenHash)) throw wrongToken("admin token");
}

/**
 * Checks that the request carries the token of `agentId`: a 401 when the token belongs
 * to no agent, a 403 when it belongs to another agent.
 */
export async function requireAgent(request: Request, store: Store, agentId: string) {
  const owner = await store.findAgentIdByTokenHash(hashToken(bearerToken(request)));
  if (owner === null) throw wrongToken("agent token");
  if (owner !== agentId) {
    throw new HttpError(
      403,
      "forbidden",
      `this token belongs to agent '${owner}'; an agent may write only its own sources`,
    );
  }
}
