/**
 * Bearer-token checks for the admin API, the read API and the agent API.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { toInstant } from "../../shared/time.ts";
import type { AppContext } from "../context.ts";
import { hashToken, sameHash } from "../secrets.ts";
import type { Store } from "../store/types.ts";
import { HttpError } from "./errors.ts";

/** What a read token may call, as its 403s tell the bearer. */
export const READ_TOKEN_SCOPE = "GET /api/events";

/** The token of an `Authorization: Bearer …` header, or null when absent or malformed. */
function bearerOrNull(request: Request): string | null {
  const header = request.headers.get("authorization");
  return (header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null)?.[1] ?? null;
}

/** The token of an `Authorization: Bearer …` header; a 401 when absent or malformed. */
export function bearerToken(request: Request): string {
  const token = bearerOrNull(request);
  if (token === null) {
    throw new HttpError(
      401,
      "missing_token",
      "send the token as an 'Authorization: Bearer <token>' header",
      null,
      { "WWW-Authenticate": 'Bearer realm="calsync"' },
    );
  }
  return token;
}

/** A 401 for a token that matches nothing; `which` says which token was expected. */
export function wrongToken(which: string): HttpError {
  return new HttpError(401, "invalid_token", `the ${which} is wrong or has been revoked`, null, {
    "WWW-Authenticate": 'Bearer realm="calsync", error="invalid_token"',
  });
}

/** A 403 for a read token used beyond `READ_TOKEN_SCOPE`; `needs` names the right token. */
function readTokenRefused(needs: string): HttpError {
  return new HttpError(
    403,
    "forbidden",
    `a read token may read only ${READ_TOKEN_SCOPE}; this route needs ${needs}`,
  );
}

/** What the admin and read checks need of the app context. */
export type TokenContext = Pick<AppContext, "adminTokenHash" | "store" | "now">;

/** What a token lets its bearer do: everything (`admin`), or only read events (`read`). */
export type Access = "admin" | "read";

/** What the request's token allows, or null when it matches nothing. */
async function access(request: Request, ctx: TokenContext): Promise<Access | null> {
  const hash = hashToken(bearerToken(request));
  if (sameHash(hash, ctx.adminTokenHash)) return "admin";
  const read = await ctx.store.findCredential("read", hash, toInstant(ctx.now()));
  return read ? "read" : null;
}

/**
 * Checks that the request carries the admin token. A read token is a 403, not a 401: it
 * is valid, just not enough, and a client should not retry with it.
 */
export async function requireAdmin(request: Request, ctx: TokenContext): Promise<void> {
  const allowed = await access(request, ctx);
  if (allowed === null) throw wrongToken("admin token");
  if (allowed === "read") throw readTokenRefused("the admin token");
}

/** Checks that the request carries the admin token or a read token; answers which. */
export async function requireReader(request: Request, ctx: TokenContext): Promise<Access> {
  const allowed = await access(request, ctx);
  if (allowed === null) throw wrongToken("admin token or read token");
  return allowed;
}

/** Middleware that lets only the admin token through (see `requireAdmin`). */
export function adminOnly(ctx: TokenContext): MiddlewareHandler {
  return async (c, next) => {
    await requireAdmin(c.req.raw, ctx);
    await next();
  };
}

/**
 * Middleware that answers a read token with 403 on routes that check other tokens
 * themselves (the agent API, `/metrics`): such a token is valid, so a 401 would tell its
 * holder to fix the token rather than the route. These routes check the token before
 * anything else and refuse a read token with a 401, so only a 401 is looked up: the tokens
 * they accept cost no store lookup (one per agent request under load, bench/load.ts).
 */
export function refuseReadTokens(ctx: TokenContext, needs: string): MiddlewareHandler {
  return async (c, next) => {
    await next();
    if (c.res.status !== 401) return;
    const token = bearerOrNull(c.req.raw);
    const hash = token === null ? null : hashToken(token);
    if (hash !== null && await ctx.store.findCredential("read", hash, toInstant(ctx.now()))) {
      // The route's 401 carried a challenge; a 403 is no invitation to send another token.
      c.res.headers.delete("WWW-Authenticate");
      throw readTokenRefused(needs);
    }
  };
}

/** Middleware that lets the admin token and read tokens through. */
export function adminOrReader(ctx: TokenContext): MiddlewareHandler {
  return async (c, next) => {
    await requireReader(c.req.raw, ctx);
    await next();
  };
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
