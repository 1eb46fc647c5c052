/**
 * The SQLite schema as an ordered list of migrations. `PRAGMA user_version` records how
 * many have been applied; a migration is never edited once released, only appended.
 *
 * @module
 */

/** Migrations in order; migration `i` brings the schema to version `i + 1`. */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE agents (
    agent_id TEXT PRIMARY KEY,
    agent_name TEXT NOT NULL,
    environment TEXT NOT NULL,
    version TEXT NOT NULL,
    token_hash TEXT UNIQUE,
    sync_interval_minutes REAL,
    created_at TEXT NOT NULL,
    last_seen TEXT
  );
  CREATE TABLE sources (
    agent_id TEXT NOT NULL REFERENCES agents(agent_id) ON DELETE CASCADE,
    source_id TEXT NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    last_snapshot_at TEXT,
    last_generated_at TEXT,
    last_error TEXT,
    PRIMARY KEY (agent_id, source_id)
  );
  CREATE TABLE occurrences (
    agent_id TEXT NOT NULL,
    source_id TEXT NOT NULL,
    key TEXT NOT NULL,
    start_ms INTEGER NOT NULL,
    end_ms INTEGER NOT NULL,
    hash TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (agent_id, source_id, key),
    FOREIGN KEY (agent_id, source_id) REFERENCES sources(agent_id, source_id) ON DELETE CASCADE
  ) WITHOUT ROWID;
  CREATE INDEX occurrences_by_start ON occurrences(start_ms);
  `,
  `
  ALTER TABLE sources ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
  CREATE TABLE destination_items (
    destination_id TEXT NOT NULL,
    key TEXT NOT NULL,
    href TEXT NOT NULL,
    etag TEXT,
    hash TEXT NOT NULL,
    PRIMARY KEY (destination_id, key)
  ) WITHOUT ROWID;
  CREATE TABLE destination_state (
    destination_id TEXT PRIMARY KEY,
    change_token TEXT,
    last_reconcile_at TEXT,
    last_error TEXT,
    pending INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE feeds (
    feed_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
  );
  `,
  `
  CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    token INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL
  );
  `,
  // Feeds become one kind of credential. No CHECK on kind: a new kind must not need a
  // table rebuild. expires_ms mirrors expires_at so that expiry compares numbers, not
  // ISO strings that may be written with or without fractions.
  `
  CREATE TABLE credentials (
    kind TEXT NOT NULL,
    credential_id TEXT NOT NULL,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    expires_ms INTEGER,
    PRIMARY KEY (kind, credential_id),
    UNIQUE (kind, token_hash)
  );
  CREATE INDEX credentials_by_expiry ON credentials(expires_ms) WHERE expires_ms IS NOT NULL;
  INSERT INTO credentials (kind, credential_id, name, token_hash, created_at)
    SELECT 'feed', feed_id, name, token_hash, created_at FROM feeds;
  DROP TABLE feeds;
  `,
  // An entry's hash may be null (an intent recorded before a create), which needs the table
  // rebuilt; the destination's resolved calendar and a refusal of its credentials are kept.
  `
  CREATE TABLE destination_items_new (
    destination_id TEXT NOT NULL,
    key TEXT NOT NULL,
    href TEXT NOT NULL,
    etag TEXT,
    hash TEXT,
    PRIMARY KEY (destination_id, key)
  ) WITHOUT ROWID;
  INSERT INTO destination_items_new SELECT destination_id, key, href, etag, hash
    FROM destination_items;
  DROP TABLE destination_items;
  ALTER TABLE destination_items_new RENAME TO destination_items;
  ALTER TABLE destination_state ADD COLUMN calendar_url TEXT;
  ALTER TABLE destination_state ADD COLUMN auth_refusal TEXT;
  `,
  // The warnings (a WarningSummary as JSON) of each source's last applied snapshot.
  `
  ALTER TABLE sources ADD COLUMN warnings TEXT NOT NULL
    DEFAULT '{"count":0,"by_reason":{},"samples":[]}';
  `,
  // Retention prunes occurrences by their end. A destination entry keeps the end of what it
  // was written for, so the reconciler keeps copies whose occurrence was pruned; pruning
  // finds the entries of a key through the second index.
  `
  CREATE INDEX occurrences_by_end ON occurrences(end_ms);
  ALTER TABLE destination_items ADD COLUMN end_ms INTEGER;
  CREATE INDEX destination_items_by_key ON destination_items(key);
  `,
  // The longest end - start of any occurrence stored since, kept by triggers in the
  // writing transaction: an event listing starts its scan of occurrences_by_start at its
  // range's start minus this, not at the first occurrence ever stored. It never shrinks,
  // so it stays an upper bound when occurrences are deleted.
  `
  CREATE TABLE occurrence_span (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    max_ms INTEGER NOT NULL
  );
  INSERT INTO occurrence_span SELECT 1, COALESCE(MAX(end_ms - start_ms), 0) FROM occurrences;
  CREATE TRIGGER occurrence_span_insert AFTER INSERT ON occurrences
    WHEN NEW.end_ms - NEW.start_ms > (SELECT max_ms FROM occurrence_span)
    BEGIN UPDATE occurrence_span SET max_ms = NEW.end_ms - NEW.start_ms; END;
  CREATE TRIGGER occurrence_span_update AFTER UPDATE OF start_ms, end_ms ON occurrences
    WHEN NEW.end_ms - NEW.start_ms > (SELECT max_ms FROM occurrence_span)
    BEGIN UPDATE occurrence_span SET max_ms = NEW.end_ms - NEW.start_ms; END;
  `,
  // The activity log: each entry as JSON, with the columns its listings and pruning seek
  // by; a count per destination, so that pruning to a maximum never counts the rows.
  `
  CREATE TABLE activity (
    id TEXT PRIMARY KEY,
    destination_id TEXT NOT NULL,
    started_ms INTEGER NOT NULL,
    entry TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX activity_by_destination ON activity(destination_id, started_ms, id);
  CREATE INDEX activity_by_start ON activity(started_ms, id);
  CREATE TABLE activity_counts (
    destination_id TEXT PRIMARY KEY,
    entries INTEGER NOT NULL
  );
  `,
  // When calsync last stored a change of each occurrence (epoch ms), the ICS feed's
  // DTSTAMP; occurrences stored before it was kept count as changed when this ran.
  `
  ALTER TABLE occurrences ADD COLUMN changed_ms INTEGER;
  UPDATE occurrences SET changed_ms = CAST(strftime('%s', 'now') AS INTEGER) * 1000;
  `,
  // Rows of snapshots being received, by upload, until their snapshot is applied in one
  // transaction (store/staging.ts); whatever a stopped master left is cleared at open. A
  // rowid table: rows are appended in arrival order and read back by upload only.
  `
  CREATE TABLE snapshot_staging (
    upload_id TEXT NOT NULL,
    key TEXT NOT NULL,
    start_ms INTEGER NOT NULL,
    end_ms INTEGER NOT NULL,
    hash TEXT NOT NULL,
    data TEXT NOT NULL
  );
  CREATE INDEX snapshot_staging_by_upload ON snapshot_staging(upload_id);
  `,
  // One time index instead of two: every occurrence written dirtied a leaf page of each,
  // and agents whose events share their times touch a different leaf per occurrence, so
  // a 50-event snapshot wrote about 170 pages. The start index now also carries end_ms:
  // listings check the end without reading the row, and pruning finds what ended before
  // a cutoff among what started before it.
  `
  DROP INDEX occurrences_by_end;
  DROP INDEX occurrences_by_start;
  CREATE INDEX occurrences_by_start ON occurrences(start_ms, agent_id, source_id, key, end_ms);
  `,
];
