/**
 * The agent API: registration, snapshots and heartbeats. An agent authenticates with its
 * own token, which only lets it write its own sources.
 *
 * @module
 */
import { Hono } from "hono";
import { Heartbeat, Registration, type RegistrationResult } from "../../shared/protocol.ts";
import { toInstant } from "../../shared/time.ts";
import type { AppContext } from "../context.ts";
import { bearerToken, requireAgent, wrongToken } from "../http/auth.ts";
import { readJson } from "../http/body.ts";
import { HttpError } from "../http/errors.ts";
import type { SnapshotOutcome } from "../metrics/master_metrics.ts";
import { hashToken, newToken, sameHash } from "../secrets.ts";
import { MAX_CLOCK_SKEW_MS } from "../snapshots/plan.ts";
import { receiveSnapshot } from "../snapshots/receive.ts";
import { SnapshotRejected } from "../store/types.ts";

/** A clock skew in the unit a person would use: minutes, hours or days. */
function describeSkew(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 120) return `${minutes} minutes`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} hours` : `${Math.round(hours / 24)} days`;
}

/**
 * Refuses a snapshot generated more than `MAX_CLOCK_SKEW_MS` after the master's `now`:
 * its agent's clock runs ahead, and storing it would make every later snapshot of the
 * source look stale. Nothing is stored, so the agent's next snapshot with a corrected
 * clock is applied as usual.
 */
function refuseFutureSnapshot(generatedAt: string, now: Date): void {
  const aheadMs = Date.parse(generatedAt) - now.getTime();
  if (aheadMs <= MAX_CLOCK_SKEW_MS) return;
  throw new HttpError(
    422,
    "clock_skew",
    `generated_at ${generatedAt} is ${describeSkew(aheadMs)} ahead of the master's clock ` +
      `(${toInstant(now)}); more than ${MAX_CLOCK_SKEW_MS / 60_000} minutes is refused. ` +
      "Set the agent PC's clock right, or turn on its automatic time sync, and the next " +
      "snapshot is accepted",
    "generated_at",
  );
}

/** Routes under `/api/agents`. */
export function agentRoutes(ctx: AppContext): Hono {
  const { store } = ctx;
  const app = new Hono();

  const registrationResult = async (id: string, token: string): Promise<RegistrationResult> => {
    const agent = await store.getAgent(id);
    const sources = (agent?.sources ?? []).map((s) => ({
      source_id: s.source_id,
      last_generated_at: s.last_generated_at,
    }));
    return { agent_id: id, token, sources };
  };

  app.post("/api/agents/register", async (c) => {
    const tokenHash = hashToken(bearerToken(c.req.raw));
    const enrolling = sameHash(tokenHash, ctx.enrollmentTokenHash);
    const owner = enrolling ? null : await store.findAgentIdByTokenHash(tokenHash);
    if (!enrolling && owner === null) throw wrongToken("enrollment token or agent token");
    const registration = await readJson(c.req.raw, Registration, ctx.maxBodyBytes);
    const id = registration.agent_id;
    const now = toInstant(ctx.now());
    if (owner !== null) {
      if (owner !== id) {
        throw new HttpError(
          403,
          "forbidden",
          `this token belongs to agent '${owner}', not '${id}'`,
          "agent_id",
        );
      }
      await store.registerAgent(registration, tokenHash, now);
      ctx.logger.log("info", `agent '${id}' re-registered`);
      return c.json(await registrationResult(id, bearerToken(c.req.raw)));
    }
    const existing = await store.getAgent(id);
    if (existing?.token_hash) {
      throw new HttpError(
        409,
        "agent_exists",
        `agent '${id}' is already registered; register with its current token, or have an ` +
          `admin reset it (POST /api/admin/agents/${id}/reset) and enrol again`,
        "agent_id",
      );
    }
    const token = newToken();
    await store.registerAgent(registration, hashToken(token), now);
    ctx.logger.log("info", `agent '${id}' enrolled`);
    if (existing === null) {
      // A new agent holds exactly the sources it declared, none with a snapshot yet.
      const sources = registration.sources.map((s) => ({
        source_id: s.source_id,
        last_generated_at: null,
      }));
      return c.json({ agent_id: id, token, sources } satisfies RegistrationResult);
    }
    return c.json(await registrationResult(id, token));
  });

  app.put("/api/agents/:agent_id/sources/:source_id/snapshot", async (c) => {
    const { agent_id, source_id } = c.req.param();
    await requireAgent(c.req.raw, store, agent_id);
    // Counted only once the agent is known, so unauthenticated calls cannot add series.
    const received = (result: SnapshotOutcome) =>
      ctx.metrics.snapshotReceived(agent_id, source_id, result);
    const staging = store.stageSnapshot(agent_id, source_id);
    try {
      let snapshot;
      try {
        const known = await store.knownHashes(agent_id, source_id);
        snapshot = await receiveSnapshot(c.req.raw, ctx.maxBodyBytes, known, staging);
        refuseFutureSnapshot(snapshot.generated_at, ctx.now());
      } catch (err) {
        // A bad body is a rejected snapshot; a store that failed is not the agent's doing.
        if (err instanceof HttpError) received("rejected");
        throw err;
      }
      const { result, changed } = await staging.apply(snapshot, toInstant(ctx.now()));
      ctx.logger.log(
        "info",
        `snapshot ${agent_id}/${source_id}: ${snapshot.events} events, ` +
          `+${result.added} ~${result.updated} -${result.removed} =${result.unchanged}`,
      );
      received(changed ? "applied" : "unchanged");
      if (changed) ctx.sync.notifyChanged();
      return c.json(result);
    } catch (err) {
      if (!(err instanceof SnapshotRejected)) throw err;
      received("rejected");
      const status = err.code === "unknown_source" ? 404 : 409;
      throw new HttpError(
        status,
        err.code,
        err.message,
        err.code === "unknown_source" ? "source_id" : "generated_at",
      );
    } finally {
      // A failed discard must not replace the answer; the store clears what stays behind.
      await staging.discard().catch((err) =>
        ctx.logger.log("warn", `snapshot ${agent_id}/${source_id}: staging not cleared: ${err}`)
      );
    }
  });

  app.post("/api/agents/:agent_id/heartbeat", async (c) => {
    const { agent_id } = c.req.param();
    await requireAgent(c.req.raw, store, agent_id);
    const heartbeat = await readJson(c.req.raw, Heartbeat, ctx.maxBodyBytes);
    const now = toInstant(ctx.now());
    await store.recordHeartbeat(agent_id, heartbeat, now);
    return c.json({ ok: true, server_time: now });
  });

  return app;
}
