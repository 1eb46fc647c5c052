import assert from "node:assert/strict";
import { MasterClient } from "../../agent/master_client.ts";
import { memoryLogger } from "./helpers.ts";

const HEALTH = {
  status: "ok",
  version: "1.0.0",
  uptime_s: 1,
  store: { backend: "sqlite", ok: true },
};

/** A client whose master answers `/health` with the `Date` header `dates` gives in turn. */
function clientWithMasterDates(dates: (string | null)[], agentNow: Date) {
  const { log, lines } = memoryLogger();
  let call = 0;
  const client = new MasterClient({
    centralApiUrl: "http://master.test:8008",
    fetch: () => {
      const date = dates[call++];
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (date !== null) headers.date = date;
      return Promise.resolve(new Response(JSON.stringify(HEALTH), { headers }));
    },
    log,
    now: () => agentNow,
  });
  return { client, lines };
}

const AGENT_NOW = new Date("2026-03-01T12:00:00Z");

Deno.test("clock: a master clock far behind the agent's is warned about once, with the fix", async () => {
  const { client, lines } = clientWithMasterDates([
    "Sun, 01 Mar 2026 11:50:00 GMT",
    "Sun, 01 Mar 2026 11:50:00 GMT",
  ], AGENT_NOW);
  await client.health();
  await client.health();
  const warnings = lines.filter((l) => l.includes("clock"));
  assert.equal(warnings.length, 1, warnings.join("\n"));
  assert.match(warnings[0], /WARN/);
  assert.match(warnings[0], /this PC's clock is 10 minutes ahead of the master's/);
  assert.match(warnings[0], /turn on its automatic time sync/);
});

Deno.test("clock: an agent clock behind the master's is named as behind; agreeing again is logged", async () => {
  const { client, lines } = clientWithMasterDates([
    "Sun, 01 Mar 2026 12:30:00 GMT",
    "Sun, 01 Mar 2026 12:00:01 GMT",
  ], AGENT_NOW);
  await client.health();
  await client.health();
  const clock = lines.filter((l) => l.includes("clock"));
  assert.equal(clock.length, 2, clock.join("\n"));
  assert.match(clock[0], /30 minutes behind the master's/);
  assert.match(clock[1], /agrees with the master's again/);
});

Deno.test("clock: a small difference or a missing Date header logs nothing", async () => {
  const { client, lines } = clientWithMasterDates([
    "Sun, 01 Mar 2026 12:01:30 GMT",
    null,
    "not a date",
  ], AGENT_NOW);
  await client.health();
  await client.health();
  await client.health();
  assert.deepEqual(lines.filter((l) => l.includes("clock")), []);
});
