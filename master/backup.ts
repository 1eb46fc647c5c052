/**
 * `master backup FILE` and `master restore FILE`: everything a store holds as one JSON
 * document, written and read through the `Store` interface alone, so a backup of SQLite
 * restores into Redis and back. Leases are left out (they only matter while masters run),
 * and so are sign-in sessions (signing in again is cheap). Version 2 holds credentials
 * (feeds, read tokens) where version 1 held only feeds; both restore.
 *
 * @module
 */
import { z } from "zod";
import { Occurrence } from "../shared/model.ts";
import { SourceSettings } from "../shared/protocol.ts";
import { noWarnings, WarningSummary } from "../shared/warnings.ts";
import { toInstant } from "../shared/time.ts";
import { prepareSnapshot } from "./snapshots/prepare.ts";
import type { Store } from "./store/types.ts";

const Source = z.object({
  source_id: z.string(),
  name: z.string(),
  type: z.string(),
  last_snapshot_at: z.string().nullable(),
  last_generated_at: z.string().nullable(),
  last_error: z.string().nullable(),
  settings: SourceSettings,
  // Backups made before warnings were kept lack them.
  warnings: WarningSummary.default(noWarnings),
  occurrences: z.array(Occurrence),
});

/** What every backup version holds besides its credentials. */
const Contents = z.object({
  format: z.literal("calsync-backup"),
  created_at: z.string(),
  agents: z.array(z.object({
    agent_id: z.string(),
    agent_name: z.string(),
    environment: z.string(),
    version: z.string(),
    token_hash: z.string().nullable(),
    sync_interval_minutes: z.number().nullable(),
    created_at: z.string(),
    last_seen: z.string().nullable(),
    sources: z.array(Source),
  })),
  destinations: z.array(z.object({
    id: z.string(),
    state: z.object({
      change_token: z.string().nullable(),
      last_reconcile_at: z.string().nullable(),
      last_error: z.string().nullable(),
      pending: z.number(),
      // Backups made before these existed lack them.
      calendar_url: z.string().nullable().default(null),
      auth_refusal: z.object({
        failures: z.array(z.string()),
        blocked_until: z.string(),
        settings: z.string(),
        message: z.string(),
      }).nullable().default(null),
    }).nullable(),
    entries: z.array(z.object({
      key: z.string(),
      href: z.string(),
      etag: z.string().nullable(),
      hash: z.string().nullable(),
      end_ms: z.number().nullable().optional(),
    })),
  })),
});

/** A credential the admin issued. */
const Credential = z.object({
  credential_id: z.string(),
  kind: z.enum(["feed", "read"]),
  name: z.string(),
  token_hash: z.string(),
  created_at: z.string(),
  expires_at: z.string().nullable(),
});

const Version2 = Contents.extend({ version: z.literal(2), credentials: z.array(Credential) });

/** Backups written before credentials: only feeds, which become feed credentials. */
const Version1 = Contents.extend({
  version: z.literal(1),
  feeds: z.array(z.object({
    feed_id: z.string(),
    name: z.string(),
    token_hash: z.string(),
    created_at: z.string(),
  })),
}).transform(({ feeds, ...rest }): z.output<typeof Version2> => ({
  ...rest,
  version: 2,
  credentials: feeds.map(({ feed_id, ...feed }) => ({
    ...feed,
    credential_id: feed_id,
    kind: "feed",
    expires_at: null,
  })),
}));

/** The backup file, of any version this calsync reads; parsing gives the current one. */
export const Backup = z.discriminatedUnion("version", [Version2, Version1], {
  error: "version must be 1 or 2; a newer calsync wrote this file, restore it with that one",
});
/** A backup. */
export type Backup = z.output<typeof Backup>;

const ALL = { start: "0001-01-01T00:00:00Z", end: "9999-12-31T00:00:00Z" };

/** Everything `store` holds. */
export async function exportStore(store: Store, now: Date): Promise<Backup> {
  const issued = async (kind: "feed" | "read") =>
    (await store.listCredentials(kind, toInstant(now))).map((c) => ({ ...c, kind }));
  const [agents, events, feeds, readTokens, destinationIds] = await Promise.all([
    store.listAgents(),
    store.listEvents(ALL),
    issued("feed"),
    issued("read"),
    store.destinationIds(),
  ]);
  return {
    format: "calsync-backup",
    version: 2,
    created_at: now.toISOString(),
    agents: agents.map(({ sources, ...agent }) => ({
      ...agent,
      sources: sources.map(({ event_count: _, ...source }) => ({
        ...source,
        occurrences: events
          .filter((e) => e.agent_id === agent.agent_id && e.source_id === source.source_id)
          .map(({ agent_id: _a, source_id: _s, changed_at: _c, ...occurrence }) => occurrence),
      })),
    })),
    destinations: await Promise.all(destinationIds.map(async (id) => ({
      id,
      state: await store.destinationState(id),
      entries: await store.destinationEntries(id),
    }))),
    credentials: [...feeds, ...readTokens],
  };
}

/** Writes a backup into an empty store; throws when the store already holds data. */
export async function importStore(store: Store, backup: Backup): Promise<void> {
  const totals = await store.totals();
  if (totals.agents > 0 || (await store.destinationIds()).length > 0) {
    throw new Error(
      "the store is not empty; restore into a new DATA_DIR or an empty Redis (key prefix)",
    );
  }
  for (const agent of backup.agents) {
    const registration = {
      agent_id: agent.agent_id,
      agent_name: agent.agent_name,
      environment: agent.environment,
      version: agent.version,
      sources: agent.sources.map(({ source_id, name, type }) => ({ source_id, name, type })),
    };
    await store.registerAgent(registration, agent.token_hash ?? "", agent.created_at);
    if (agent.token_hash === null) await store.resetAgentToken(agent.agent_id);
    for (const source of agent.sources) {
      if (source.last_generated_at === null) continue;
      const snapshot = prepareSnapshot({
        window: ALL,
        generated_at: source.last_generated_at,
        settings: source.settings,
        warnings: source.warnings,
        events: source.occurrences,
      });
      await store.applySnapshot(
        agent.agent_id,
        source.source_id,
        snapshot,
        source.last_snapshot_at ?? source.last_generated_at,
      );
    }
    if (agent.last_seen !== null) {
      await store.recordHeartbeat(agent.agent_id, {
        ...(agent.sync_interval_minutes === null
          ? {}
          : { sync_interval_minutes: agent.sync_interval_minutes }),
        sources: agent.sources.map((s) => ({ source_id: s.source_id, last_error: s.last_error })),
      }, agent.last_seen);
    }
  }
  for (const destination of backup.destinations) {
    for (const entry of destination.entries) {
      await store.saveDestinationEntry(destination.id, entry);
    }
    if (destination.state) await store.saveDestinationState(destination.id, destination.state);
  }
  for (const credential of backup.credentials) await store.createCredential(credential);
}
