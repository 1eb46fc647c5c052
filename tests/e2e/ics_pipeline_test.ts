/**
 * The whole pipeline as a user runs it: a master process, and the agent process reading
 * an ICS file and pushing it; checked through the master's own API.
 */
import assert from "node:assert/strict";
import { freePort, type MasterProcess, startMaster } from "../helpers/master_process.ts";
import {
  adminCall,
  calendar,
  day,
  runAgent,
  syncStatus as status,
  vevent,
  writeAgentConfig,
} from "../helpers/pipeline.ts";

const DAY = 86_400_000;

const review = (title: string) =>
  vevent([
    `UID:review@e2e`,
    `DTSTART:${day(1)}T090000Z`,
    `DTEND:${day(1)}T100000Z`,
    `SUMMARY:${title}`,
  ]);
const holiday = vevent([
  "UID:holiday@e2e",
  `DTSTART;VALUE=DATE:${day(2)}`,
  `DTEND;VALUE=DATE:${day(3)}`,
  "SUMMARY:Jour férié",
]);
const weekly = vevent([
  "UID:weekly@e2e",
  `DTSTART;TZID=Europe/Berlin:${day(3)}T100000`,
  `DTEND;TZID=Europe/Berlin:${day(3)}T110000`,
  "RRULE:FREQ=WEEKLY;COUNT=4",
  "SUMMARY:Weekly 🗓",
]);
const party = vevent([
  `UID:party@e2e`,
  `DTSTART:${day(5)}T170000Z`,
  `DTEND:${day(5)}T200000Z`,
  "SUMMARY:Party",
]);

async function titles(master: MasterProcess): Promise<string[]> {
  const start = new Date(Date.now() - 40 * DAY).toISOString();
  const end = new Date(Date.now() + 100 * DAY).toISOString();
  const res = await adminCall(master, "GET", `/api/events?start=${start}&end=${end}`);
  const { events } = await res.json();
  return events.map((e: { title: string }) => e.title);
}

Deno.test("agent → master: an ICS source is pushed, survives a restart, and edits re-push", async () => {
  const work = await Deno.makeTempDir({ prefix: "calsync-e2e-" });
  const dataDir = `${work}/data`;
  const port = freePort();
  let master = await startMaster(dataDir, {}, port);
  try {
    const config = `${work}/outlook_config.json`;
    const ics = `${work}/team.ics`;
    const writeConfig = (sources: unknown[]) =>
      writeAgentConfig(config, master, { id: "office-pc-1", name: "Office PC 1" }, sources);
    const team = { type: "ics", name: "Team calendar", path: "team.ics" };
    await writeConfig([team]);
    await Deno.writeTextFile(ics, calendar([review("Design review"), holiday, weekly]));

    const first = await runAgent(config);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout + first.stderr, /added 6, updated 0, removed 0, unchanged 0/);

    const before = await status(master);
    assert.deepEqual(before.totals, { agents: 1, sources: 1, events: 6 });
    const [agent] = before.agents;
    assert.equal(agent.agent_id, "office-pc-1");
    assert.equal(agent.agent_name, "Office PC 1");
    assert.equal(agent.environment, "e2e");
    assert.equal(agent.online, true);
    assert.deepEqual(
      agent.sources.map((s) => [s.source_id, s.name, s.type, s.event_count, s.last_error]),
      [["team-calendar", "Team calendar", "ics", 6, null]],
    );
    assert.deepEqual((await titles(master)).sort(), [
      "Design review",
      "Jour férié",
      "Weekly 🗓",
      "Weekly 🗓",
      "Weekly 🗓",
      "Weekly 🗓",
    ]);

    assert.equal(await master.stop(), 0);
    master = await startMaster(dataDir, {}, port);
    const after = await status(master);
    assert.deepEqual(after.totals, before.totals);
    assert.deepEqual(after.agents[0].sources, before.agents[0].sources);
    assert.equal(after.agents[0].last_seen, before.agents[0].last_seen);

    await Deno.writeTextFile(ics, calendar([review("Design review (moved room)"), weekly, party]));
    const edited = await runAgent(config);
    assert.equal(edited.code, 0, edited.stderr);
    assert.match(edited.stdout + edited.stderr, /added 1, updated 1, removed 1, unchanged 4/);
    const now = await titles(master);
    assert.ok(now.includes("Design review (moved room)"));
    assert.ok(now.includes("Party"));
    assert.ok(!now.includes("Jour férié"));

    const putsBefore = master.log().match(/PUT \/api\/agents/g)?.length ?? 0;
    const unchanged = await runAgent(config);
    assert.equal(unchanged.code, 0, unchanged.stderr);
    assert.equal(master.log().match(/PUT \/api\/agents/g)?.length ?? 0, putsBefore, "no re-upload");
    assert.match(master.log(), /POST \/api\/agents\/office-pc-1\/heartbeat 200/);

    const closed = freePort();
    await writeConfig([team, {
      type: "ics",
      name: "Broken feed",
      url: `http://127.0.0.1:${closed}/x.ics`,
    }]);
    const broken = await runAgent(config);
    assert.notEqual(broken.code, 0, "a failing source makes `once` fail");
    const withError = await status(master);
    const sources = Object.fromEntries(withError.agents[0].sources.map((s) => [s.source_id, s]));
    assert.equal(sources["team-calendar"].last_error, null);
    assert.equal(sources["team-calendar"].event_count, 6);
    assert.match(sources["broken-feed"].last_error ?? "", /127\.0\.0\.1/);
  } finally {
    await master.stop();
    await Deno.remove(work, { recursive: true });
  }
});
