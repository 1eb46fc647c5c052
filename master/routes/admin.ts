/**
 * The admin API: everything here needs the admin token, except `GET /api/events`, which
 * read tokens may call too.
 *
 * @module
 */
import { Hono } from "hono";
import { z } from "zod";
import {
  type AgentList,
  type AgentRemoved,
  Identifier,
  type SourceRemoved,
} from "../../shared/protocol.ts";
import { removeAgent, removeSource, resetAgent } from "../admin_actions.ts";
import type { AppContext } from "../context.ts";
import { adminOnly, adminOrReader } from "../http/auth.ts";
import { QueryInstant } from "../http/dates.ts";
import { decodeCursor, encodeCursor, MAX_CURSOR_LENGTH } from "../http/event_cursor.ts";
import { HttpError, validationError } from "../http/errors.ts";
import { agentStatuses, syncStatus } from "../status.ts";
import type { ActivityList } from "../openapi/answers.ts";

/** Events per page of `GET /api/events` when the caller names no `limit`. */
export const DEFAULT_PAGE_SIZE = 1_000;
/** The most events one page of `GET /api/events` holds. */
export const MAX_PAGE_SIZE = 10_000;

const LIMIT_HINT = `must be a whole number from 1 to ${MAX_PAGE_SIZE}; ` +
  `leave it out for pages of ${DEFAULT_PAGE_SIZE}`;

/** `limit`: the page size, a decimal integer in 1..MAX_PAGE_SIZE. */
const PageLimit = z
  .string()
  .regex(/^[0-9]{1,6}$/, { error: LIMIT_HINT })
  .transform(Number)
  .pipe(z.number().int().min(1, { error: LIMIT_HINT }).max(MAX_PAGE_SIZE, { error: LIMIT_HINT }));

/**
 * `GET /api/events` query: the range and, optionally, one agent or source, the page size
 * and the `next_cursor` of the page before.
 */
export const EventsQuery = z
  .object({
    start: QueryInstant,
    end: QueryInstant,
    agent_id: Identifier.optional(),
    source_id: Identifier.optional(),
    limit: PageLimit.optional(),
    cursor: z.string().max(MAX_CURSOR_LENGTH).optional(),
  })
  .refine((q) => Date.parse(q.end) > Date.parse(q.start), {
    path: ["end"],
    error: "end must be after start",
  });

/** The most entries `GET /api/admin/activity` answers at once. */
export const ACTIVITY_LIMIT_MAX = 1000;

const ACTIVITY_LIMIT_HINT = `expected a whole number from 1 to ${ACTIVITY_LIMIT_MAX}`;

/** `GET /api/admin/activity` query: one destination or all, since an instant, how many. */
export const ActivityQueryParams = z.object({
  destination: Identifier.optional(),
  since: QueryInstant.optional(),
  limit: z.coerce.number({ error: ACTIVITY_LIMIT_HINT }).int({ error: ACTIVITY_LIMIT_HINT })
    .min(1, { error: ACTIVITY_LIMIT_HINT }).max(ACTIVITY_LIMIT_MAX, { error: ACTIVITY_LIMIT_HINT })
    .optional(),
});

function unknownAgent(agentId: string): HttpError {
  return new HttpError(
    404,
    "unknown_agent",
    `no agent '${agentId}' is registered; GET /api/agents lists them`,
    "agent_id",
  );
}

/**
 * The answer when three logins of a destination were refused within 15 minutes: trying
 * again now could lock the account.
 */
export function tooManyRefusals(id: string, until: string, now: Date): HttpError {
  const seconds = Math.max(1, Math.ceil((Date.parse(until) - now.getTime()) / 1000));
  return new HttpError(
    429,
    "credentials_refused",
    `the server refused the credentials of '${id}' three times in 15 minutes; so that the ` +
      `account is not locked, calsync tries no login before ${until}`,
    "destination_id",
    { "Retry-After": String(seconds) },
  );
}

/** Routes that need the admin token, and `GET /api/events`, which a read token may call. */
export function adminRoutes(ctx: AppContext): Hono {
  const { store } = ctx;
  const app = new Hono();
  const admin = adminOnly(ctx);
  app.use("/api/sync/*", admin);
  app.use("/api/events", adminOrReader(ctx));
  app.use("/api/admin/*", admin);

  app.get("/api/sync/status", async (c) => {
    return c.json(await syncStatus(ctx));
  });

  app.get("/api/agents", admin, async (c) => {
    return c.json({ agents: await agentStatuses(ctx) } satisfies AgentList);
  });

  app.get("/api/events", async (c) => {
    const query = c.req.query();
    const parsed = EventsQuery.safeParse(query);
    if (!parsed.success) throw validationError(parsed.error, query);
    const { limit = DEFAULT_PAGE_SIZE, cursor, ...filters } = parsed.data;
    const after = cursor === undefined ? null : decodeCursor(cursor, filters);
    const page = await store.listEventPage(filters, { limit, after });
    const next_cursor = page.next === null ? null : encodeCursor(page.next, filters);
    return c.json({ events: page.events, next_cursor });
  });

  app.get("/api/admin/activity", async (c) => {
    const query = c.req.query();
    const parsed = ActivityQueryParams.safeParse(query);
    if (!parsed.success) throw validationError(parsed.error, query);
    const { destination, since, limit = 100 } = parsed.data;
    if (destination !== undefined) {
      const configured = ctx.sync.destinations.map((d) => d.id);
      // A destination taken out of the configuration keeps its entries until they age out.
      if (
        !configured.includes(destination) && !(await store.destinationIds()).includes(destination)
      ) {
        throw new HttpError(
          404,
          "unknown_destination",
          `no destination '${destination}'; configured are: ${configured.join(", ") || "none"}`,
          "destination",
        );
      }
    }
    const entries = await store.listActivity({ destination_id: destination, since, limit });
    return c.json({ entries } satisfies ActivityList);
  });

  app.post("/api/admin/reconcile", async (c) => {
    // A full reconcile reads every item again and leaves no owned item behind that is
    // neither desired nor known; delete_strays is kept for callers that name it.
    const full = c.req.query("full") === "true";
    const reports = await ctx.sync.run(full, full || c.req.query("delete_strays") === "true");
    return c.json({ reports });
  });

  app.post("/api/admin/destinations/:destination_id/retry", async (c) => {
    const { destination_id } = c.req.param();
    const outcome = await ctx.sync.retryRefused(destination_id);
    if (outcome === null) {
      throw new HttpError(
        404,
        "unknown_destination",
        `no destination '${destination_id}'; GET /api/sync/status lists them`,
        "destination_id",
      );
    }
    if ("until" in outcome) throw tooManyRefusals(destination_id, outcome.until, ctx.now());
    return c.json(outcome);
  });

  app.post("/api/admin/agents/:agent_id/reset", async (c) => {
    const { agent_id } = c.req.param();
    if (!(await resetAgent(ctx, agent_id))) throw unknownAgent(agent_id);
    return c.json({ agent_id, reset: true });
  });

  app.delete("/api/admin/agents/:agent_id", async (c) => {
    const { agent_id } = c.req.param();
    if (!(await removeAgent(ctx, agent_id))) throw unknownAgent(agent_id);
    return c.json({ agent_id, removed: true } satisfies AgentRemoved);
  });

  app.delete("/api/admin/agents/:agent_id/sources/:source_id", async (c) => {
    const { agent_id, source_id } = c.req.param();
    if (!(await removeSource(ctx, agent_id, source_id))) {
      if (!(await store.getAgent(agent_id))) throw unknownAgent(agent_id);
      throw new HttpError(
        404,
        "unknown_source",
        `agent '${agent_id}' has no source '${source_id}'; GET /api/agents lists its sources`,
        "source_id",
      );
    }
    return c.json({ agent_id, source_id, removed: true } satisfies SourceRemoved);
  });

  return app;
}
