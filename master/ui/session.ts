/**
 * Sign-in sessions of the management page. Signing in with the admin token creates a
 * session credential in the store (so every master behind a load balancer knows it, and
 * signing out ends it everywhere); the browser holds only its random token, in an
 * HttpOnly, SameSite=Strict cookie. Each form carries a CSRF token derived from the
 * session token, which another site can neither read nor compute.
 *
 * @module
 */
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { toInstant } from "../../shared/time.ts";
import type { AppContext } from "../context.ts";
import { isHttps } from "../http/client_address.ts";
import { hashToken, newToken, sameHash } from "../secrets.ts";
import type { CredentialRecord } from "../store/types.ts";

/** The session cookie's name. */
export const SESSION_COOKIE = "calsync_session";

/** A signed-in session: its store record and the CSRF token its forms must carry. */
export type Session = { record: CredentialRecord; csrf: string };

function csrfFor(token: string): string {
  return hashToken(`csrf:${token}`);
}

/** Starts a session for a browser that proved it holds the admin token. */
export async function signIn(c: Context, ctx: AppContext): Promise<void> {
  const token = newToken();
  const now = ctx.now();
  const expires = new Date(now.getTime() + ctx.sessionHours * 3_600_000);
  await ctx.store.createCredential({
    credential_id: crypto.randomUUID(),
    kind: "session",
    name: "management page",
    token_hash: hashToken(token),
    created_at: toInstant(now),
    expires_at: toInstant(expires),
  });
  setCookie(c, SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: "Strict",
    secure: isHttps(c, ctx.trustProxy),
    path: "/",
    expires,
  });
}

/** The request's session, or null when it has none or it expired or was ended. */
export async function currentSession(c: Context, ctx: AppContext): Promise<Session | null> {
  const token = getCookie(c, SESSION_COOKIE);
  if (!token) return null;
  const record = await ctx.store.findCredential(
    "session",
    hashToken(token),
    toInstant(ctx.now()),
  );
  return record ? { record, csrf: csrfFor(token) } : null;
}

/** Whether a submitted form carries the session's CSRF token. */
export function validCsrf(session: Session, submitted: unknown): boolean {
  return typeof submitted === "string" && sameHash(submitted, session.csrf);
}

/** Ends the session in the store and in the browser. */
export async function signOut(c: Context, ctx: AppContext, session: Session): Promise<void> {
  await ctx.store.deleteCredential("session", session.record.credential_id);
  deleteCookie(c, SESSION_COOKIE, { path: "/", secure: isHttps(c, ctx.trustProxy) });
}
