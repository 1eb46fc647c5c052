/**
 * The middleware that applies `ctx.authLimiter` (`auth_limiter.ts`): it counts every answer that
 * refused a credential (401, or a 404 for a feed address, whose token is its secret), and
 * answers 429 with `Retry-After` to an address over its limit before any credential of
 * its request is checked, so a blocked guesser learns nothing more.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import type { AppContext } from "../context.ts";
import { clientAddress } from "./client_address.ts";
import { HttpError } from "./errors.ts";

/** Requests that carry no credential, so a blocked address may still make them. */
export function isPublic(method: string, path: string): boolean {
  if (path === "/health" || path === "/openapi.json" || path === "/docs") return true;
  if (path.startsWith("/static/")) return true;
  return method === "GET" && path === "/login";
}

function refusedCredential(status: number, path: string): boolean {
  return status === 401 || (status === 404 && path.startsWith("/feeds/"));
}

/** Rate-limits authentication failures per client address. */
export function limitAuthFailures(ctx: AppContext): MiddlewareHandler {
  return async (c, next) => {
    const address = clientAddress(c, ctx.trustProxy);
    if (!isPublic(c.req.method, c.req.path)) {
      const wait = await ctx.authLimiter.retryAfter(address);
      if (wait > 0) {
        throw new HttpError(
          429,
          "too_many_failures",
          `too many failed authentications from ${address}; try again in ${wait} s ` +
            "with the right token",
          null,
          { "Retry-After": String(wait) },
        );
      }
    }
    await next();
    if (refusedCredential(c.res.status, c.req.path)) {
      // The answer stands even when the count cannot be kept (the store is down).
      await ctx.authLimiter.fail(address).catch((err) =>
        ctx.logger.log(
          "warn",
          `counting a failed authentication failed: ${err instanceof Error ? err.message : err}`,
        )
      );
      ctx.logger.log(
        "warn",
        `authentication refused for ${address}: ${c.req.method} ${
          c.req.path.startsWith("/feeds/") ? "/feeds/***.ics" : c.req.path
        }`,
      );
    }
  };
}
