/**
 * The embedded store: one SQLite file (`node:sqlite`, WAL) under `DATA_DIR`. Each method
 * runs in one transaction, so a crash leaves the state before or after it, never between.
 *
 * @module
 */
import {
  DatabaseSync,
  type SQLInputValue,
  type StatementResultingChanges,
  type StatementSync,
} from "node:sqlite";
import { join } from "node:path";
import {
  type Heartbeat,
  type Registration,
  SourceSettings,
  type StoredEvent,
} from "../../shared/protocol.ts";
import { toMillis } from "../../shared/time.ts";
import { storedWarnings } from "./warnings.ts";
import { sqliteStorageError, type StorageFullError } from "./errors.ts";
import { MIGRATIONS } from "./sqlite_schema.ts";
import { Checkpointer } from "./sqlite_checkpoint.ts";
import type { ActivityEntry, ActivityQuery, ActivityRetention } from "./activity.ts";
import {
  type HeldOccurrence,
  type OccurrenceRow,
  planSnapshot,
  type PreparedSnapshot,
  type SnapshotHeader,
  staleReason,
} from "../snapshots/plan.ts";
import { applyPrepared, inMemory, type SnapshotStaging, StagedRows } from "./staging.ts";
import {
  type AgentRecord,
  type AppliedSnapshot,
  type CredentialKind,
  type CredentialRecord,
  type DestinationEntry,
  type DestinationState,
  type EventPage,
  type EventPageRequest,
  type EventPosition,
  type EventQuery,
  SnapshotRejected,
  type SourceRecord,
  type Store,
  type StoreSize,
  type StoreTotals,
  withChangedAt,
} from "./types.ts";

type Row = Record<string, SQLInputValue>;

/** The columns an occurrence is written with. */
const OCCURRENCE_COLUMNS = "(agent_id, source_id, key, start_ms, end_ms, hash, data, changed_ms)";

/** What writing an occurrence does to the one stored under its key. */
const REPLACE_OCCURRENCE = `ON CONFLICT (agent_id, source_id, key) DO UPDATE SET
  start_ms = excluded.start_ms, end_ms = excluded.end_ms, hash = excluded.hash,
  data = excluded.data, changed_ms = excluded.changed_ms`;

/** The columns of a `CredentialRecord`, in a SELECT. */
const CREDENTIAL_COLUMNS = "credential_id, kind, name, token_hash, created_at, expires_at";

/** The SQLite implementation of `Store`. */
export class SqliteStore implements Store {
  readonly backend = "sqlite";
  #db: DatabaseSync;
  /** The last write's storage failure; null once a write succeeds. */
  #writeFailure: StorageFullError | null = null;
  /** Checkpoints a file's log from a worker; null in memory or over a given connection. */
  #checkpointer: Checkpointer | null = null;
  /**
   * Compiled statements by their SQL, which is always a constant of this file (values are
   * bound), so the map stays small; compiling cost more than running most of them.
   */
  readonly #statements = new Map<string, StatementSync>();

  private constructor(db: DatabaseSync) {
    this.#db = db;
  }

  /**
   * Opens (creating when missing) `calsync.db` in `dataDir`, or an in-memory database
   * for `":memory:"`, and brings its schema up to date.
   */
  static async open(dataDir: string): Promise<SqliteStore> {
    let path = ":memory:";
    if (dataDir !== ":memory:") {
      await Deno.mkdir(dataDir, { recursive: true });
      path = join(dataDir, "calsync.db");
    }
    const db = new DatabaseSync(path);
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec("PRAGMA foreign_keys = ON");
    db.exec("PRAGMA busy_timeout = 5000");
    const store = SqliteStore.wrap(db, path);
    if (path !== ":memory:") store.#checkpointer = new Checkpointer(db);
    return store;
  }

  /**
   * A store over an open connection, its schema brought up to date; `path` names it in
   * errors. `open` sets the pragmas first; tests hand in a connection with limits of
   * their own, such as `max_page_count` to make the database full without a full disk.
   */
  static wrap(db: DatabaseSync, path = ":memory:"): SqliteStore {
    const store = new SqliteStore(db);
    store.#migrate(path);
    // One master owns a SQLite store: rows staged before it opened belong to uploads that
    // ended with the master that received them.
    store.#db.exec("DELETE FROM snapshot_staging");
    return store;
  }

  #migrate(path: string): void {
    const { user_version: current } = this.#db.prepare("PRAGMA user_version").get() as {
      user_version: number;
    };
    if (current > MIGRATIONS.length) {
      throw new Error(
        `${path} has schema version ${current}, newer than this calsync knows ` +
          `(${MIGRATIONS.length}); run the newer calsync or restore a backup`,
      );
    }
    for (let v = current; v < MIGRATIONS.length; v++) {
      this.#transaction(() => {
        this.#db.exec(MIGRATIONS[v]);
        this.#db.exec(`PRAGMA user_version = ${v + 1}`);
      });
    }
  }

  /**
   * Runs `fn` in one write transaction. SQLite rolls a transaction back by itself when a
   * write fails with a full disk or an I/O error, and a ROLLBACK then fails with "no
   * transaction is active": so only an open transaction is rolled back, and a failing
   * ROLLBACK never replaces the error that caused it.
   */
  #transaction<T>(fn: () => T): T {
    return this.#write(() => {
      this.#db.exec("BEGIN IMMEDIATE");
      try {
        const value = fn();
        this.#db.exec("COMMIT");
        return value;
      } catch (err) {
        try {
          if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
        } catch {
          // The original error says what went wrong; the rollback's would hide it.
        }
        throw err;
      }
    });
  }

  /**
   * Runs a write, turning full, read-only or failing storage into a `StorageFullError`
   * that `ping` repeats until a write succeeds again: `/health` then reports the cause
   * without a probe that would itself need space.
   */
  #write<T>(fn: () => T): T {
    try {
      const value = fn();
      this.#writeFailure = null;
      this.#checkpointer?.wrote();
      return value;
    } catch (err) {
      const full = sqliteStorageError(err);
      if (full === null) throw err;
      this.#writeFailure = full;
      throw full;
    }
  }

  /** The compiled statement for `sql`, compiled on first use. */
  #statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** One write statement outside a transaction, through `#write`. */
  #run(sql: string, ...params: SQLInputValue[]): StatementResultingChanges {
    return this.#write(() => this.#statement(sql).run(...params));
  }

  /** Rows as plain objects (node:sqlite gives null-prototype ones). */
  #all(sql: string, ...params: SQLInputValue[]): Row[] {
    return this.#statement(sql).all(...params).map((row) => ({ ...row }));
  }

  ping(): Promise<void> {
    return Promise.try(() => {
      this.#db.prepare("SELECT 1").get();
      if (this.#writeFailure) throw this.#writeFailure;
    });
  }

  close(): Promise<void> {
    this.#checkpointer?.stop();
    if (this.#db.isOpen) this.#db.close();
    return Promise.resolve();
  }

  getAgent(agentId: string): Promise<AgentRecord | null> {
    return Promise.try(() => this.#agents("WHERE agent_id = ?", agentId)[0] ?? null);
  }

  findAgentIdByTokenHash(tokenHash: string): Promise<string | null> {
    return Promise.try(() => {
      const row = this.#statement("SELECT agent_id FROM agents WHERE token_hash = ?").get(
        tokenHash,
      ) as { agent_id: string } | undefined;
      return row?.agent_id ?? null;
    });
  }

  listAgents(): Promise<AgentRecord[]> {
    return Promise.try(() => this.#agents(""));
  }

  #agents(where: string, ...params: SQLInputValue[]): AgentRecord[] {
    const agents = this.#all(`SELECT * FROM agents ${where} ORDER BY agent_id`, ...params);
    if (agents.length === 0) return [];
    const sources = this.#all(
      `SELECT s.*, (SELECT COUNT(*) FROM occurrences o
                    WHERE o.agent_id = s.agent_id AND o.source_id = s.source_id) AS event_count
       FROM sources s ${where.replace("agent_id", "s.agent_id")} ORDER BY s.source_id`,
      ...params,
    );
    return agents.map((a) => ({
      agent_id: a.agent_id as string,
      agent_name: a.agent_name as string,
      environment: a.environment as string,
      version: a.version as string,
      token_hash: a.token_hash as string | null,
      sync_interval_minutes: a.sync_interval_minutes as number | null,
      created_at: a.created_at as string,
      last_seen: a.last_seen as string | null,
      sources: sources.filter((s) => s.agent_id === a.agent_id).map(toSourceRecord),
    }));
  }

  registerAgent(registration: Registration, tokenHash: string, now: string): Promise<void> {
    return Promise.try(() =>
      this.#transaction(() => {
        this.#statement(
          `INSERT INTO agents (agent_id, agent_name, environment, version, token_hash, created_at)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (agent_id) DO UPDATE SET agent_name = excluded.agent_name,
           environment = excluded.environment, version = excluded.version,
           token_hash = excluded.token_hash`,
        ).run(
          registration.agent_id,
          registration.agent_name,
          registration.environment,
          registration.version,
          tokenHash,
          now,
        );
        const upsert = this.#statement(
          `INSERT INTO sources (agent_id, source_id, name, type) VALUES (?, ?, ?, ?)
         ON CONFLICT (agent_id, source_id) DO UPDATE SET name = excluded.name,
           type = excluded.type`,
        );
        for (const s of registration.sources) {
          upsert.run(registration.agent_id, s.source_id, s.name, s.type);
        }
      })
    );
  }

  resetAgentToken(agentId: string): Promise<boolean> {
    return Promise.try(() => {
      const { changes } = this.#run(
        "UPDATE agents SET token_hash = NULL WHERE agent_id = ?",
        agentId,
      );
      return changes > 0;
    });
  }

  recordHeartbeat(agentId: string, heartbeat: Heartbeat, now: string): Promise<void> {
    return Promise.try(() =>
      this.#transaction(() => {
        this.#statement(
          `UPDATE agents SET last_seen = ?, version = COALESCE(?, version),
           sync_interval_minutes = COALESCE(?, sync_interval_minutes) WHERE agent_id = ?`,
        ).run(now, heartbeat.version ?? null, heartbeat.sync_interval_minutes ?? null, agentId);
        const setError = this.#statement(
          "UPDATE sources SET last_error = ? WHERE agent_id = ? AND source_id = ?",
        );
        for (const s of heartbeat.sources) setError.run(s.last_error, agentId, s.source_id);
      })
    );
  }

  removeSource(agentId: string, sourceId: string): Promise<boolean> {
    return Promise.try(() =>
      // The schema's ON DELETE CASCADE takes the occurrences with the source.
      this.#run("DELETE FROM sources WHERE agent_id = ? AND source_id = ?", agentId, sourceId)
        .changes > 0
    );
  }

  removeAgent(agentId: string): Promise<boolean> {
    return Promise.try(() =>
      // The schema's ON DELETE CASCADE takes the sources and their occurrences along.
      this.#run("DELETE FROM agents WHERE agent_id = ?", agentId).changes > 0
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
    const upload = crypto.randomUUID();
    const rows = new StagedRows();
    const spill = (moving: OccurrenceRow[]) =>
      Promise.try(() =>
        this.#transaction(() => {
          const insert = this.#statement(
            `INSERT INTO snapshot_staging (upload_id, key, start_ms, end_ms, hash, data)
             VALUES (?, ?, ?, ?, ?, ?)`,
          );
          for (const r of moving) insert.run(upload, r.key, r.start_ms, r.end_ms, r.hash, r.data);
        })
      );
    const discard = () =>
      Promise.try(() => {
        if (rows.spilled) {
          this.#run("DELETE FROM snapshot_staging WHERE upload_id = ?", upload);
        }
        rows.clear();
      });
    return {
      add: (added, options) => rows.add(added, spill, options),
      keep: (kept) => rows.keep(kept),
      apply: (header, now) =>
        Promise.try(() => {
          const applied = this.#transaction(() =>
            this.#applyStaged(agentId, sourceId, upload, rows, header, now)
          );
          rows.clear();
          return applied;
        }),
      discard,
    };
  }

  /** Applies the staged `rows` of `upload` inside a transaction; see `SnapshotStaging.apply`. */
  #applyStaged(
    agentId: string,
    sourceId: string,
    upload: string,
    rows: StagedRows,
    snapshot: SnapshotHeader,
    now: string,
  ): AppliedSnapshot {
    const source = this.#statement(
      "SELECT last_generated_at, settings FROM sources WHERE agent_id = ? AND source_id = ?",
    ).get(agentId, sourceId) as
      | { last_generated_at: string | null; settings: string }
      | undefined;
    if (!source) {
      throw new SnapshotRejected(
        "unknown_source",
        `source '${sourceId}' is not registered for agent '${agentId}'; ` +
          "the agent declares its sources when it registers",
      );
    }
    const stale = staleReason(snapshot.generated_at, source.last_generated_at, now);
    if (stale) throw new SnapshotRejected("stale_snapshot", stale);
    const held = this.#all(
      "SELECT key, hash, start_ms, end_ms FROM occurrences WHERE agent_id = ? AND source_id = ?",
      agentId,
      sourceId,
    ) as unknown as HeldOccurrence[];
    // Staged rows are read one at a time and left out of the plan's upserts, which the
    // INSERT … SELECT below writes: held whole, 100,000 of them cost some 20 MiB.
    const staged = rows.spilled
      ? this.#statement(
        "SELECT key, hash, start_ms, end_ms FROM snapshot_staging WHERE upload_id = ?",
      ).iterate(upload) as Iterable<HeldOccurrence>
      : [];
    const incoming = function* () {
      yield* staged;
      yield* rows.inMemory;
    };
    const plan = planSnapshot(held, incoming(), snapshot.window, inMemory);
    const upsert = this.#statement(
      `INSERT INTO occurrences ${OCCURRENCE_COLUMNS} VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ${REPLACE_OCCURRENCE}`,
    );
    // The plan upserts only what is new or whose hash changed: each is a change.
    const changedMs = toMillis(now);
    for (const r of plan.upserts) {
      if (inMemory(r)) {
        upsert.run(agentId, sourceId, r.key, r.start_ms, r.end_ms, r.hash, r.data, changedMs);
      }
    }
    if (rows.spilled) {
      // The plan's staged upserts in one statement: a staged row is written where its
      // key is new or its hash differs, exactly as the plan chose them.
      this.#statement(
        `INSERT INTO occurrences ${OCCURRENCE_COLUMNS}
         SELECT ?, ?, key, start_ms, end_ms, hash, data, ? FROM snapshot_staging
         WHERE upload_id = ?
         ${REPLACE_OCCURRENCE} WHERE occurrences.hash <> excluded.hash`,
      ).run(agentId, sourceId, changedMs, upload);
    }
    const remove = this.#statement(
      "DELETE FROM occurrences WHERE agent_id = ? AND source_id = ? AND key = ?",
    );
    for (const key of plan.deletes) remove.run(agentId, sourceId, key);
    const settings = JSON.stringify(snapshot.settings);
    const warnings = JSON.stringify(snapshot.warnings);
    this.#statement(
      `UPDATE sources SET last_snapshot_at = ?, last_generated_at = ?, settings = ?,
       warnings = ? WHERE agent_id = ? AND source_id = ?`,
    ).run(now, snapshot.generated_at, settings, warnings, agentId, sourceId);
    if (rows.spilled) {
      this.#statement("DELETE FROM snapshot_staging WHERE upload_id = ?").run(upload);
    }
    const { added, updated, removed } = plan.result;
    const changed = added + updated + removed > 0 ||
      !sameSettings(source.settings, snapshot.settings);
    return { result: plan.result, changed };
  }

  knownHashes(agentId: string, sourceId: string): Promise<Set<string>> {
    return Promise.try(() => {
      const rows = this.#statement(
        "SELECT hash FROM occurrences WHERE agent_id = ? AND source_id = ?",
      ).all(agentId, sourceId) as { hash: string }[];
      return new Set(rows.map((r) => r.hash));
    });
  }

  listEvents(query: EventQuery): Promise<StoredEvent[]> {
    return Promise.try(() => this.#listEvents(query, null, null).map(toStoredEvent));
  }

  listEventPage(query: EventQuery, page: EventPageRequest): Promise<EventPage> {
    return Promise.try(() => {
      // One row beyond the page says whether another page follows.
      const rows = this.#listEvents(query, page.after, page.limit + 1);
      const more = rows.length > page.limit;
      const kept = more ? rows.slice(0, page.limit) : rows;
      const last = kept.at(-1);
      return {
        events: kept.map(toStoredEvent),
        next: more && last ? toPosition(last) : null,
      };
    });
  }

  /**
   * The rows of a listing in `EventPosition` order, from after `after`, at most `limit`.
   * The order is that of the index `occurrences_by_start` (start_ms, agent_id, source_id,
   * key, end_ms): SQLite walks it from the position on, checks the end in the index, and
   * stops after `limit` rows, sorting nothing. The unary `+` keeps the planner from
   * reading a whole agent through the primary key and sorting it instead.
   */
  #listEvents(query: EventQuery, after: EventPosition | null, limit: number | null): Row[] {
    const params: SQLInputValue[] = [toMillis(query.end), toMillis(query.start)];
    let filter = "";
    if (query.agent_id !== undefined) {
      filter += " AND +agent_id = ?";
      params.push(query.agent_id);
    }
    if (query.source_id !== undefined) {
      filter += " AND +source_id = ?";
      params.push(query.source_id);
    }
    // One lower bound for the index walk, the tighter: an occurrence starting a longest
    // span or more before the range ends before it; the position, when later, skips more.
    const { max_ms } = this.#db.prepare("SELECT max_ms FROM occurrence_span").get() as {
      max_ms: number;
    };
    const earliest = toMillis(query.start) - max_ms;
    if (after !== null && after.start_ms >= earliest) {
      filter += " AND (start_ms, agent_id, source_id, key) > (?, ?, ?, ?)";
      params.push(after.start_ms, after.agent_id, after.source_id, after.key);
    } else {
      filter += " AND start_ms > ?";
      params.push(earliest);
    }
    let tail = "";
    if (limit !== null) {
      tail = " LIMIT ?";
      params.push(limit);
    }
    return this.#all(
      `SELECT agent_id, source_id, key, start_ms, data, changed_ms FROM occurrences
       WHERE start_ms < ? AND end_ms > ?${filter}
       ORDER BY start_ms, agent_id, source_id, key${tail}`,
      ...params,
    );
  }

  totals(): Promise<StoreTotals> {
    const count = (table: string) =>
      (this.#db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    return Promise.try(() => ({
      agents: count("agents"),
      sources: count("sources"),
      events: count("occurrences"),
    }));
  }

  size(): Promise<StoreSize> {
    return Promise.try(() => {
      const pragma = (name: string) =>
        Object.values(this.#db.prepare(`PRAGMA ${name}`).get()!)[0] as number;
      const { n } = this.#db.prepare("SELECT COUNT(*) AS n FROM occurrences").get() as {
        n: number;
      };
      return {
        occurrences: n,
        bytes: pragma("page_count") * pragma("page_size"),
        measure: "sqlite_file",
      };
    });
  }

  pruneOccurrencesEndedBefore(instant: string, batchSize: number): Promise<number> {
    return Promise.try(() =>
      this.#transaction(() => {
        const rows = this.#db.prepare(
          `SELECT agent_id, source_id, key, end_ms FROM occurrences
           WHERE start_ms < ?1 AND end_ms < ?1 ORDER BY start_ms LIMIT ?2`,
        ).all(toMillis(instant), batchSize) as {
          agent_id: string;
          source_id: string;
          key: string;
          end_ms: number;
        }[];
        const keepEnd = this.#db.prepare(
          "UPDATE destination_items SET end_ms = ? WHERE key = ? AND end_ms IS NULL",
        );
        const remove = this.#db.prepare(
          "DELETE FROM occurrences WHERE agent_id = ? AND source_id = ? AND key = ?",
        );
        for (const r of rows) {
          keepEnd.run(r.end_ms, r.key);
          remove.run(r.agent_id, r.source_id, r.key);
        }
        return rows.length;
      })
    );
  }

  destinationIds(): Promise<string[]> {
    return Promise.try(() =>
      this.#all(
        `SELECT destination_id FROM destination_items UNION
         SELECT destination_id FROM destination_state ORDER BY destination_id`,
      ).map((r) => r.destination_id as string)
    );
  }

  destinationEntries(destinationId: string): Promise<DestinationEntry[]> {
    return Promise.try(() =>
      this.#all(
        "SELECT key, href, etag, hash, end_ms FROM destination_items WHERE destination_id = ?",
        destinationId,
      ).map(({ end_ms, ...entry }) =>
        // An unknown end is left out, as entries written without one never had it.
        (end_ms === null ? entry : { ...entry, end_ms }) as unknown as DestinationEntry
      )
    );
  }

  saveDestinationEntry(destinationId: string, entry: DestinationEntry): Promise<void> {
    return Promise.try(() => {
      this.#run(
        `INSERT INTO destination_items (destination_id, key, href, etag, hash, end_ms)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (destination_id, key) DO UPDATE SET href = excluded.href,
           etag = excluded.etag, hash = excluded.hash, end_ms = excluded.end_ms`,
        destinationId,
        entry.key,
        entry.href,
        entry.etag,
        entry.hash,
        entry.end_ms ?? null,
      );
    });
  }

  deleteDestinationEntry(destinationId: string, key: string): Promise<void> {
    return Promise.try(() => {
      this.#run(
        "DELETE FROM destination_items WHERE destination_id = ? AND key = ?",
        destinationId,
        key,
      );
    });
  }

  destinationState(destinationId: string): Promise<DestinationState | null> {
    return Promise.try(() => {
      const row = this.#db.prepare(
        `SELECT change_token, last_reconcile_at, last_error, pending, calendar_url, auth_refusal
         FROM destination_state WHERE destination_id = ?`,
      ).get(destinationId) as Record<string, unknown> | undefined;
      if (!row) return null;
      const refusal = row.auth_refusal as string | null;
      return {
        ...(row as Omit<DestinationState, "auth_refusal">),
        auth_refusal: refusal === null ? null : JSON.parse(refusal),
      };
    });
  }

  saveDestinationState(destinationId: string, state: DestinationState): Promise<void> {
    return Promise.try(() => {
      this.#run(
        `INSERT INTO destination_state (destination_id, change_token, last_reconcile_at,
           last_error, pending, calendar_url, auth_refusal)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (destination_id) DO UPDATE SET change_token = excluded.change_token,
           last_reconcile_at = excluded.last_reconcile_at, last_error = excluded.last_error,
           pending = excluded.pending, calendar_url = excluded.calendar_url,
           auth_refusal = excluded.auth_refusal`,
        destinationId,
        state.change_token,
        state.last_reconcile_at,
        state.last_error,
        state.pending,
        state.calendar_url,
        state.auth_refusal === null ? null : JSON.stringify(state.auth_refusal),
      );
    });
  }

  createCredential(credential: CredentialRecord): Promise<void> {
    const c = credential;
    return Promise.try(() =>
      this.#transaction(() => {
        this.#db.prepare("DELETE FROM credentials WHERE expires_ms <= ?")
          .run(toMillis(c.created_at));
        const { changes } = this.#db.prepare(
          `INSERT INTO credentials
             (kind, credential_id, name, token_hash, created_at, expires_at, expires_ms)
           VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (kind, credential_id) DO NOTHING`,
        ).run(
          c.kind,
          c.credential_id,
          c.name,
          c.token_hash,
          c.created_at,
          c.expires_at,
          c.expires_at === null ? null : toMillis(c.expires_at),
        );
        if (changes === 0) {
          throw new Error(`${c.kind} credential '${c.credential_id}' exists already`);
        }
      })
    );
  }

  listCredentials(kind: CredentialKind, now: string): Promise<CredentialRecord[]> {
    return Promise.try(() =>
      this.#all(
        `SELECT ${CREDENTIAL_COLUMNS} FROM credentials
         WHERE kind = ? AND (expires_ms IS NULL OR expires_ms > ?)
         ORDER BY created_at, credential_id`,
        kind,
        toMillis(now),
      ) as CredentialRecord[]
    );
  }

  findCredential(
    kind: CredentialKind,
    tokenHash: string,
    now: string,
  ): Promise<CredentialRecord | null> {
    return Promise.try(() =>
      (this.#all(
        `SELECT ${CREDENTIAL_COLUMNS} FROM credentials
         WHERE kind = ? AND token_hash = ? AND (expires_ms IS NULL OR expires_ms > ?)`,
        kind,
        tokenHash,
        toMillis(now),
      ) as CredentialRecord[])[0] ?? null
    );
  }

  deleteCredential(kind: CredentialKind, credentialId: string): Promise<boolean> {
    return Promise.try(() =>
      this.#run("DELETE FROM credentials WHERE kind = ? AND credential_id = ?", kind, credentialId)
        .changes > 0
    );
  }

  acquireLease(name: string, owner: string, ttlMs: number): Promise<number | null> {
    return Promise.try(() =>
      this.#transaction(() => {
        const now = Date.now();
        const row = this.#db.prepare("SELECT owner, token, expires_ms FROM leases WHERE name = ?")
          .get(name) as { owner: string; token: number; expires_ms: number } | undefined;
        if (row && row.owner !== owner && row.expires_ms > now) return null;
        const token = !row ? 1 : row.owner === owner ? row.token : row.token + 1;
        this.#db.prepare(
          `INSERT INTO leases (name, owner, token, expires_ms) VALUES (?, ?, ?, ?)
           ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, token = excluded.token,
             expires_ms = excluded.expires_ms`,
        ).run(name, owner, token, now + ttlMs);
        return token;
      })
    );
  }

  releaseLease(name: string, owner: string): Promise<void> {
    return Promise.try(() => {
      // The row stays, expired, so the next holder's token still grows.
      this.#run("UPDATE leases SET expires_ms = 0 WHERE name = ? AND owner = ?", name, owner);
    });
  }

  leaseRemainingMs(name: string): Promise<number | null> {
    return Promise.try(() => {
      const row = this.#db.prepare("SELECT expires_ms FROM leases WHERE name = ?").get(name) as
        | { expires_ms: number }
        | undefined;
      const ms = (row?.expires_ms ?? 0) - Date.now();
      return ms > 0 ? ms : null;
    });
  }

  announceChange(_origin: string): Promise<void> {
    // One master per SQLite file: its own engine was told directly.
    return Promise.resolve();
  }

  watchChanges(_listener: (origin: string | null) => void): () => void {
    return () => {};
  }

  recordActivity(entry: ActivityEntry, retention: ActivityRetention): Promise<void> {
    const destination = entry.destination_id;
    const started = toMillis(entry.started_at);
    return Promise.try(() =>
      this.#transaction(() => {
        const added = this.#db.prepare(
          `INSERT INTO activity (id, destination_id, started_ms, entry) VALUES (?, ?, ?, ?)
           ON CONFLICT (id) DO NOTHING`,
        ).run(entry.id, destination, started, JSON.stringify(entry)).changes;
        this.#countActivity(destination, Number(added));
        // Both deletes seek an index from the oldest entry, so they touch only what they
        // delete; the counts spare counting what stays.
        const aged = this.#db.prepare(
          "DELETE FROM activity WHERE started_ms < ? RETURNING destination_id",
        ).all(started - retention.max_age_ms) as { destination_id: string }[];
        for (const row of aged) this.#countActivity(row.destination_id, -1);
        const excess = this.#countActivity(destination, 0) - retention.max_entries;
        if (excess <= 0) return;
        const dropped = this.#db.prepare(
          `DELETE FROM activity WHERE id IN (SELECT id FROM activity WHERE destination_id = ?
             ORDER BY started_ms, id LIMIT ?)`,
        ).run(destination, excess).changes;
        this.#countActivity(destination, -Number(dropped));
      })
    );
  }

  /** Adds `delta` to the destination's count of log entries; answers the new count. */
  #countActivity(destinationId: string, delta: number): number {
    const { entries } = this.#db.prepare(
      `INSERT INTO activity_counts (destination_id, entries) VALUES (?, ?)
       ON CONFLICT (destination_id) DO UPDATE SET entries = entries + excluded.entries
       RETURNING entries`,
    ).get(destinationId, delta) as { entries: number };
    return entries;
  }

  listActivity(query: ActivityQuery): Promise<ActivityEntry[]> {
    const where: string[] = [];
    const params: SQLInputValue[] = [];
    if (query.destination_id !== undefined) {
      where.push("destination_id = ?");
      params.push(query.destination_id);
    }
    if (query.since !== undefined) {
      where.push("started_ms >= ?");
      params.push(toMillis(query.since));
    }
    const filter = where.length === 0 ? "" : `WHERE ${where.join(" AND ")}`;
    return Promise.try(() =>
      this.#all(
        `SELECT entry FROM activity ${filter} ORDER BY started_ms DESC, id DESC LIMIT ?`,
        ...params,
        query.limit,
      ).map((row) => JSON.parse(row.entry as string) as ActivityEntry)
    );
  }
}

/** Whether stored settings JSON says the same as `settings` (defaults filled in). */
function sameSettings(stored: string, settings: SourceSettings): boolean {
  return JSON.stringify(SourceSettings.parse(JSON.parse(stored))) === JSON.stringify(settings);
}

/** An occurrence row as listings answer it. */
function toStoredEvent(r: Row): StoredEvent {
  return withChangedAt(
    {
      ...JSON.parse(r.data as string),
      agent_id: r.agent_id as string,
      source_id: r.source_id as string,
    },
    r.changed_ms as number | null,
  );
}

/** An occurrence row's place in listings. */
function toPosition(r: Row): EventPosition {
  return {
    start_ms: Number(r.start_ms),
    agent_id: r.agent_id as string,
    source_id: r.source_id as string,
    key: r.key as string,
  };
}

function toSourceRecord(s: Row): SourceRecord {
  return {
    source_id: s.source_id as string,
    name: s.name as string,
    type: s.type as string,
    event_count: Number(s.event_count),
    last_snapshot_at: s.last_snapshot_at as string | null,
    last_generated_at: s.last_generated_at as string | null,
    last_error: s.last_error as string | null,
    settings: SourceSettings.parse(JSON.parse(s.settings as string)),
    warnings: storedWarnings(s.warnings as string | undefined),
  };
}
