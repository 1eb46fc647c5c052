import assert from "node:assert/strict";
import { SqliteStore } from "../../master/store/sqlite.ts";
import { prepareSnapshot } from "../../master/snapshots/prepare.ts";
import { registerAgent, storeContract } from "./store_contract.ts";

storeContract("sqlite", () => SqliteStore.open(":memory:"));

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
