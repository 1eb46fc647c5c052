/**
 * The HTTP middleware that counts and times every request by its route pattern. Raw paths
 * are never used: `/feeds/{token}.ics` holds a secret, and every agent, source and feed
 * would make series of its own.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import type { Metrics } from "./master_metrics.ts";

// Any other method a client makes up is counted as "other", so it cannot add series.
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]);

/**
 * The pattern of the route that handled the request, such as
 * `/api/agents/:agent_id/heartbeat`, or `unmatched`. Middleware (`app.use`) is registered
 * for every method, handlers for theirs: the first handler matched is the route, whether
 * it ran or a middleware before it refused the request (a 401). With no handler (a 404,
 * or a CORS preflight that the middleware answered) it is `unmatched`.
 */
function routeLabel(c: Context): string {
  return matchedRoutes(c).find((r) => r.method !== "ALL")?.path ?? "unmatched";
}

/** Records every request into `metrics` once it has been answered. */
export function httpMetrics(metrics: Metrics): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const method = METHODS.has(c.req.method) ? c.req.method : "other";
    metrics.httpRequest(method, routeLabel(c), c.res.status, (performance.now() - started) / 1000);
  };
}
