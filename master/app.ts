/**
 * The master's HTTP app. `createApp` takes its dependencies and returns a Hono app that
 * tests call with `app.request()`, no port needed; `main.ts` serves it.
 *
 * @module
 */
import { Hono } from "hono";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import type { AppContext } from "./context.ts";
import { HttpError } from "./http/errors.ts";
import { StorageFullError } from "./store/errors.ts";
import { adminRoutes } from "./routes/admin.ts";
import { agentRoutes } from "./routes/agents.ts";
import { docsRoutes } from "./routes/docs.ts";
import { feedRoutes } from "./routes/feeds.ts";
import { healthRoutes } from "./routes/health.ts";
import { readTokenRoutes } from "./routes/read_tokens.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import { httpMetrics } from "./metrics/http.ts";
import { limitAuthFailures } from "./http/rate_limit.ts";
import { refuseReadTokens } from "./http/auth.ts";
import { isPagePath, pageError, uiRoutes } from "./routes/ui.tsx";

/** Paths that browsers of `CORS_ORIGINS` may read. */
const READ_PATHS = ["/health", "/api/events", "/api/sync/status", "/api/agents"];

/** Builds the master's app over `ctx`. */
export function createApp(ctx: AppContext): Hono {
  const app = new Hono();
  app.use(httpMetrics(ctx.metrics));

  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    const ms = (performance.now() - started).toFixed(1);
    // A feed's address is its secret: never log it.
    const path = c.req.path.replace(/^\/feeds\/[^/]+$/, "/feeds/***.ics");
    ctx.logger.log("info", `${c.req.method} ${path} ${c.res.status} ${ms}ms`);
  });

  if (ctx.corsOrigins.length > 0) {
    const allow = cors({
      origin: ctx.corsOrigins,
      allowHeaders: ["Authorization"],
      exposeHeaders: ["Retry-After"],
      maxAge: 600,
    });
    for (const path of READ_PATHS) app.use(path, allow);
  }
  app.use(limitAuthFailures(ctx));
  app.use("/api/agents/*", refuseReadTokens(ctx, "an agent token or the enrollment token"));
  app.use("/metrics", refuseReadTokens(ctx, "the admin token or METRICS_TOKEN"));

  app.route("/", healthRoutes(ctx));
  app.route("/", docsRoutes());
  app.route("/", agentRoutes(ctx));
  app.route("/", feedRoutes(ctx));
  app.route("/", readTokenRoutes(ctx));
  app.route("/", adminRoutes(ctx));
  app.route("/", metricsRoutes(ctx));
  app.route("/", uiRoutes(ctx));

  app.notFound((c) => {
    if (isPagePath(c.req.path)) {
      return pageError(c, 404, `There is no page ${c.req.path}. Start again from the dashboard.`);
    }
    return c.json({
      error: {
        code: "not_found",
        message: `no route for ${c.req.method} ${c.req.path}; see /docs for the API`,
        field: null,
      },
    }, 404);
  });

  app.onError(async (err, c) => {
    if (err instanceof HttpError) {
      for (const [k, v] of Object.entries(err.headers)) c.header(k, v);
      if (isPagePath(c.req.path)) return pageError(c, err.status, err.message);
      return c.json(
        { error: { code: err.code, message: err.message, field: err.field } },
        err.status,
      );
    }
    // Hono's own refusals (a body it could not parse, say) are the client's fault: they
    // get their status and a message, and no stack in the log.
    if (err instanceof HTTPException && err.status < 500) {
      const message = `the request was refused: ${err.message || "bad request"}`;
      if (isPagePath(c.req.path)) return pageError(c, err.status, message);
      return c.json({ error: { code: "bad_request", message, field: null } }, err.status);
    }
    // A full disk is the operator's to fix, not a bug and not a short wait; 507 says so,
    // and the agent retries at its next pass. Checked before the ping, which repeats it.
    if (err instanceof StorageFullError) {
      ctx.logger.log("error", `${c.req.method} ${c.req.path}: ${err.message}`);
      return c.json({ error: { code: "storage_full", message: err.message, field: null } }, 507);
    }
    // A store that is down (Redis restarting) is a wait, not a bug: the request changed
    // nothing and can be sent again, which agents do after Retry-After.
    if (!(await ctx.store.ping().then(() => true, () => false))) {
      ctx.logger.log("warn", `${c.req.method} ${c.req.path}: the store is unavailable: ${err}`);
      c.header("Retry-After", "5");
      return c.json({
        error: {
          code: "store_unavailable",
          message: `the master's ${ctx.store.backend} store is unavailable; try again shortly`,
          field: null,
        },
      }, 503);
    }
    ctx.logger.log("error", `${c.req.method} ${c.req.path}: ${err.stack ?? err}`);
    return c.json({
      error: { code: "internal_error", message: "the master failed; see its log", field: null },
    }, 500);
  });

  return app;
}
