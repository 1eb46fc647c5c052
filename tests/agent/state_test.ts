import assert from "node:assert/strict";
import { join } from "node:path";
import { emptyState, readState, StateError, writeState } from "../../agent/state.ts";
import { tempDir } from "./helpers.ts";

Deno.test("state: a missing file reads as a fresh state", async () => {
  await using dir = await tempDir();
  assert.deepEqual(await readState(join(dir.path, "calendar_agent_state.json")), {
    agent_id: null,
    token: null,
    registration_hash: null,
    sources: {},
  });
});

Deno.test("state: written state reads back, replaces the old file and leaves no temp file", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "calendar_agent_state.json");
  await writeState(path, { ...emptyState(), token: "old" });
  const state = {
    agent_id: "office-pc",
    token: "agent-token-1",
    registration_hash: "abc",
    sources: {
      team: {
        snapshot_hash: "f00",
        accepted_at: "2026-03-29T08:00:00Z",
        generated_at: "2026-03-29T07:59:00Z",
        event_count: 34,
      },
    },
  };
  await writeState(path, state);
  assert.deepEqual(await readState(path), state);
  const names = [];
  for await (const entry of Deno.readDir(dir.path)) names.push(entry.name);
  assert.deepEqual(names, ["calendar_agent_state.json"]);
});

Deno.test("state: a file written before event counts were kept loads with none", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "calendar_agent_state.json");
  const source = { snapshot_hash: "f00", accepted_at: "2026-03-29T08:00:00Z" };
  await Deno.writeTextFile(path, JSON.stringify({ token: "t", sources: { team: source } }));
  assert.deepEqual((await readState(path)).sources.team, {
    ...source,
    generated_at: null,
    event_count: null,
  });
});

Deno.test({
  name: "state: the file is readable by its owner only",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await using dir = await tempDir();
    const path = join(dir.path, "calendar_agent_state.json");
    await writeState(path, emptyState());
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  },
});

Deno.test("state: a failed write keeps the old state and removes its temp file", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "calendar_agent_state.json");
  await writeState(path, { ...emptyState(), token: "kept" });
  // A folder where the file should be makes the rename fail after the temp file was written.
  const blocked = join(dir.path, "blocked");
  await Deno.mkdir(join(blocked, "calendar_agent_state.json"), { recursive: true });
  await Deno.writeTextFile(join(blocked, "calendar_agent_state.json", "x"), "");
  await assert.rejects(writeState(join(blocked, "calendar_agent_state.json"), emptyState()));
  const left = [];
  for await (const entry of Deno.readDir(blocked)) left.push(entry.name);
  assert.deepEqual(left, ["calendar_agent_state.json"]);
  assert.equal((await readState(path)).token, "kept");
});

Deno.test("state: an unreadable file is an error that says how to recover", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "calendar_agent_state.json");
  await Deno.writeTextFile(path, "{ not json");
  const error = await readState(path).catch((e) => e);
  assert.ok(error instanceof StateError);
  assert.match(error.message, /state file .* is unusable \(not valid JSON/);
  assert.match(error.message, /delete it to start over/);
  await Deno.writeTextFile(path, JSON.stringify({ token: 42 }));
  await assert.rejects(readState(path), StateError);
});
