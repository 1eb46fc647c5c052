import assert from "node:assert/strict";
import { MemoryDestination } from "../../master/destinations/memory.ts";
import { configured } from "../../master/destinations/mod.ts";
import { AgentList, AgentRemoved, SourceRemoved, SyncStatus } from "../../shared/protocol.ts";
import { ADMIN_TOKEN, enrol, type TestMaster, testMaster, timed } from "../helpers/master_app.ts";

const WINDOW = { start: "2026-03-01T00:00:00Z", end: "2026-04-01T00:00:00Z" };

/** Two agents, three sources, one event each, reconciled into a memory destination. */
async function reconciled() {
  const dest = new MemoryDestination("wall");
  const master = await testMaster({ destinations: [configured(dest)] });
  const tokens = {
    pc1: await enrol(master, "pc1", ["main", "team"]),
    pc2: await enrol(master, "pc2"),
  };
  const put = async (agent: "pc1" | "pc2", source: string, uid: string, day: number) => {
    const res = await master.call("PUT", `/api/agents/${agent}/sources/${source}/snapshot`, {
      token: tokens[agent],
      body: {
        window: WINDOW,
        generated_at: "2026-03-01T11:00:00Z",
        events: [timed(uid, `2026-03-${String(day).padStart(2, "0")}T09:00:00Z`)],
      },
    });
    assert.equal(res.status, 200);
  };
  await put("pc1", "main", "m", 2);
  await put("pc1", "team", "t", 3);
  await put("pc2", "main", "o", 4);
  await master.sync.run();
  assert.deepEqual(titles(dest), ["Event m", "Event o", "Event t"]);
  return { master, dest };
}

function titles(dest: MemoryDestination): string[] {
  return [...dest.items.values()].map((i) => i.title).sort();
}

/** Waits for the reconcile the removal asked for (debounced), not one the test runs. */
async function untilTitles(dest: MemoryDestination, expected: string[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (JSON.stringify(titles(dest)) !== JSON.stringify(expected)) {
    if (Date.now() > deadline) assert.deepEqual(titles(dest), expected, "no reconcile came");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function events(master: TestMaster): Promise<string[]> {
  const res = await master.call(
    "GET",
    `/api/events?start=${WINDOW.start}&end=${WINDOW.end}`,
    { token: ADMIN_TOKEN },
  );
  return (await res.json()).events.map((e: { uid: string }) => e.uid);
}

Deno.test("removing a source takes its items out of the destination, and only its", async () => {
  const { master, dest } = await reconciled();
  await using _ = master;
  const res = await master.call("DELETE", "/api/admin/agents/pc1/sources/team", {
    token: ADMIN_TOKEN,
  });
  assert.equal(res.status, 200);
  assert.deepEqual(SourceRemoved.parse(await res.json()), {
    agent_id: "pc1",
    source_id: "team",
    removed: true,
  });
  await untilTitles(dest, ["Event m", "Event o"]);
  assert.deepEqual(await events(master), ["m", "o"]);
  const status = SyncStatus.parse(
    await (await master.call("GET", "/api/sync/status", { token: ADMIN_TOKEN })).json(),
  );
  assert.deepEqual(status.agents[0].sources.map((s) => s.source_id), ["main"]);
  assert.ok(master.log.some((l) => /'team'.*removed/.test(l)), "the removal is logged");
});

Deno.test("removing an agent takes all its sources' items out of the destination", async () => {
  const { master, dest } = await reconciled();
  await using _ = master;
  const res = await master.call("DELETE", "/api/admin/agents/pc1", { token: ADMIN_TOKEN });
  assert.equal(res.status, 200);
  assert.deepEqual(AgentRemoved.parse(await res.json()), { agent_id: "pc1", removed: true });
  await untilTitles(dest, ["Event o"]);
  assert.deepEqual(await events(master), ["o"]);
  const list = AgentList.parse(
    await (await master.call("GET", "/api/agents", { token: ADMIN_TOKEN })).json(),
  );
  assert.deepEqual(list.agents.map((a) => a.agent_id), ["pc2"]);
  assert.ok(master.log.some((l) => /'pc1'.*removed/.test(l)), "the removal is logged");
});

Deno.test("removing what is not there is 404, naming the field", async () => {
  const { master } = await reconciled();
  await using _ = master;
  const cases: [string, string, string][] = [
    ["/api/admin/agents/ghost", "unknown_agent", "agent_id"],
    ["/api/admin/agents/ghost/sources/main", "unknown_agent", "agent_id"],
    ["/api/admin/agents/pc1/sources/nope", "unknown_source", "source_id"],
  ];
  for (const [path, code, field] of cases) {
    const res = await master.call("DELETE", path, { token: ADMIN_TOKEN });
    assert.equal(res.status, 404, path);
    const { error } = await res.json();
    assert.deepEqual([error.code, error.field], [code, field], path);
    assert.match(error.message, /GET \/api\/agents lists/, path);
  }
  assert.deepEqual(await events(master), ["m", "t", "o"], "nothing removed");
});

Deno.test("removal needs the admin token", async () => {
  const { master } = await reconciled();
  await using _ = master;
  for (const path of ["/api/admin/agents/pc1", "/api/admin/agents/pc1/sources/main"]) {
    assert.equal((await master.call("DELETE", path)).status, 401, path);
    assert.equal((await master.call("DELETE", path, { token: "wrong" })).status, 401, path);
  }
  assert.deepEqual(await events(master), ["m", "t", "o"]);
});
