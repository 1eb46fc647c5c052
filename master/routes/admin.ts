/**
 * The admin API: everything here needs the admin token.
 *
 * @module
 */
import { Hono } from "hono";
import { z } from "zod";
import { Identifier, type SyncStatus } from "../../shared/protocol.ts";
import { Instant } from "../../shared/time.ts";
import type { AppContext } from "../context.ts";
import { requireAdmin } from "../http/auth.ts";
import { HttpError, validationError } from "../http/errors.ts";
import type { AgentRecord } from "../store/types.ts";

const EventsQuery = z
  .object({
    start: Instant,
    end: Instant,
    agent_id: Identifier.optional(),
    source_id: Identifier.optional(),
  })
  .refine((q) => Date.parse(q.end) > Date.parse(q.start), {
    path: ["end"],
    error: "end must be after start",
  });

/**
 * Whether an agent counts as online: it was seen within two of its sync intervals plus a
 * minute of grace, so one late heartbeat does not flap the status.
 */
export function isOnline(agent: AgentRecord, now: Date, defaultIntervalMinutes: number): boolean {
  if (agent.last_seen === null) return false;
  const interval = agent.sync_interval_minutes ?? defaultIntervalMinutes;
  return now.getTime() - Date.parse(agent.last_seen) <= (2 * interval + 1) * 60_000;
}

/** Each configured destination with what the store knows of it. */
async function destinationStatuses(ctx: AppContext): Promise<SyncStatus["destinations"]> {
  return await Promise.all(ctx.sync.destinations.map(async (d) => {
    const [state, entries] = await Promise.all([
      ctx.store.destinationState(d.id),
      ctx.store.destinationEntries(d.id),
    ]);
    return {
      id: d.id,
      type: d.type,
      url: d.displayUrl,
      last_reconcile_at: state?.last_reconcile_at ?? null,
      item_count: entries.length,
      pending: state?.pending ?? 0,
      last_error: state?.last_error ?? null,
    };
  }));
}

/** Routes that need the admin token. */
export function adminRoutes(ctx: AppContext): Hono {
  const { store } = ctx;
  const app = new Hono();
  app.use("/api/sync/*", (c, next) => (requireAdmin(c.req.raw, ctx.adminTokenHash), next()));
  app.use("/api/events", (c, next) => (requireAdmin(c.req.raw, ctx.adminTokenHash), next()));
  app.use("/api/admin/*", (c, next) => (requireAdmin(c.req.raw, ctx.adminTokenHash), next()));

  app.get("/api/sync/status", async (c) => {
    const [agents, totals, destinations] = await Promise.all([
      store.listAgents(),
      store.totals(),
      destinationStatuses(ctx),
    ]);
    const now = ctx.now();
    const status: SyncStatus = {
      agents: agents.map((a) => ({
        agent_id: a.agent_id,
        agent_name: a.agent_name,
        environment: a.environment,
        version: a.version,
        last_seen: a.last_seen,
        online: isOnline(a, now, ctx.syncIntervalMinutes),
        sources: a.sources.map((s) => ({
          source_id: s.source_id,
          name: s.name,
          type: s.type,
          event_count: s.event_count,
          last_snapshot_at: s.last_snapshot_at,
          last_error: s.last_error,
        })),
      })),
      totals,
      destinations,
    };
    return c.json(status);
  });

  app.get("/api/events", async (c) => {
    const query = c.req.query();
    const parsed = EventsQuery.safeParse(query);
    if (!parsed.success) throw validationError(parsed.error, query);
    return c.json({ events: await store.listEvents(parsed.data) });
  });

  app.post("/api/admin/reconcile", async (c) => {
    const reports = await ctx.sync.run(c.req.query("full") === "true");
    return c.json({ reports });
  });

  app.post("/api/admin/agents/:agent_id/reset", async (c) => {
    const { agent_id } = c.req.param();
    if (!(await store.resetAgentToken(agent_id))) {
      throw new HttpError(404, "unknown_agent", `no agent '${agent_id}' is registered`, "agent_id");
    }
    ctx.logger.log("info", `agent '${agent_id}' reset by an admin; it may enrol again`);
    return c.json({ agent_id, reset: true });
  });

  return app;
}
