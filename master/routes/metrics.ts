/**
 * `GET /metrics`: the master's metrics in the Prometheus text format, for the admin token
 * or `METRICS_TOKEN`, so that Prometheus can scrape without holding the admin token.
 *
 * @module
 */
import { Hono } from "hono";
import type { AppContext } from "../context.ts";
import { bearerToken, wrongToken } from "../http/auth.ts";
import { CONTENT_TYPE } from "../metrics/registry.ts";
import { hashToken, sameHash } from "../secrets.ts";
import { agentStatuses } from "../status.ts";

/** Checks that the request carries the admin token or the metrics token. */
function requireMetricsReader(request: Request, ctx: AppContext): void {
  const hash = hashToken(bearerToken(request));
  if (sameHash(hash, ctx.adminTokenHash)) return;
  if (ctx.metricsTokenHash === null) throw wrongToken("admin token");
  if (!sameHash(hash, ctx.metricsTokenHash)) throw wrongToken("metrics token or admin token");
}

/** The route of the metrics. */
export function metricsRoutes(ctx: AppContext): Hono {
  return new Hono().get("/metrics", async (c) => {
    requireMetricsReader(c.req.raw, ctx);
    const agents = await agentStatuses(ctx);
    const online = agents.filter((a) => a.online).length;
    const body = ctx.metrics.render({
      agents: { online, offline: agents.length - online },
      sources: agents.flatMap((a) =>
        a.sources.map((s) => ({
          agent_id: a.agent_id,
          source_id: s.source_id,
          occurrences: s.event_count,
          warnings: s.warnings.by_reason,
        }))
      ),
    });
    return c.body(body, 200, { "Content-Type": CONTENT_TYPE });
  });
}
