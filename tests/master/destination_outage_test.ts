/**
 * Radicale stopped in the middle of a reconcile: the run ends after a few failed
 * connections, status says the destination is unreachable with what is still waiting
 * within seconds, and once Radicale is back the engine's short retry converges without
 * duplicates.
 */
import assert from "node:assert/strict";
import { CalDavClient } from "../../shared/caldav/client.ts";
import { SyncStatus } from "../../shared/protocol.ts";
import { ADMIN_TOKEN, enrol, type TestMaster, testMaster, timed } from "../helpers/master_app.ts";
import { radicaleDestination, startRadicale } from "../helpers/radicale.ts";
import { until } from "../helpers/poll.ts";

const WINDOW = { start: "2026-03-01T00:00:00Z", end: "2026-04-01T00:00:00Z" };
const EVENTS = 150;

async function status(master: TestMaster) {
  const res = await master.call("GET", "/api/sync/status", { token: ADMIN_TOKEN });
  return SyncStatus.parse(await res.json()).destinations[0];
}

Deno.test("a destination that stops answering mid-reconcile shows as unreachable within seconds and converges once back", async () => {
  await using radicale = await startRadicale();
  await using master = await testMaster({ destinations: [await radicaleDestination(radicale)] });
  const token = await enrol(master, "pc1");
  const events = Array.from(
    { length: EVENTS },
    (_, i) =>
      timed(`e${i}`, new Date(Date.parse("2026-03-02T00:00:00Z") + i * 3600_000).toISOString()),
  );
  const put = await master.call("PUT", "/api/agents/pc1/sources/main/snapshot", {
    token,
    body: { window: WINDOW, generated_at: master.clock.now.toISOString(), settings: {}, events },
  });
  assert.equal(put.status, 200, await put.text());

  await until(
    "some writes landed",
    60_000,
    async () =>
      (await master.store.destinationEntries("radicale")).filter((e) => e.hash !== null).length >=
        10,
  );
  await radicale.stop();
  // Without failing fast every pending item would be tried four times with backoff, for
  // minutes: 6x the 5 s target tells them apart on any machine; the figure is printed.
  const visible = await until("status shows the outage", 30_000, async () => {
    const d = await status(master);
    return d.pending > 0 && (d.last_error ?? "").includes("unreachable");
  });
  const down = await status(master);
  console.log(
    `outage visible after ${(visible / 1000).toFixed(2)} s (target 5 s), pending ${down.pending}`,
  );
  assert.ok(down.pending < EVENTS, "completed writes were kept");

  await radicale.restart();
  const converged = await until("converged after the restart", 60_000, async () => {
    const d = await status(master);
    return d.pending === 0 && d.last_error === null && d.item_count === EVENTS;
  });
  console.log(`converged ${(converged / 1000).toFixed(2)} s after the restart`);
  const client = await CalDavClient.open({
    url: radicale.collectionUrl,
    username: radicale.username,
    password: radicale.password,
  });
  const objects = await client.listObjects();
  assert.equal(objects.length, EVENTS, "every event once, no duplicates");
});
