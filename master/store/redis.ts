/**
 * The shared store: Redis (ioredis), so that several masters can serve the same agents.
 *
 * Key layout, every key under `keyPrefix` (default `calsync:`); ids inside key names are
 * URI-encoded, so `:` in an id cannot collide with the separators:
 *
 * | key                              | type   | contents                                        |
 * | -------------------------------- | ------ | ----------------------------------------------- |
 * | `agents`                         | set    | every agent id                                  |
 * | `agent:{agent}`                  | hash   | agent_name, environment, version, created_at,   |
 * |                                  |        | token_hash?, sync_interval_minutes?, last_seen? |
 * | `agent_tokens`                   | hash   | token hash → agent id                           |
 * | `sources:{agent}`                | set    | the agent's source ids                          |
 * | `source:{agent}:{source}`        | hash   | name, type, settings (JSON), rev, last_error?,  |
 * |                                  |        | last_snapshot_at?, last_generated_at?,          |
 * |                                  |        | warnings? (JSON `WarningSummary`)               |
 * | `occ:{agent}:{source}`           | hash   | occurrence key → `start_ms end_ms hash          |
 * |                                  |        | changed_ms data`                                |
 * | `occ_start:{agent}:{source}`     | zset   | occurrence keys scored by start_ms (see         |
 * |                                  |        | `redis_start_index.ts`; source field max_span)  |
 * | `staging:{agent}:{source}:{id}`  | hash   | rows of an upload being received, key →         |
 * |                                  |        | `start_ms end_ms hash data`; expire in an hour  |
 * | `dest_items:{destination}`       | hash   | occurrence key → JSON `{href, etag, hash,       |
 * |                                  |        | end_ms?}`                                       |
 * | `dest_state:{destination}`       | string | JSON `DestinationState`                         |
 * | `credentials:{kind}`             | zset   | credential id, scored by expiry in epoch ms     |
 * |                                  |        | (`+inf`: never)                                 |
 * | `credential:{kind}:{id}`         | string | JSON `CredentialRecord`; expires with it        |
 * | `credential_token:{kind}:{hash}` | string | the id of the credential whose token hashes to  |
 * |                                  |        | `hash`; expires with it                         |
 * | `activity_destinations`          | set    | ids of destinations with activity entries       |
 * | `activity:{destination}`         | zset   | JSON `ActivityEntry`, scored by its start in    |
 * |                                  |        | epoch ms                                        |
 *
 * A field marked `?` is absent while its value is null. An occurrence's value is its start
 * and end in epoch milliseconds, its content hash, when it last changed in epoch
 * milliseconds, and the occurrence JSON, separated by single spaces (the first four never
 * contain one), so range filters and hash lookups do not parse the JSON. Values written
 * before masters kept the change time lack it: their JSON follows the hash.
 *
 * Every method is atomic: one command, a `MULTI` block, or a Lua script. Applying a
 * snapshot reads the source's occurrences and its `rev` in one `MULTI`, plans the writes
 * with `planSnapshot`, and applies them in one Lua script that first checks that the
 * source still exists and that `rev` is unchanged (so the stale-snapshot check made on
 * that read still holds), then writes every occurrence, the source's
 * `last_snapshot_at`/`last_generated_at`/`settings`/`warnings`, and bumps `rev`. On a `rev`
 * conflict the whole apply is retried. A script runs alone and is replicated and
 * persisted as one unit, so readers and a restart see the old state or the new one.
 * Removing a source or an agent is one Lua script too; it deletes the source's hash, so
 * an apply planned before the removal finds the source gone and writes nothing.
 *
 * A credential's two keys expire by themselves (`PXAT`), and the expired ids leave the
 * kind's index when the next credential is created. Before credentials, feeds lived in
 * the hashes `feeds` (feed id → JSON) and `feed_tokens` (token hash → feed id); opening
 * the store moves any found there into credentials of kind `feed`, so feed URLs survive
 * the upgrade.
 *
 * Pruning old occurrences takes the keys that started before the cutoff from each source's
 * start index and deletes the ones that ended before it in one Lua script per source and
 * batch, which checks each end, gives the destination entries of those keys their `end_ms`
 * when they lack it, and bumps the source's `rev`, so an apply planned on the older read
 * retries.
 *
 * `authfail:{address}` strings count failed authentications of a client address; each
 * expires at the end of its window, so the key count stays bounded.
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
import { storedWarnings } from "./warnings.ts";
import { redisStorageError, type StorageFullError } from "./errors.ts";
import {
  type HeldOccurrence,
  type OccurrenceRow,
  planSnapshot,
  type PreparedSnapshot,
  type SnapshotHeader,
  staleReason,
} from "../snapshots/plan.ts";
import { applyPrepared, inMemory, type SnapshotStaging, StagedRows } from "./staging.ts";
import { EVENT_PAGE, INDEX_SOURCE, INDEX_UPKEEP, type SourceMode } from "./redis_start_index.ts";
import {
  type AgentRecord,
  type AppliedSnapshot,
  type CredentialKind,
  type CredentialRecord,
  type DestinationEntry,
  type DestinationState,
  type EventPage,
  type EventPageRequest,
  type EventQuery,
  SnapshotRejected,
  type SourceRecord,
  type Store,
  type StoreSize,
  type StoreTotals,
  withChangedAt,
} from "./types.ts";
import type { ActivityEntry, ActivityQuery, ActivityRetention } from "./activity.ts";

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

/**
 * Attempts of a snapshot apply that lost a race with another apply of the same source, or
 * of an agent removal that lost one with a registration.
 */
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

/**
 * Applies a planned snapshot: KEYS[1] the source hash, KEYS[2] its occurrences, KEYS[3]
 * its start index (kept by the `index_*` functions of `INDEX_UPKEEP`), KEYS[4] the
 * staging hash of the upload. ARGV: the source's `rev` as read, last_snapshot_at,
 * last_generated_at, settings, warnings, the change time in epoch ms, the number of
 * upserts; then per upsert its key and value; then the keys to delete. Every row staged
 * in KEYS[4] (as `start end hash data`, to which the change time is added) is written
 * where its key is new or its hash differs, exactly as the plan counted them, without
 * its key travelling back and forth. The staging hash goes with the apply.
 */
const APPLY = INDEX_UPKEEP + `
if redis.call('EXISTS', KEYS[1]) == 0 then return 'unknown' end
local rev = redis.call('HGET', KEYS[1], 'rev') or '0'
if rev ~= ARGV[1] then return 'conflict' end
local cursor = '0'
repeat
  local page = redis.call('HSCAN', KEYS[4], cursor, 'COUNT', 1000)
  cursor = page[1]
  local rows = page[2]
  for j = 1, #rows, 2 do
    local key = rows[j]
    local bounds, hash, data = string.match(rows[j + 1], '^(%S+ %S+) (%S+) (.*)$')
    local old = redis.call('HGET', KEYS[2], key)
    if not old or string.match(old, '^%S+ %S+ (%S+)') ~= hash then
      local value = bounds .. ' ' .. hash .. ' ' .. ARGV[6] .. ' ' .. data
      redis.call('HSET', KEYS[2], key, value)
      index_upsert(key, value)
    end
  end
until cursor == '0'
local i = 8
for _ = 1, tonumber(ARGV[7]) do
  local value = ARGV[i + 1]
  redis.call('HSET', KEYS[2], ARGV[i], value)
  index_upsert(ARGV[i], value)
  i = i + 2
end
while i <= #ARGV do
  redis.call('HDEL', KEYS[2], ARGV[i])
  index_remove(ARGV[i])
  i = i + 1
end
index_finish()
redis.call('HSET', KEYS[1], 'last_snapshot_at', ARGV[2], 'last_generated_at', ARGV[3],
  'settings', ARGV[4], 'warnings', ARGV[5])
redis.call('HINCRBY', KEYS[1], 'rev', 1)
redis.call('DEL', KEYS[4])
return 'ok'`;

/**
 * What a source holds of each occurrence to plan a snapshot: KEYS[1] its occurrences (or
 * the rows an upload staged). Answers key and `start end hash` of each, flat, leaving the
 * JSON in Redis.
 */
const HELD = `
local all = redis.call('HGETALL', KEYS[1])
local held = {}
for i = 1, #all, 2 do
  held[#held + 1] = all[i]
  held[#held + 1] = string.match(all[i + 1], '^%S+ %S+ %S+')
end
return held`;

/** The content hash of each occurrence of a source: KEYS[1] its occurrences. */
const HASHES = `
local values = redis.call('HVALS', KEYS[1])
local hashes = {}
for i = 1, #values do hashes[i] = string.match(values[i], '^%S+ %S+ (%S+)') end
return hashes`;

/** How long the rows of an upload stay staged when its master never applies them. */
const STAGING_TTL_MS = 3_600_000;

/**
 * Removes a source: KEYS[1] the agent's source set, KEYS[2] the source hash, KEYS[3] its
 * occurrences, KEYS[4] its start index; ARGV[1] the source id. Answers 1, or 0 when
 * nothing was there.
 */
const REMOVE_SOURCE = `
local removed = redis.call('SREM', KEYS[1], ARGV[1]) +
  redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
if removed > 0 then return 1 end
return 0`;

/**
 * Removes an agent: KEYS[1] the agent set, KEYS[2] the agent hash, KEYS[3] agent_tokens,
 * KEYS[4] its source set, then each source's hash, occurrences and start index; ARGV[1]
 * the agent id, then the source ids those keys were computed from. 'conflict' when the
 * agent's sources changed since they were read (a registration in between).
 */
const REMOVE_AGENT = `
if redis.call('SCARD', KEYS[4]) ~= #ARGV - 1 then return 'conflict' end
for i = 2, #ARGV do
  if redis.call('SISMEMBER', KEYS[4], ARGV[i]) == 0 then return 'conflict' end
end
local token = redis.call('HGET', KEYS[2], 'token_hash')
if token and redis.call('HGET', KEYS[3], token) == ARGV[1] then
  redis.call('HDEL', KEYS[3], token)
end
local removed = redis.call('SREM', KEYS[1], ARGV[1]) + redis.call('DEL', KEYS[2], KEYS[4])
for i = 5, #KEYS do removed = removed + redis.call('DEL', KEYS[i]) end
if removed > 0 then return 'ok' end
return 'unknown'`;

/**
 * Creates a credential: KEYS[1] the kind's index, KEYS[2] the record, KEYS[3] the token
 * key; ARGV[1] the id, ARGV[2] the JSON, ARGV[3] the expiry in epoch ms ('+inf': never),
 * ARGV[4] the creation time in epoch ms, up to which expired ids are pruned.
 */
const CREATE_CREDENTIAL = `
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
if ARGV[3] == '+inf' then
  redis.call('SET', KEYS[2], ARGV[2])
  redis.call('SET', KEYS[3], ARGV[1])
else
  redis.call('SET', KEYS[2], ARGV[2], 'PXAT', ARGV[3])
  redis.call('SET', KEYS[3], ARGV[1], 'PXAT', ARGV[3])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[4])
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1`;

/**
 * Deletes a credential: KEYS[1] the kind's index, KEYS[2] the record, KEYS[3] the token
 * key; ARGV[1] the id, ARGV[2] the record's JSON as read before (0 when it is gone).
 */
const DELETE_CREDENTIAL = `
if redis.call('GET', KEYS[2]) ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[2])
if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
redis.call('ZREM', KEYS[1], ARGV[1])
return 1`;

/**
 * Moves feeds of the old layout into credentials: KEYS[1] `feeds`, KEYS[2] `feed_tokens`,
 * KEYS[3] the feed credential index, then per feed its record and token keys; ARGV per
 * feed: id, old JSON, new JSON, token hash. A feed whose old JSON changed meanwhile (an
 * old master deleted it) is left for the next open.
 */
const MIGRATE_FEEDS = `
for i = 1, #ARGV / 4 do
  local a = (i - 1) * 4
  local id, token = ARGV[a + 1], ARGV[a + 4]
  if redis.call('HGET', KEYS[1], id) == ARGV[a + 2] then
    redis.call('SET', KEYS[2 + 2 * i], ARGV[a + 3])
    redis.call('SET', KEYS[3 + 2 * i], id)
    redis.call('ZADD', KEYS[3], '+inf', id)
    redis.call('HDEL', KEYS[1], id)
    if redis.call('HGET', KEYS[2], token) == id then redis.call('HDEL', KEYS[2], token) end
  end
end
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('DEL', KEYS[2]) end
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

/**
 * Deletes occurrences that ended before a cutoff: KEYS[1] the source hash, KEYS[2] its
 * occurrences, KEYS[3] its start index, then every destination's entries; ARGV[1] the
 * cutoff in epoch ms, then the occurrence keys found ending before it. Answers how many
 * went.
 */
const PRUNE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local cutoff = tonumber(ARGV[1])
local removed = 0
for i = 2, #ARGV do
  local value = redis.call('HGET', KEYS[2], ARGV[i])
  if value then
    local a = string.find(value, ' ', 1, true)
    local b = string.find(value, ' ', a + 1, true)
    local ends = tonumber(string.sub(value, a + 1, b - 1))
    if ends < cutoff then
      redis.call('HDEL', KEYS[2], ARGV[i])
      redis.call('ZREM', KEYS[3], ARGV[i])
      removed = removed + 1
      for d = 4, #KEYS do
        local json = redis.call('HGET', KEYS[d], ARGV[i])
        if json then
          local entry = cjson.decode(json)
          if entry.end_ms == nil or entry.end_ms == cjson.null then
            entry.end_ms = ends
            redis.call('HSET', KEYS[d], ARGV[i], cjson.encode(entry))
          end
        end
      end
    end
  end
end
if removed > 0 then redis.call('HINCRBY', KEYS[1], 'rev', 1) end
return removed`;

/**
 * Counts a failure in a window: KEYS[1] the counter; ARGV[1] the window in ms, which
 * starts with the first failure. Answers the count and the ms left of the window.
 */
const COUNT_FAILURE = `
local count = redis.call('INCR', KEYS[1])
if count == 1 or redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return {count, redis.call('PTTL', KEYS[1])}`;

/** The Redis implementation of `Store`. */
export class RedisStore implements Store {
  readonly backend = "redis";
  #redis: Redis;
  #prefix: string;
  /** The last agent write's refusal for want of memory; null once one succeeds. */
  #writeFailure: StorageFullError | null = null;
  /** The connection in subscriber mode for change announcements; opened on first watch. */
  #subscriber: Redis | null = null;
  /**
   * Where the last batch of a prune stopped: the source's occurrences key and how many of
   * its occurrences that started before the cutoff were found still running.
   */
  #pruneResume: { cutoff: number; occKey: string; running: number } | null = null;

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
    const store = new RedisStore(redis, options.keyPrefix ?? "calsync:");
    try {
      await store.#migrateFeeds();
      await store.#indexOccurrences();
    } catch (err) {
      redis.disconnect();
      throw err;
    }
    return store;
  }

  /** Moves feeds of the layout before credentials into feed credentials; idempotent. */
  async #migrateFeeds(): Promise<void> {
    const feeds = Object.entries(await this.#redis.hgetall(this.#key("feeds")));
    if (feeds.length === 0) return;
    const keys = [this.#key("feeds"), this.#key("feed_tokens"), this.#key("credentials", "feed")];
    const args: string[] = [];
    for (const [id, json] of feeds) {
      const feed = JSON.parse(json) as { name: string; token_hash: string; created_at: string };
      const credential: CredentialRecord = {
        credential_id: id,
        kind: "feed",
        name: feed.name,
        token_hash: feed.token_hash,
        created_at: feed.created_at,
        expires_at: null,
      };
      keys.push(
        this.#key("credential", "feed", id),
        this.#key("credential_token", "feed", feed.token_hash),
      );
      args.push(id, json, JSON.stringify(credential), feed.token_hash);
    }
    await this.#redis.eval(MIGRATE_FEEDS, keys.length, ...keys, ...args);
  }

  /**
   * Awaits the write `pending`, turning Redis's refusal at its `maxmemory` into a
   * `StorageFullError` that `ping` repeats until a write succeeds again. Only the agents'
   * writes (register, heartbeat, snapshot, with the MULTI that reads before a snapshot's
   * write) go through here: they are what fills Redis.
   */
  async #written<T>(pending: Promise<T>): Promise<T> {
    try {
      const value = await pending;
      this.#writeFailure = null;
      return value;
    } catch (err) {
      const full = redisStorageError(err);
      if (full === null) throw err;
      this.#writeFailure = full;
      throw full;
    }
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

  async leaseRemainingMs(name: string): Promise<number | null> {
    // PTTL answers -2 for no key; a lease always has an expiry, so -1 cannot occur.
    const ms = await this.#redis.pttl(this.#key("lease", name));
    return ms < 0 ? null : ms;
  }

  async announceChange(origin: string): Promise<void> {
    await this.#redis.publish(this.#key("changed"), origin);
  }

  watchChanges(listener: (origin: string | null) => void): () => void {
    const channel = this.#key("changed");
    // A subscribed connection may send no other command, hence a connection of its own;
    // ioredis subscribes it again after every reconnect. Its queue holds the SUBSCRIBE
    // until it has connected, which the store's own connection refuses to do.
    const subscriber = this.#subscriber ??= this.#redis.duplicate({ enableOfflineQueue: true });
    subscriber.on("error", () => {});
    const onMessage = (from: string, origin: string) => {
      if (from === channel) listener(origin);
    };
    let connected = false;
    // After a reconnect, what was announced meanwhile is lost: treat it as a change.
    const onReady = () => {
      if (connected) listener(null);
      connected = true;
    };
    subscriber.on("message", onMessage);
    subscriber.on("ready", onReady);
    subscriber.subscribe(channel).catch(() => {});
    return () => {
      subscriber.off("message", onMessage);
      subscriber.off("ready", onReady);
    };
  }

  async recordActivity(entry: ActivityEntry, retention: ActivityRetention): Promise<void> {
    const started = toMillis(entry.started_at);
    const { id, ...rest } = entry;
    const destinations = this.#key("activity_destinations");
    const known = await this.#redis.smembers(destinations);
    const multi = this.#redis.multi()
      .sadd(destinations, entry.destination_id)
      // The id leads the JSON, so entries of one instant sort by id.
      .zadd(
        this.#key("activity", entry.destination_id),
        started,
        JSON.stringify({ id, ...rest }),
      );
    // Each removal seeks the sorted set's ends: it touches only what it removes.
    for (const destination of new Set([...known, entry.destination_id])) {
      multi.zremrangebyscore(
        this.#key("activity", destination),
        "-inf",
        `(${started - retention.max_age_ms}`,
      );
    }
    multi.zremrangebyrank(
      this.#key("activity", entry.destination_id),
      0,
      -(retention.max_entries + 1),
    );
    results(await multi.exec());
  }

  async listActivity(query: ActivityQuery): Promise<ActivityEntry[]> {
    const ids = query.destination_id === undefined
      ? await this.#redis.smembers(this.#key("activity_destinations"))
      : [query.destination_id];
    const min = query.since === undefined ? "-inf" : String(toMillis(query.since));
    const read = this.#redis.multi();
    for (const id of ids) {
      read.zrevrangebyscore(this.#key("activity", id), "+inf", min, "LIMIT", 0, query.limit);
    }
    const entries = (results(await read.exec()) as string[][]).flat()
      .map((json) => JSON.parse(json) as ActivityEntry);
    return entries
      .sort((a, b) => toMillis(b.started_at) - toMillis(a.started_at) || compareBinary(b.id, a.id))
      .slice(0, query.limit);
  }

  async ping(): Promise<void> {
    await this.#redis.ping();
    // A Redis at its maxmemory still answers PING; only a write tells.
    if (this.#writeFailure) throw this.#writeFailure;
  }

  async close(): Promise<void> {
    this.#subscriber?.disconnect();
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
    await this.#written(this.#redis.eval(REGISTER, keys.length, ...keys, ...args));
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
    await this.#written(this.#redis.eval(HEARTBEAT, keys.length, ...keys, ...args));
  }

  async removeSource(agentId: string, sourceId: string): Promise<boolean> {
    const removed = await this.#redis.eval(
      REMOVE_SOURCE,
      4,
      this.#key("sources", agentId),
      this.#key("source", agentId, sourceId),
      this.#key("occ", agentId, sourceId),
      this.#key("occ_start", agentId, sourceId),
      sourceId,
    );
    return removed === 1;
  }

  async removeAgent(agentId: string): Promise<boolean> {
    for (let attempt = 0; attempt < APPLY_ATTEMPTS; attempt++) {
      const sourceIds = await this.#redis.smembers(this.#key("sources", agentId));
      const sourceKeys = sourceIds.flatMap((s) => [
        this.#key("source", agentId, s),
        this.#key("occ", agentId, s),
        this.#key("occ_start", agentId, s),
      ]);
      const keys = [
        this.#key("agents"),
        this.#key("agent", agentId),
        this.#key("agent_tokens"),
        this.#key("sources", agentId),
        ...sourceKeys,
      ];
      const outcome = await this.#redis.eval(
        REMOVE_AGENT,
        keys.length,
        ...keys,
        agentId,
        ...sourceIds,
      );
      if (outcome !== "conflict") return outcome === "ok";
    }
    throw new Error(
      `agent '${agentId}' kept changing its sources during ${APPLY_ATTEMPTS} attempts to ` +
        "remove it; try again",
    );
  }

  applySnapshot(
    agentId: string,
    sourceId: string,
    snapshot: PreparedSnapshot,
    now: string,
  ): Promise<AppliedSnapshot> {
    return applyPrepared(this.stageSnapshot(agentId, sourceId), snapshot, now);
  }

  stageSnapshot(agentId: string, sourceId: string): SnapshotStaging {
    const stagingKey = this.#key("staging", agentId, sourceId, crypto.randomUUID());
    const rows = new StagedRows();
    const spill = async (moving: OccurrenceRow[]) => {
      const write = this.#redis.multi();
      for (let i = 0; i < moving.length; i += 500) {
        const fields: string[] = [];
        for (const r of moving.slice(i, i + 500)) {
          fields.push(r.key, `${r.start_ms} ${r.end_ms} ${r.hash} ${r.data}`);
        }
        write.hset(stagingKey, ...fields);
      }
      write.pexpire(stagingKey, STAGING_TTL_MS);
      results(await this.#written(write.exec()));
    };
    return {
      add: (added, options) => rows.add(added, spill, options),
      keep: (kept) => rows.keep(kept),
      apply: (header, now) => this.#applyStaged(agentId, sourceId, stagingKey, rows, header, now),
      discard: async () => {
        if (rows.spilled) await this.#redis.del(stagingKey);
        rows.clear();
      },
    };
  }

  /** Applies the staged `rows`; see `SnapshotStaging.apply`. */
  async #applyStaged(
    agentId: string,
    sourceId: string,
    stagingKey: string,
    rows: StagedRows,
    snapshot: SnapshotHeader,
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
    const warnings = JSON.stringify(snapshot.warnings);
    // The plan upserts only what is new or whose hash changed: each is a change.
    const changedMs = toMillis(now);
    for (let attempt = 0; attempt < APPLY_ATTEMPTS; attempt++) {
      const read = this.#redis.multi().hgetall(sourceKey).eval(HELD, 1, occKey);
      if (rows.spilled) read.eval(HELD, 1, stagingKey);
      const [source, held, staged = []] = results(await this.#written(read.exec())) as [
        Record<string, string>,
        string[],
        string[]?,
      ];
      if (Object.keys(source).length === 0) throw unknown();
      const stale = staleReason(snapshot.generated_at, source.last_generated_at, now);
      if (stale) throw new SnapshotRejected("stale_snapshot", stale);
      // Staged rows are counted and left out of the upserts: the script writes them.
      const incoming = function* () {
        yield* parseHeld(staged);
        yield* rows.inMemory;
      };
      const plan = planSnapshot(parseHeld(held), incoming(), snapshot.window, inMemory);
      // Keys and arguments in one array: a snapshot of 100,000 changes has over 200,000
      // arguments, more than a call's spread arguments may number.
      const keysAndArgs: string[] = [
        sourceKey,
        occKey,
        this.#key("occ_start", agentId, sourceId),
        stagingKey,
        source.rev ?? "0",
        now,
        snapshot.generated_at,
        settings,
        warnings,
        String(changedMs),
        String(plan.upserts.length),
      ];
      for (const r of plan.upserts) {
        if (inMemory(r)) {
          keysAndArgs.push(r.key, `${r.start_ms} ${r.end_ms} ${r.hash} ${changedMs} ${r.data}`);
        }
      }
      for (const key of plan.deletes) keysAndArgs.push(key);
      const outcome = await this.#written(this.#redis.eval(APPLY, 4, keysAndArgs));
      if (outcome === "unknown") throw unknown();
      if (outcome === "conflict") continue;
      rows.clear();
      const { added, updated, removed } = plan.result;
      const changed = added + updated + removed > 0 ||
        !sameSettings(source.settings ?? "{}", snapshot.settings);
      return { result: plan.result, changed };
    }
    throw new Error(
      `source '${sourceId}' of agent '${agentId}' kept changing during ${APPLY_ATTEMPTS} ` +
        "attempts to apply a snapshot; try again",
    );
  }

  async knownHashes(agentId: string, sourceId: string): Promise<Set<string>> {
    return new Set(
      await this.#redis.eval(HASHES, 1, this.#key("occ", agentId, sourceId)) as string[],
    );
  }

  async listEvents(query: EventQuery): Promise<StoredEvent[]> {
    const startMs = toMillis(query.start);
    const endMs = toMillis(query.end);
    const pairs = await this.#sourcesOf(query);
    if (pairs.length === 0) return [];
    const read = this.#redis.multi();
    for (const [a, s] of pairs) read.hgetall(this.#key("occ", a, s));
    const stored = results(await read.exec()) as Record<string, string>[];
    const hits: { start_ms: number; key: string; agent: string; source: string; value: Value }[] =
      [];
    pairs.forEach(([agent, source], i) => {
      for (const [key, text] of Object.entries(stored[i])) {
        const value = splitValue(text);
        const start_ms = Number(value.start);
        if (start_ms < endMs && Number(value.end) > startMs) {
          hits.push({ start_ms, key, agent, source, value });
        }
      }
    });
    hits.sort((x, y) =>
      x.start_ms - y.start_ms || compareBinary(x.agent, y.agent) ||
      compareBinary(x.source, y.source) || compareBinary(x.key, y.key)
    );
    return hits.map((h) => storedEvent(h.value, h.agent, h.source));
  }

  async listEventPage(query: EventQuery, page: EventPageRequest): Promise<EventPage> {
    const pairs = await this.#sourcesOf(query);
    if (pairs.length === 0) return { events: [], next: null };
    const { after } = page;
    const modes = pairs.map(([agent, source]): SourceMode => {
      if (after === null) return "gt";
      const order = compareBinary(agent, after.agent_id) || compareBinary(source, after.source_id);
      return order < 0 ? "lt" : order === 0 ? "eq" : "gt";
    });
    const keys = pairs.flatMap(([a, s]) => [
      this.#key("occ_start", a, s),
      this.#key("occ", a, s),
      this.#key("source", a, s),
    ]);
    // One beyond the page says whether another page follows.
    const found = await this.#redis.eval(
      EVENT_PAGE,
      keys.length,
      ...keys,
      toMillis(query.start),
      toMillis(query.end),
      page.limit + 1,
      after === null ? "" : after.start_ms,
      after === null ? "" : after.key,
      ...modes,
    ) as (number | string)[];
    const rows: { pair: [string, string]; key: string; start_ms: number; value: Value }[] = [];
    for (let i = 0; i < found.length; i += 3) {
      const value = splitValue(found[i + 2] as string);
      rows.push({
        pair: pairs[Number(found[i]) - 1],
        key: found[i + 1] as string,
        start_ms: Number(value.start),
        value,
      });
    }
    const more = rows.length > page.limit;
    if (more) rows.length = page.limit;
    const last = rows.at(-1);
    return {
      events: rows.map((r) => storedEvent(r.value, r.pair[0], r.pair[1])),
      next: more && last
        ? {
          start_ms: last.start_ms,
          agent_id: last.pair[0],
          source_id: last.pair[1],
          key: last.key,
        }
        : null,
    };
  }

  /** The (agent, source) pairs a listing reads, sorted as listings are. */
  async #sourcesOf(
    query: Pick<EventQuery, "agent_id" | "source_id">,
  ): Promise<[string, string][]> {
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
    return pairs.sort(([a1, s1], [a2, s2]) => compareBinary(a1, a2) || compareBinary(s1, s2));
  }

  /**
   * Builds the start index of every source that lacks it (a store written before it
   * existed): one whose index does not hold as many keys as its occurrences, or that has
   * no `max_span`. Idempotent, so masters opening the store together do no harm.
   */
  async #indexOccurrences(): Promise<void> {
    const pairs = await this.#sourcesOf({});
    if (pairs.length === 0) return;
    const check = this.#redis.multi();
    for (const [a, s] of pairs) {
      check.hlen(this.#key("occ", a, s));
      check.zcard(this.#key("occ_start", a, s));
      check.hexists(this.#key("source", a, s), "max_span");
    }
    const counts = results(await check.exec()) as number[];
    for (let i = 0; i < pairs.length; i++) {
      const [held, indexed, spanned] = counts.slice(3 * i, 3 * i + 3);
      if (held === indexed && (held === 0 || spanned === 1)) continue;
      const [a, s] = pairs[i];
      await this.#redis.eval(
        INDEX_SOURCE,
        3,
        this.#key("source", a, s),
        this.#key("occ", a, s),
        this.#key("occ_start", a, s),
      );
    }
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

  async size(): Promise<StoreSize> {
    const [{ events }, info] = await Promise.all([this.totals(), this.#redis.info("memory")]);
    const used = /^used_memory:(\d+)/m.exec(info);
    return { occurrences: events, bytes: used ? Number(used[1]) : 0, measure: "redis_used_memory" };
  }

  async pruneOccurrencesEndedBefore(instant: string, batchSize: number): Promise<number> {
    const cutoff = toMillis(instant);
    const agentIds = await this.#redis.smembers(this.#key("agents"));
    const sourcesOf = this.#redis.multi();
    for (const a of agentIds) sourcesOf.smembers(this.#key("sources", a));
    const sourceLists = agentIds.length === 0 ? [] : results(await sourcesOf.exec()) as string[][];
    const occKeys = agentIds.flatMap((a, i) =>
      sourceLists[i].map((s) => ({
        occKey: this.#key("occ", a, s),
        sourceKey: this.#key("source", a, s),
        startKey: this.#key("occ_start", a, s),
      }))
    ).sort((x, y) => compareBinary(x.occKey, y.occKey));
    const destKeys = (await this.destinationIds()).map((d) => this.#key("dest_items", d));
    // The batches of one cutoff go on where the last one stopped: starting over would read
    // every source again per batch, quadratic in a first prune of years of occurrences.
    const resume = this.#pruneResume?.cutoff === cutoff ? this.#pruneResume : null;
    this.#pruneResume = null;
    let removed = 0;
    for (const { occKey, sourceKey, startKey } of occKeys) {
      if (resume && compareBinary(occKey, resume.occKey) < 0) continue;
      // Only what started before the cutoff can have ended before it: the start index names
      // those, so a prune reads no occurrence that is not about to go. The ones among them
      // still running stay in the index and are passed over by their count.
      let running = resume?.occKey === occKey ? resume.running : 0;
      for (;;) {
        const candidates = await this.#redis.zrangebyscore(
          startKey,
          "-inf",
          `(${cutoff}`,
          "LIMIT",
          running,
          batchSize - removed,
        );
        if (candidates.length === 0) break;
        const pruned = Number(
          await this.#redis.eval(
            PRUNE,
            3 + destKeys.length,
            sourceKey,
            occKey,
            startKey,
            ...destKeys,
            String(cutoff),
            ...candidates,
          ),
        );
        removed += pruned;
        running += candidates.length - pruned;
        if (removed >= batchSize) {
          this.#pruneResume = { cutoff, occKey, running };
          return removed;
        }
      }
    }
    return removed;
  }

  /**
   * Counts a failed authentication of `address` in a window of `windowMs` that starts
   * with its first failure, shared by every master on this Redis: answers the failures
   * so far and the ms left of the window.
   */
  async countAuthFailure(
    address: string,
    windowMs: number,
  ): Promise<{ failures: number; remainingMs: number }> {
    const [failures, remainingMs] = await this.#redis.eval(
      COUNT_FAILURE,
      1,
      this.#key("authfail", address),
      String(Math.max(1, Math.round(windowMs))),
    ) as [number, number];
    return { failures, remainingMs };
  }

  /** The failed authentications of `address` in its current window, or null outside one. */
  async authFailures(address: string): Promise<{ failures: number; remainingMs: number } | null> {
    const key = this.#key("authfail", address);
    const [count, remainingMs] = results(
      await this.#redis.multi().get(key).pttl(key).exec(),
    ) as [string | null, number];
    if (count === null || remainingMs <= 0) return null;
    return { failures: Number(count), remainingMs };
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
        const { href, etag, hash, end_ms } = JSON.parse(json) as Omit<DestinationEntry, "key">;
        // An unknown end is left out, as entries written without one never had it.
        return end_ms == null ? { key, href, etag, hash } : { key, href, etag, hash, end_ms };
      });
  }

  async saveDestinationEntry(destinationId: string, entry: DestinationEntry): Promise<void> {
    const { key, href, etag, hash, end_ms } = entry;
    await this.#redis.hset(
      this.#key("dest_items", destinationId),
      key,
      JSON.stringify(end_ms == null ? { href, etag, hash } : { href, etag, hash, end_ms }),
    );
  }

  async deleteDestinationEntry(destinationId: string, key: string): Promise<void> {
    await this.#redis.hdel(this.#key("dest_items", destinationId), key);
  }

  async destinationState(destinationId: string): Promise<DestinationState | null> {
    const json = await this.#redis.get(this.#key("dest_state", destinationId));
    if (json === null) return null;
    const s = JSON.parse(json) as Partial<DestinationState>;
    // States written before calendar_url and auth_refusal existed lack them.
    return {
      change_token: s.change_token ?? null,
      last_reconcile_at: s.last_reconcile_at ?? null,
      last_error: s.last_error ?? null,
      pending: s.pending ?? 0,
      calendar_url: s.calendar_url ?? null,
      auth_refusal: s.auth_refusal ?? null,
    };
  }

  async saveDestinationState(destinationId: string, state: DestinationState): Promise<void> {
    const { change_token, last_reconcile_at, last_error, pending, calendar_url, auth_refusal } =
      state;
    await this.#redis.set(
      this.#key("dest_state", destinationId),
      JSON.stringify({
        change_token,
        last_reconcile_at,
        last_error,
        pending,
        calendar_url,
        auth_refusal,
      }),
    );
  }

  async createCredential(credential: CredentialRecord): Promise<void> {
    const { credential_id, kind, name, token_hash, created_at, expires_at } = credential;
    const created = await this.#redis.eval(
      CREATE_CREDENTIAL,
      3,
      this.#key("credentials", kind),
      this.#key("credential", kind, credential_id),
      this.#key("credential_token", kind, token_hash),
      credential_id,
      JSON.stringify({ credential_id, kind, name, token_hash, created_at, expires_at }),
      expires_at === null ? "+inf" : String(toMillis(expires_at)),
      String(toMillis(created_at)),
    );
    if (created !== 1) throw new Error(`${kind} credential '${credential_id}' exists already`);
  }

  async listCredentials(kind: CredentialKind, now: string): Promise<CredentialRecord[]> {
    const ids = await this.#redis.zrangebyscore(
      this.#key("credentials", kind),
      `(${toMillis(now)}`,
      "+inf",
    );
    if (ids.length === 0) return [];
    const found = await this.#redis.mget(ids.map((id) => this.#key("credential", kind, id)));
    return found
      .filter((json) => json !== null)
      .map((json) => JSON.parse(json) as CredentialRecord)
      .sort((a, b) =>
        compareBinary(a.created_at, b.created_at) ||
        compareBinary(a.credential_id, b.credential_id)
      );
  }

  async findCredential(
    kind: CredentialKind,
    tokenHash: string,
    now: string,
  ): Promise<CredentialRecord | null> {
    const id = await this.#redis.get(this.#key("credential_token", kind, tokenHash));
    if (id === null) return null;
    const json = await this.#redis.get(this.#key("credential", kind, id));
    if (json === null) return null;
    const credential = JSON.parse(json) as CredentialRecord;
    // The keys expire by Redis's clock; `now`, the caller's clock, has the last word.
    const live = credential.expires_at === null ||
      toMillis(credential.expires_at) > toMillis(now);
    return live ? credential : null;
  }

  async deleteCredential(kind: CredentialKind, credentialId: string): Promise<boolean> {
    const json = await this.#redis.get(this.#key("credential", kind, credentialId));
    if (json === null) return false;
    const { token_hash } = JSON.parse(json) as CredentialRecord;
    const deleted = await this.#redis.eval(
      DELETE_CREDENTIAL,
      3,
      this.#key("credentials", kind),
      this.#key("credential", kind, credentialId),
      this.#key("credential_token", kind, token_hash),
      credentialId,
      json,
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

/** An occurrence value in its parts; `changed` is null in values written before it was kept. */
type Value = { start: string; end: string; hash: string; changed: string | null; data: string };

/** Splits an occurrence value; the JSON of a value without a change time follows the hash. */
function splitValue(value: string): Value {
  const a = value.indexOf(" ");
  const b = value.indexOf(" ", a + 1);
  const c = value.indexOf(" ", b + 1);
  const [start, end, hash] = [value.slice(0, a), value.slice(a + 1, b), value.slice(b + 1, c)];
  if (value[c + 1] === "{") return { start, end, hash, changed: null, data: value.slice(c + 1) };
  const d = value.indexOf(" ", c + 1);
  return { start, end, hash, changed: value.slice(c + 1, d), data: value.slice(d + 1) };
}

/** The held occurrences of what `HELD` answers: each key, then its `start end hash`. */
function* parseHeld(flat: string[]): Generator<HeldOccurrence> {
  for (let i = 0; i < flat.length; i += 2) {
    const [start, end, hash] = flat[i + 1].split(" ");
    yield { key: flat[i], hash, start_ms: Number(start), end_ms: Number(end) };
  }
}

/** The stored event of a value of `agent`'s `source`. */
function storedEvent(value: Value, agent: string, source: string): StoredEvent {
  return withChangedAt(
    { ...JSON.parse(value.data), agent_id: agent, source_id: source },
    value.changed === null ? null : Number(value.changed),
  );
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
    warnings: storedWarnings(s.warnings),
  };
}
