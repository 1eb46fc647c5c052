import assert from "node:assert/strict";
import type { SQLInputValue } from "node:sqlite";
import { SqliteStore } from "../../master/store/sqlite.ts";
import { MIGRATIONS } from "../../master/store/sqlite_schema.ts";
import { prepareSnapshot } from "../../master/snapshots/prepare.ts";
import { registerAgent, sessionCredential, storeContract } from "./store_contract.ts";

storeContract("sqlite", () => SqliteStore.open(":memory:"));

const NOW = "2026-03-01T12:00:00Z";

Deno.test("sqlite store: everything survives closing and reopening the file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const store = await SqliteStore.open(dir);
    await registerAgent(store, "pc1");
    await store.applySnapshot(
      "pc1",
      "main",
      prepareSnapshot({
        window: { start: "2026-03-01T00:00:00Z", end: "2026-04-01T00:00:00Z" },
        generated_at: "2026-03-01T00:00:00Z",
        events: [{ uid: "a", start: "2026-03-02T09:00:00Z", end: "2026-03-02T10:00:00Z" }],
      }),
      "2026-03-01T00:00:00Z",
    );
    await store.close();
    const again = await SqliteStore.open(dir);
    assert.deepEqual(await again.totals(), { agents: 1, sources: 1, events: 1 });
    assert.equal(await again.findAgentIdByTokenHash("hash-pc1"), "pc1");
    await again.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite store: refuses a database from a newer schema", async () => {
  const dir = await Deno.makeTempDir();
  try {
    (await SqliteStore.open(dir)).close();
    const { DatabaseSync } = await import("node:sqlite");
    const db = new DatabaseSync(`${dir}/calsync.db`);
    db.exec("PRAGMA user_version = 99");
    db.close();
    await assert.rejects(SqliteStore.open(dir), /schema version 99, newer than this calsync/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite store: migration 4 turns feeds into feed credentials", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { DatabaseSync } = await import("node:sqlite");
    const db = new DatabaseSync(`${dir}/calsync.db`);
    for (const migration of MIGRATIONS.slice(0, 3)) db.exec(migration);
    db.exec("PRAGMA user_version = 3");
    db.prepare("INSERT INTO feeds VALUES (?, ?, ?, ?)").run("f1", "Wall", "th1", NOW);
    db.close();
    const store = await SqliteStore.open(dir);
    try {
      const feed = {
        credential_id: "f1",
        kind: "feed",
        name: "Wall",
        token_hash: "th1",
        created_at: NOW,
        expires_at: null,
      };
      assert.deepEqual(await store.findCredential("feed", "th1", NOW), feed);
      assert.deepEqual(await store.listCredentials("feed", NOW), [feed]);
    } finally {
      await store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * A database in `dir` at schema version `version` (the migrations before it applied),
 * holding agent pc1 with its source main, and `occurrences` given as rows of the
 * occurrences table of that version; closed again, for a store to open and migrate.
 */
async function databaseBefore(
  dir: string,
  version: number,
  occurrences: SQLInputValue[][] = [],
): Promise<void> {
  const { DatabaseSync } = await import("node:sqlite");
  const db = new DatabaseSync(`${dir}/calsync.db`);
  for (const migration of MIGRATIONS.slice(0, version)) db.exec(migration);
  db.exec(`PRAGMA user_version = ${version}`);
  db.prepare(
    `INSERT INTO agents (agent_id, agent_name, environment, version, token_hash, created_at)
     VALUES ('pc1', 'PC1', 'office', '1.0', 'hash-pc1', ?)`,
  ).run(NOW);
  db.prepare(
    `INSERT INTO sources (agent_id, source_id, name, type, last_snapshot_at, last_generated_at)
     VALUES ('pc1', 'main', 'Main', 'ics', ?, ?)`,
  ).run(NOW, NOW);
  for (const row of occurrences) {
    db.prepare(`INSERT INTO occurrences VALUES (${row.map(() => "?").join(", ")})`).run(...row);
  }
  db.close();
}

Deno.test("sqlite store: migration 6 gives existing sources no warnings, then keeps new ones", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await databaseBefore(dir, 5, [[
      "pc1",
      "main",
      "a",
      0,
      1,
      "h",
      JSON.stringify({ uid: "a", start: "1970-01-01T00:00:00Z", end: "1970-01-01T00:00:00Z" }),
    ]]);
    const store = await SqliteStore.open(dir);
    try {
      const [source] = (await store.getAgent("pc1"))!.sources;
      assert.deepEqual(
        [source.event_count, source.last_generated_at, source.warnings],
        [1, NOW, { count: 0, by_reason: {}, samples: [] }],
      );
      const warnings = {
        count: 1,
        by_reason: { "timezone-guessed": 1 },
        samples: [{ reason: "timezone-guessed" as const, line: 7, message: "TZID guessed" }],
      };
      await store.applySnapshot(
        "pc1",
        "main",
        prepareSnapshot({
          window: { start: "2026-03-01T00:00:00Z", end: "2026-04-01T00:00:00Z" },
          generated_at: "2026-03-02T00:00:00Z",
          warnings,
          events: [],
        }),
        NOW,
      );
      assert.deepEqual((await store.getAgent("pc1"))!.sources[0].warnings, warnings);
    } finally {
      await store.close();
    }
    const { DatabaseSync } = await import("node:sqlite");
    const check = new DatabaseSync(`${dir}/calsync.db`);
    const version = check.prepare("PRAGMA user_version").get();
    check.close();
    assert.equal(version?.user_version, MIGRATIONS.length);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite store: creating a credential deletes the expired ones", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const store = await SqliteStore.open(dir);
    await store.createCredential(
      sessionCredential("old", "2026-03-01T08:00:00Z", "2026-03-01T09:00:00Z"),
    );
    await store.createCredential(
      sessionCredential("live", "2026-03-01T08:00:00Z", "2026-03-01T13:00:00Z"),
    );
    await store.createCredential(sessionCredential("new", NOW, null));
    await store.close();
    const { DatabaseSync } = await import("node:sqlite");
    const db = new DatabaseSync(`${dir}/calsync.db`);
    const ids = db.prepare("SELECT credential_id FROM credentials ORDER BY credential_id").all();
    db.close();
    assert.deepEqual(ids.map((r) => r.credential_id), ["live", "new"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite store: pruning finds old occurrences and their entries through indexes", async () => {
  const { DatabaseSync } = await import("node:sqlite");
  const db = new DatabaseSync(":memory:");
  const store = SqliteStore.wrap(db);
  try {
    const plan = (sql: string) =>
      db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(0, 500).map((r) => String(r.detail)).join("; ");
    assert.match(
      plan(
        `SELECT agent_id, source_id, key, end_ms FROM occurrences
         WHERE start_ms < ?1 AND end_ms < ?1 ORDER BY start_ms LIMIT ?2`,
      ),
      /USING COVERING INDEX occurrences_by_start/,
    );
    assert.match(
      plan("UPDATE destination_items SET end_ms = ? WHERE key = ? AND end_ms IS NULL"),
      /USING INDEX destination_items_by_key/,
    );
  } finally {
    await store.close();
  }
});

Deno.test("sqlite store: the occurrence span migration counts events stored before it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const long = { uid: "long", start: "2026-02-01T00:00:00Z", end: "2026-03-20T00:00:00Z" };
    await databaseBefore(
      dir,
      MIGRATIONS.findIndex((m) => m.includes("occurrence_span")),
      [[
        "pc1",
        "main",
        "long",
        Date.parse(long.start),
        Date.parse(long.end),
        "h",
        JSON.stringify(long),
      ]],
    );
    const store = await SqliteStore.open(dir);
    try {
      const range = { start: "2026-03-10T00:00:00Z", end: "2026-03-11T00:00:00Z" };
      const page = await store.listEventPage(range, { limit: 10, after: null });
      assert.deepEqual(page.events.map((e) => e.uid), ["long"]);
    } finally {
      await store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite store: the migration that times changes counts stored occurrences as changed then", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const event = { uid: "a", start: "2026-03-02T09:00:00Z", end: "2026-03-02T10:00:00Z" };
    await databaseBefore(
      dir,
      MIGRATIONS.findIndex((m) => m.includes("ADD COLUMN changed_ms")),
      [[
        "pc1",
        "main",
        "a",
        Date.parse(event.start),
        Date.parse(event.end),
        "h",
        JSON.stringify(event),
      ]],
    );
    const migrated = Date.now();
    const store = await SqliteStore.open(dir);
    try {
      const [stored] = await store.listEvents({
        start: "2026-03-01T00:00:00Z",
        end: "2026-04-01T00:00:00Z",
      });
      const changed = Date.parse(stored.changed_at!);
      assert.ok(
        changed >= Math.floor(migrated / 1000) * 1000 && changed <= Date.now(),
        `changed_at ${stored.changed_at} is when the store was opened`,
      );
    } finally {
      await store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite store: staged rows go with the apply, and a master opening the file clears any left", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const staged = async () => {
      const { DatabaseSync } = await import("node:sqlite");
      const db = new DatabaseSync(`${dir}/calsync.db`);
      try {
        return (db.prepare("SELECT COUNT(*) AS n FROM snapshot_staging").get() as { n: number }).n;
      } finally {
        db.close();
      }
    };
    const events = Array.from({ length: 1200 }, (_, i) => ({
      uid: `e${i}`,
      start: "2026-03-02T09:00:00Z",
      end: "2026-03-02T10:00:00Z",
    }));
    const { rows, ...header } = prepareSnapshot({
      window: { start: "2026-03-01T00:00:00Z", end: "2026-04-01T00:00:00Z" },
      generated_at: NOW,
      events,
    });
    const store = await SqliteStore.open(dir);
    try {
      await registerAgent(store, "pc1");
      const applied = store.stageSnapshot("pc1", "main");
      await applied.add(rows);
      assert.equal(await staged(), 1200, "more rows than stay in memory are staged in the file");
      await applied.apply(header, NOW);
      assert.equal(await staged(), 0);
      await store.stageSnapshot("pc1", "main").add(rows);
      assert.equal(await staged(), 1200);
    } finally {
      await store.close();
    }
    // As after a master stopped mid-upload.
    const reopened = await SqliteStore.open(dir);
    await reopened.close();
    assert.equal(await staged(), 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
