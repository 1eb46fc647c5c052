/**
 * The shared store: Redis (ioredis), so that several masters can serve the same agents.
 *
 * Key layout, every key under `keyPrefix` (default `calsync:`); ids inside key names are
 * URI-encoded, so `:` in an id cannot collide with the separators:
 *
 * | key                          | type   | contents                                         |
 * | ---------------------------- | ------ | ------------------------------------------------ |
 * | `agents`                     | set    | every agent id                                   |
 * | `agent:{agent}`              | hash   | agent_name, environment, version, created_at,    |
 * |                              |        | token_hash?, sync_interval_minutes?, last_seen?  |
 * | `agent_tokens`               | hash   | token hash → agent id                            |
 * | `sources:{agent}`            | set    | the agent's source ids                           |
 * | `source:{agent}:{source}`    | hash   | name, type, settings (JSON), rev, last_error?,   |
 * |                              |        | last_snapshot_at?, last_generated_at?            |
 * | `occ:{agent}:{source}`       | hash   | occurrence key → `start_ms end_ms hash data`     |
 * | `dest_items:{destination}`   | hash   | occurrence key → JSON `{href, etag, hash}`       |
 * | `dest_state:{destination}`   | string | JSON `DestinationState`                          |
 * | `feeds`                      | hash   | feed id → JSON `FeedRecord`                      |
 * | `feed_tokens`                | hash   | token hash → feed id                             |
 *
 * A field marked `?` is absent while its value is null. An occurrence's value is its start
 * and end in epoch milliseconds, its content hash, and the occurrence JSON, separated by
 * single spaces (the first three never contain one), so range filters and hash lookups
 * do not parse the JSON.
 *
 * Every method is atomic: one command, a `MULTI` block, or a Lua script. Applying a
 * snapshot reads the source's occurrences and its `rev` in one `MULTI`, plans the writes
 * with `planSnapshot`, and applies them in one Lua script that first checks that the
 * source still exists and that `rev` is unchanged (so the stale-snapshot check made on
 * that read still holds), then writes every occurrence, the source's
 * `last_snapshot_at`/`last_generated_at`/`settings`, and bumps `rev`. On a `rev`
 * conflict the whole apply is retried. A script runs alone and is replicated and
 * persisted as one unit, so readers and a restart see the old state or the new one.
 *
 * @module
 */
import { Redis, type RedisOptions } from "ioredis";
import {
  type Heartbeat,
  type Registration,
  SourceSettings,
  type StoredEvent,
} from "../../shared/protocol.ts";
import { toMillis } from "../../shared/time.ts";
import { type HeldOccurrence, planSnapshot, type PreparedSnapshot } from "../snapshots/plan.ts";
import {
  type AgentRecord,
  type AppliedSnapshot,
  type DestinationEntry,
  type DestinationState,
  type EventQuery,
  type FeedRecord,
  SnapshotRejected,
  type SourceRecord,
  type Store,
  type StoreTotals,
} from "./types.ts";

/** How to reach Redis. */
export type RedisStoreOptions = {
  /** A `redis://` or `rediss://` URL; host, port, password, db and tls then refine it. */
  url?: string;
  host?: string;
  port?: number;
  password?: string;
  db?: number;
  tls?: boolean;
  /** Prefix of every key; default `calsync:`. */
  keyPrefix?: string;
};

/** Attempts of a snapshot apply that lost a race with another apply of the same source. */
const APPLY_ATTEMPTS = 10;

const REGISTER = `
local old = redis.call('HGET', KEYS[2], 'token_hash')
if old and old ~= ARGV[5] and redis.call('HGET', KEYS[3], old) == ARGV[1] then
  redis.call('HDEL', KEYS[3], old)
end
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], 'agent_name', ARGV[2], 'environment', ARGV[3], 'version', ARGV[4],
  'token_hash', ARGV[5])
redis.call('HSETNX', KEYS[2], 'created_at', ARGV[6])
redis.call('HSET', KEYS[3], ARGV[5], ARGV[1])
for i = 5, #KEYS do
  local a = 7 + (i - 5) * 3
  redis.call('SADD', KEYS[4], ARGV[a])
  redis.call('HSET', KEYS[i], 'name', ARGV[a + 1], 'type', ARGV[a + 2])
  redis.call('HSETNX', KEYS[i], 'settings', '{}')
  redis.call('HSETNX', KEYS[i], 'rev', '0')
end
return 1`;

const RESET = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local old = redis.call('HGET', KEYS[1], 'token_hash')
if old then
  if redis.call('HGET', KEYS[2], old) == ARGV[1] then redis.call('HDEL', KEYS[2], old) end
  redis.call('HDEL', KEYS[1], 'token_hash')
end
return 1`;

/** Optional values travel as '' (absent/null) or 'v' followed by the value. */
const HEARTBEAT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'last_seen', ARGV[1])
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'version', string.sub(ARGV[2], 2)) end
if ARGV[3] ~= '' then
  redis.call('HSET', KEYS[1], 'sync_interval_minutes', string.sub(ARGV[3], 2))
end
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    local e = ARGV[i + 2]
    if e == '' then redis.call('HDEL', KEYS[i], 'last_error')
    else redis.call('HSET', KEYS[i], 'last_error', string.sub(e, 2)) end
  end
end
return 1`;

const APPLY = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 'unknown' end
local rev = redis.call('HGET', KEYS[1], 'rev') or '0'
if rev ~= ARGV[1] then return 'conflict' end
local i = 6
for _ = 1, tonumber(ARGV[5]) do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
  i = i + 2
end
while i <= #ARGV do
  redis.call('HDEL', KEYS[2], ARGV[i])
  i = i + 1
end
redis.call('HSET', KEYS[1], 'last_snapshot_at', ARGV[2], 'last_generated_at', ARGV[3],
  'settings', ARGV[4])
redis.call('HINCRBY', KEYS[1], 'rev', 1)
return 'ok'`;

const CREATE_FEED = `
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[3], ARGV[1])
return 1`;

const DELETE_FEED = `
local json = redis.call('HGET', KEYS[1], ARGV[1])
if not json then return 0 end
local token = cjson.decode(json).token_hash
if redis.call('HGET', KEYS[2], token) == ARGV[1] then redis.call('HDEL', KEYS[2], token) end
redis.call('HDEL', KEYS[1], ARGV[1])
return 1`;

/**
 * Takes or renews a lease: KEYS[1] the lease hash (owner, token; expires with PEXPIRE),
 * KEYS[2] its token counter, which never expires so tokens keep growing.
 */
const ACQUIRE_LEASE = `
local holder = redis.call('HGET', KEYS[1], 'owner')
if holder == false then
  local token = redis.call('INCR', KEYS[2])
  redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'token', token)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return token
end
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return tonumber(redis.call('HGET', KEYS[1], 'token'))
end
return false`;

/** Gives a lease up: KEYS[1] the lease hash, ARGV[1] the owner. */
const RELEASE_LEASE = `
if redis.call('HGET', KEYS[1], 'owner') == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1`;

/** The Redis implementation of `Store`. */
export class RedisStore implements Store {
  readonly backend = "redis";
  #redis: Redis;
  #prefix: string;

  private constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  /**
   * Connects and waits until Redis answers; throws when it cannot be reached. Commands
   * fail at once while the connection is down (no offline queue), and the client
   * reconnects by itself.
   */
  static async open(options: RedisStoreOptions = {}): Promise<RedisStore> {
    const settings: RedisOptions = {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      connectTimeout: 5_000,
      retryStrategy: (times) => Math.min(times * 50, 1_000),
    };
    if (options.host !== undefined) settings.host = options.host;
    if (options.port !== undefined) settings.port = options.port;
    if (options.password !== undefined) settings.password = options.password;
    if (options.db !== undefined) settings.db = options.db;
    if (options.tls) settings.tls = {};
    const redis = options.url === undefined
      ? new Redis(settings)
      : new Redis(options.url, settings);
    try {
      await new Promise<void>((resolve, reject) => {
        const onReady = () => {
          redis.off("error", onError);
          resolve();
        };
        const onError = (err: Error) => {
          redis.off("ready", onReady);
          reject(err);
        };
        redis.once("ready", onReady);
        redis.once("error", onError);
      });
    } catch (err) {
      redis.disconnect();
      throw new Error(`cannot reach Redis: ${(err as Error).message}`, { cause: err });
    }
    // Connection errors surface through the failing commands; the client reconnects.
    redis.on("error", () => {});
    return new RedisStore(redis, options.keyPrefix ?? "calsync:");
  }

  #key(...parts: string[]): string {
    const [kind, ...ids] = parts;
    return this.#prefix + [kind, ...ids.map(encodeURIComponent)].join(":");
  }

  async acquireLease(name: string, owner: string, ttlMs: number): Promise<number | null> {
    const token = await this.#redis.eval(
      ACQUIRE_LEASE,
      2,
      this.#key("lease", name),
      this.#key("lease_token", name),
      owner,
      String(Math.max(1, Math.round(ttlMs))),
    );
    return token === null ? null : Number(token);
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    await this.#redis.eval(RELEASE_LEASE, 1, this.#key("lease", name), owner);
  }

  async ping(): Promise<void> {
    await this.#redis.ping();
  }

  async close(): Promise<void> {
    if (this.#redis.status === "end") return;
    try {
      await this.#redis.quit();
    } catch {
      this.#redis.disconnect();
    }
  }

  async getAgent(agentId: string): Promise<AgentRecord | null> {
    return (await this.#agents([agentId]))[0] ?? null;
  }

  async findAgentIdByTokenHash(tokenHash: string): Promise<string | null> {
    return await this.#redis.hget(this.#key("agent_tokens"), tokenHash);
  }

  async listAgents(): Promise<AgentRecord[]> {
    const ids = await this.#redis.smembers(this.#key("agents"));
    return this.#agents(ids.sort(compareBinary));
  }

  async #agents(ids: string[]): Promise<AgentRecord[]> {
    if (ids.length === 0) return [];
    const first = this.#redis.multi();
    for (const id of ids) {
      first.hgetall(this.#key("agent", id));
      first.smembers(this.#key("sources", id));
    }
    const replies = results(await first.exec());
    const found: { id: string; agent: Record<string, string>; sourceIds: string[] }[] = [];
    for (let i = 0; i < ids.length; i++) {
      const agent = replies[2 * i] as Record<string, string>;
      if (Object.keys(agent).length === 0) continue;
      const sourceIds = (replies[2 * i + 1] as string[]).sort(compareBinary);
      found.push({ id: ids[i], agent, sourceIds });
    }
    let sourceReplies: unknown[] = [];
    if (found.some((f) => f.sourceIds.length > 0)) {
      const second = this.#redis.multi();
      for (const { id, sourceIds } of found) {
        for (const s of sourceIds) {
          second.hgetall(this.#key("source", id, s));
          second.hlen(this.#key("occ", id, s));
        }
      }
      sourceReplies = results(await second.exec());
    }
    let n = 0;
    return found.map(({ id, agent, sourceIds }) => ({
      agent_id: id,
      agent_name: agent.agent_name,
      environment: agent.environment,
      version: agent.version,
      token_hash: agent.token_hash ?? null,
      sync_interval_minutes: agent.sync_interval_minutes === undefined
        ? null
        : Number(agent.sync_interval_minutes),
      created_at: agent.created_at,
      last_seen: agent.last_seen ?? null,
      sources: sourceIds.map((sourceId) => {
        const s = sourceReplies[n++] as Record<string, string>;
        const count = sourceReplies[n++] as number;
        return toSourceRecord(sourceId, s, count);
      }),
    }));
  }

  async registerAgent(registration: Registration, tokenHash: string, now: string): Promise<void> {
    const id = registration.agent_id;
    const keys = [
      this.#key("agents"),
      this.#key("agent", id),
      this.#key("agent_tokens"),
      this.#key("sources", id),
      ...registration.sources.map((s) => this.#key("source", id, s.source_id)),
    ];
    const args = [
      id,
      registration.agent_name,
      registration.environment,
      registration.version,
      tokenHash,
      now,
      ...registration.sources.flatMap((s) => [s.source_id, s.name, s.type]),
    ];
    await this.#redis.eval(REGISTER, keys.length, ...keys, ...args);
  }

  async resetAgentToken(agentId: string): Promise<boolean> {
    const done = await this.#redis.eval(
      RESET,
      2,
      this.#key("agent", agentId),
      this.#key("agent_tokens"),
      agentId,
    );
    return done === 1;
  }

  async recordHeartbeat(agentId: string, heartbeat: Heartbeat, now: string): Promise<void> {
    const optional = (v: string | number | null | undefined) =>
      v === null || v === undefined ? "" : `v${v}`;
    const keys = [
      this.#key("agent", agentId),
      ...heartbeat.sources.map((s) => this.#key("source", agentId, s.source_id)),
    ];
    const args = [
      now,
      optional(heartbeat.version),
      optional(heartbeat.sync_interval_minutes),
      ...heartbeat.sources.map((s) => optional(s.last_error)),
    ];
    await this.#redis.eval(HEARTBEAT, keys.length, ...keys, ...args);
  }

  async applySnapshot(
    agentId: string,
    sourceId: string,
    snapshot: PreparedSnapshot,
    now: string,
  ): Promise<AppliedSnapshot> {
    const sourceKey = this.#key("source", agentId, sourceId);
    const occKey = this.#key("occ", agentId, sourceId);
    const unknown = () =>
      new SnapshotRejected(
        "unknown_source",
        `source '${sourceId}' is not registered for agent '${agentId}'; ` +
          "the agent declares its sources when it registers",
      );
    const settings = JSON.stringify(snapshot.settings);
    for (let attempt = 0; attempt < APPLY_ATTEMPTS; attempt++) {
      const [source, stored] = results(
        await this.#redis.multi().hgetall(sourceKey).hgetall(occKey).exec(),
      ) as [Record<string, string>, Record<string, string>];
      if (Object.keys(source).length === 0) throw unknown();
      const lastGenerated = source.last_generated_at;
      if (lastGenerated && snapshot.generated_at < lastGenerated) {
        throw new SnapshotRejected(
          "stale_snapshot",
          `this snapshot was generated at ${snapshot.generated_at}, before the one already ` +
            `applied (${lastGenerated}); send a fresh snapshot`,
        );
      }
      const held: HeldOccurrence[] = Object.entries(stored).map(([key, value]) =>
        parseHeld(key, value)
      );
      const plan = planSnapshot(held, snapshot);
      const args: (string | number)[] = [
        source.rev ?? "0",
        now,
        snapshot.generated_at,
        settings,
        plan.upserts.length,
      ];
      for (const r of plan.upserts) {
        args.push(r.key, `${r.start_ms} ${r.end_ms} ${r.hash} ${r.data}`);
      }
      for (const key of plan.deletes) args.push(key);
      const outcome = await this.#redis.eval(APPLY, 2, sourceKey, occKey, ...args);
      if (outcome === "unknown") throw unknown();
      if (outcome === "conflict") continue;
      const changed = plan.upserts.length > 0 || plan.deletes.length > 0 ||
        !sameSettings(source.settings ?? "{}", snapshot.settings);
      return { result: plan.result, changed };
    }
    throw new Error(
      `source '${sourceId}' of agent '${agentId}' kept changing during ${APPLY_ATTEMPTS} ` +
        "attempts to apply a snapshot; try again",
    );
  }

  async knownHashes(agentId: string, sourceId: string): Promise<Set<string>> {
    const values = await this.#redis.hvals(this.#key("occ", agentId, sourceId));
    return new Set(values.map((v) => v.split(" ", 3)[2]));
  }

  async listEvents(query: EventQuery): Promise<StoredEvent[]> {
    const startMs = toMillis(query.start);
    const endMs = toMillis(query.end);
    const agentIds = query.agent_id === undefined
      ? await this.#redis.smembers(this.#key("agents"))
      : [query.agent_id];
    if (agentIds.length === 0) return [];
    const sourcesOf = this.#redis.multi();
    for (const a of agentIds) sourcesOf.smembers(this.#key("sources", a));
    const sourceLists = results(await sourcesOf.exec()) as string[][];
    const pairs: [string, string][] = [];
    agentIds.forEach((a, i) => {
      for (const s of sourceLists[i]) {
        if (query.source_id === undefined || s === query.source_id) pairs.push([a, s]);
      }
    });
    if (pairs.length === 0) return [];
    const read = this.#redis.multi();
    for (const [a, s] of pairs) read.hgetall(this.#key("occ", a, s));
    const stored = results(await read.exec()) as Record<string, string>[];
    const hits: { start_ms: number; key: string; agent: string; source: string; data: string }[] =
      [];
    pairs.forEach(([agent, source], i) => {
      for (const [key, value] of Object.entries(stored[i])) {
        const [start, end, , data] = splitValue(value);
        const start_ms = Number(start);
        if (start_ms < endMs && Number(end) > startMs) {
          hits.push({ start_ms, key, agent, source, data });
        }
      }
    });
    hits.sort((x, y) =>
      x.start_ms - y.start_ms || compareBinary(x.key, y.key) ||
      compareBinary(x.agent, y.agent) || compareBinary(x.source, y.source)
    );
    return hits.map((h) => ({ ...JSON.parse(h.data), agent_id: h.agent, source_id: h.source }));
  }

  async totals(): Promise<StoreTotals> {
    const agentIds = await this.#redis.smembers(this.#key("agents"));
    if (agentIds.length === 0) return { agents: 0, sources: 0, events: 0 };
    const sourcesOf = this.#redis.multi();
    for (const a of agentIds) sourcesOf.smembers(this.#key("sources", a));
    const sourceLists = results(await sourcesOf.exec()) as string[][];
    const occKeys = agentIds.flatMap((a, i) => sourceLists[i].map((s) => this.#key("occ", a, s)));
    let events = 0;
    if (occKeys.length > 0) {
      const count = this.#redis.multi();
      for (const key of occKeys) count.hlen(key);
      events = (results(await count.exec()) as number[]).reduce((sum, n) => sum + n, 0);
    }
    const sources = occKeys.length;
    return { agents: agentIds.length, sources, events };
  }

  async destinationIds(): Promise<string[]> {
    const ids = new Set<string>();
    for (const kind of ["dest_items", "dest_state"]) {
      const prefix = this.#key(kind, "");
      // Few keys match; SCAN keeps even a shared Redis responsive.
      for await (const keys of this.#redis.scanStream({ match: `${prefix}*`, count: 200 })) {
        for (const key of keys as string[]) ids.add(decodeURIComponent(key.slice(prefix.length)));
      }
    }
    return [...ids].sort();
  }

  async destinationEntries(destinationId: string): Promise<DestinationEntry[]> {
    const items = await this.#redis.hgetall(this.#key("dest_items", destinationId));
    return Object.entries(items)
      .sort(([a], [b]) => compareBinary(a, b))
      .map(([key, json]) => {
        const { href, etag, hash } = JSON.parse(json) as Omit<DestinationEntry, "key">;
        return { key, href, etag, hash };
      });
  }

  async saveDestinationEntry(destinationId: string, entry: DestinationEntry): Promise<void> {
    const { key, href, etag, hash } = entry;
    await this.#redis.hset(
      this.#key("dest_items", destinationId),
      key,
      JSON.stringify({ href, etag, hash }),
    );
  }

  async deleteDestinationEntry(destinationId: string, key: string): Promise<void> {
    await this.#redis.hdel(this.#key("dest_items", destinationId), key);
  }

  async destinationState(destinationId: string): Promise<DestinationState | null> {
    const json = await this.#redis.get(this.#key("dest_state", destinationId));
    if (json === null) return null;
    const s = JSON.parse(json) as DestinationState;
    return {
      change_token: s.change_token,
      last_reconcile_at: s.last_reconcile_at,
      last_error: s.last_error,
      pending: s.pending,
    };
  }

  async saveDestinationState(destinationId: string, state: DestinationState): Promise<void> {
    const { change_token, last_reconcile_at, last_error, pending } = state;
    await this.#redis.set(
      this.#key("dest_state", destinationId),
      JSON.stringify({ change_token, last_reconcile_at, last_error, pending }),
    );
  }

  async createFeed(feed: FeedRecord): Promise<void> {
    const { feed_id, name, token_hash, created_at } = feed;
    const created = await this.#redis.eval(
      CREATE_FEED,
      2,
      this.#key("feeds"),
      this.#key("feed_tokens"),
      feed_id,
      JSON.stringify({ feed_id, name, token_hash, created_at }),
      token_hash,
    );
    if (created !== 1) throw new Error(`feed '${feed_id}' exists already`);
  }

  async listFeeds(): Promise<FeedRecord[]> {
    const feeds = (await this.#redis.hvals(this.#key("feeds"))).map((json) =>
      JSON.parse(json) as FeedRecord
    );
    return feeds.sort((a, b) =>
      compareBinary(a.created_at, b.created_at) || compareBinary(a.feed_id, b.feed_id)
    );
  }

  async findFeedByTokenHash(tokenHash: string): Promise<FeedRecord | null> {
    const feedId = await this.#redis.hget(this.#key("feed_tokens"), tokenHash);
    if (feedId === null) return null;
    const json = await this.#redis.hget(this.#key("feeds"), feedId);
    return json === null ? null : JSON.parse(json) as FeedRecord;
  }

  async deleteFeed(feedId: string): Promise<boolean> {
    const deleted = await this.#redis.eval(
      DELETE_FEED,
      2,
      this.#key("feeds"),
      this.#key("feed_tokens"),
      feedId,
    );
    return deleted === 1;
  }
}

/** The replies of an `exec`, throwing the first command error (or when it was aborted). */
function results(replies: [Error | null, unknown][] | null): unknown[] {
  if (replies === null) throw new Error("Redis transaction was aborted");
  return replies.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}

/** An occurrence value split into start, end, hash and JSON. */
function splitValue(value: string): [string, string, string, string] {
  const a = value.indexOf(" ");
  const b = value.indexOf(" ", a + 1);
  const c = value.indexOf(" ", b + 1);
  return [value.slice(0, a), value.slice(a + 1, b), value.slice(b + 1, c), value.slice(c + 1)];
}

function parseHeld(key: string, value: string): HeldOccurrence {
  const [start, end, hash] = splitValue(value);
  return { key, hash, start_ms: Number(start), end_ms: Number(end) };
}

/**
 * Orders strings by their UTF-8 bytes, as SQLite's BINARY collation does (UTF-16 code
 * unit order differs only for surrogates against U+E000..U+FFFF).
 */
function compareBinary(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return utf8Rank(x) - utf8Rank(y);
  }
  return a.length - b.length;
}

function utf8Rank(unit: number): number {
  if (unit >= 0xd800 && unit < 0xe000) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}

/** Whether stored settings JSON says the same as `settings` (defaults filled in). */
function sameSettings(stored: string, settings: SourceSettings): boolean {
  return JSON.stringify(SourceSettings.parse(JSON.parse(stored))) === JSON.stringify(settings);
}

function toSourceRecord(
  sourceId: string,
  s: Record<string, string>,
  eventCount: number,
): SourceRecord {
  return {
    source_id: sourceId,
    name: s.name,
    type: s.type,
    event_count: eventCount,
    last_snapshot_at: s.last_snapshot_at ?? null,
    last_generated_at: s.last_generated_at ?? null,
    last_error: s.last_error ?? null,
    settings: SourceSettings.parse(JSON.parse(s.settings ?? "{}")),
  };
}
