/**
 * The status of agents, sources and destinations as the status API, the metrics and the
 * management page all show it, computed in one place so they never disagree.
 *
 * @module
 */
import type { AgentStatus, SyncStatus } from "../shared/protocol.ts";
import type { AppContext } from "./context.ts";
import type { AgentRecord } from "./store/types.ts";
import { blockedUntil } from "./sync/refusals.ts";

/**
 * Whether an agent counts as online: it was seen within two of its sync intervals plus a
 * minute of grace, so one late heartbeat does not flap the status.
 */
function isOnline(agent: AgentRecord, now: Date, defaultIntervalMinutes: number): boolean {
  if (agent.last_seen === null) return false;
  const interval = agent.sync_interval_minutes ?? defaultIntervalMinutes;
  return now.getTime() - Date.parse(agent.last_seen) <= (2 * interval + 1) * 60_000;
}

/** Each configured destination with what the store knows of it. */
export async function destinationStatuses(ctx: AppContext): Promise<SyncStatus["destinations"]> {
  return await Promise.all(ctx.sync.destinations.map(async (d) => {
    const [state, entries] = await Promise.all([
      ctx.store.destinationState(d.id),
      ctx.store.destinationEntries(d.id),
    ]);
    const until = blockedUntil(state?.auth_refusal ?? null, await d.settingsDigest(), ctx.now());
    return {
      id: d.id,
      type: d.type,
      url: state?.calendar_url ?? d.displayUrl,
      configured_url: d.displayUrl,
      refused_until: until,
      last_reconcile_at: state?.last_reconcile_at ?? null,
      item_count: entries.length,
      pending: state?.pending ?? 0,
      last_error: state?.last_error ?? null,
    };
  }));
}

/** Every agent as the status documents show it. */
export async function agentStatuses(ctx: AppContext): Promise<AgentStatus[]> {
  const agents = await ctx.store.listAgents();
  const now = ctx.now();
  return agents.map((a) => ({
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
      warnings: s.warnings,
    })),
  }));
}

/** The whole status document of `GET /api/sync/status`. */
export async function syncStatus(ctx: AppContext): Promise<SyncStatus> {
  const [agents, totals, destinations, size] = await Promise.all([
    agentStatuses(ctx),
    ctx.store.totals(),
    destinationStatuses(ctx),
    ctx.store.size(),
  ]);
  return { agents, totals, destinations, store: { backend: ctx.store.backend, ...size } };
}
