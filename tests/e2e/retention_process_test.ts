/**
 * Retention in a real master process: the prune runs at start, off the request path, and
 * logs what it removed; the source's event count follows.
 */
import assert from "node:assert/strict";
import { startMaster } from "../helpers/master_process.ts";
import { until } from "../helpers/poll.ts";
import { SyncStatus } from "../../shared/protocol.ts";

const DAY_MS = 86_400_000;

Deno.test("a master prunes occurrences past RETENTION_DAYS at start and logs it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const at = (days: number) => new Date(Date.now() + days * DAY_MS).toISOString();
    const first = await startMaster(dir, { RETENTION_DAYS: "400" });
    const call = (url: string, token: string, method = "GET", body?: unknown) =>
      fetch(url, {
        method,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const registered = await call(
      `${first.url}/api/agents/register`,
      first.enrollmentToken,
      "POST",
      {
        agent_id: "pc1",
        agent_name: "PC 1",
        sources: [{ source_id: "main", name: "Main", type: "ics" }],
      },
    );
    assert.equal(registered.status, 200);
    const { token } = await registered.json();
    const event = (uid: string, start: string) => ({
      uid,
      start,
      end: new Date(Date.parse(start) + 3_600_000).toISOString(),
      title: uid,
    });
    const put = await call(`${first.url}/api/agents/pc1/sources/main/snapshot`, token, "PUT", {
      window: { start: at(-600), end: at(30) },
      generated_at: at(0),
      events: [event("old", at(-500)), event("recent", at(-1))],
    });
    assert.equal(put.status, 200, await put.text());
    assert.equal(await first.stop(), 0);

    const second = await startMaster(dir, { RETENTION_DAYS: "400" }, first.port);
    try {
      // The first master's prune at start may come after the upload on a slow machine;
      // either way, one of the two starts removed the old occurrence and said so.
      await until(
        "the prune at start is logged",
        30_000,
        () => /retention: removed 1 occurrences that ended before/.test(first.log() + second.log()),
      );
      const status = SyncStatus.parse(
        await (await call(`${second.url}/api/sync/status`, second.adminToken)).json(),
      );
      assert.equal(status.agents[0].sources[0].event_count, 1);
      assert.equal(status.store?.occurrences, 1);
    } finally {
      await second.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
