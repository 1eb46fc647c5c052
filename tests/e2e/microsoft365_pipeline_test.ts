/**
 * agent (`microsoft365` source, mailbox A of the Graph stand-in) → master → the
 * `microsoft365` destination (mailbox B of the same stand-in) and Radicale, checked where
 * the items land: in B's stored events and in Radicale. The master and the agent run as
 * processes. The stand-in holds `$batch` requests to B, so the master is killed at a known
 * point: the stand-in has carried out one `$batch` of creates (its answer not yet sent)
 * and no later one.
 */
import assert from "node:assert/strict";
import ICAL from "ical.js";
import type { Event } from "@microsoft/microsoft-graph-types";
import { CalDavClient } from "../../shared/caldav/client.ts";
import { readMarker } from "../../master/destinations/microsoft365/marker.ts";
import { type FakeMailbox, startFakeGraph } from "../fakes/graph/mod.ts";
import { startMaster } from "../helpers/master_process.ts";
import { type Radicale, startRadicale } from "../helpers/radicale.ts";
import { reconcileNow, runAgentOk, syncStatus, writeAgentConfig } from "../helpers/pipeline.ts";

const A = "ann@contoso.com";
const B = "team-calendar@contoso.com";
const DAY = 86_400_000;

/** `days` from today at `hour` UTC, as Graph's `dateTime` without offset. */
function at(days: number, hour: number): string {
  const today = Date.UTC(
    new Date().getUTCFullYear(),
    new Date().getUTCMonth(),
    new Date().getUTCDate(),
  );
  return new Date(today + days * DAY + hour * 3_600_000).toISOString().slice(0, 19);
}

function timed(subject: string, days: number, hour: number, more: Event = {}): Event {
  return {
    subject,
    start: { dateTime: at(days, hour), timeZone: "UTC" },
    end: { dateTime: at(days, hour + 1), timeZone: "UTC" },
    ...more,
  };
}

/** What B holds that calsync wrote, as `subject @ start instant`, sorted. */
function inB(box: FakeMailbox): string[] {
  return box.events()
    .filter((e) => readMarker(e.extended) !== null)
    .map((e) => `${e.fields.subject} @ ${new Date(e.startMs).toISOString()}`)
    .sort();
}

/** What Radicale holds, as `summary @ start instant` (all-day: UTC midnight), sorted. */
async function inRadicale(radicale: Radicale): Promise<string[]> {
  const client = await CalDavClient.open({
    url: radicale.collectionUrl,
    username: radicale.username,
    password: radicale.password,
  });
  return (await client.listObjects()).flatMap((o) => {
    const vcal = new ICAL.Component(ICAL.parse(o.data));
    return vcal.getAllSubcomponents("vevent").map((v) => {
      const e = new ICAL.Event(v);
      const start = e.startDate.isDate
        ? `${e.startDate.toString()}T00:00:00.000Z`
        : e.startDate.toJSDate().toISOString();
      return `${e.summary} @ ${start}`;
    });
  }).sort();
}

Deno.test("agent → master → Microsoft 365 and Radicale: the same items, inert; a kill -9 mid-batch leaves no duplicate", async () => {
  const work = await Deno.makeTempDir({ prefix: "calsync-m365-e2e-" });
  await using graph = await startFakeGraph();
  await using radicale = await startRadicale();
  const app = graph.addApp({ permissions: ["Calendars.ReadWrite", "MailboxSettings.Read"] });
  // UTC mailboxes: an all-day item is at UTC midnight in B, as in Radicale.
  const source = graph.addMailbox(A, { timeZone: "UTC" });
  const target = graph.addMailbox(B, { timeZone: "UTC" });
  const foreign = target.addEvent(timed("Dentist (not calsync's)", 2, 8));

  source.addEvent(timed("Board meeting", 3, 10, {
    body: { contentType: "text", content: "Budget 2027" },
    attendees: [{ emailAddress: { name: "Bob", address: "bob@fabrikam.com" }, type: "required" }],
  }));
  source.addEvent({
    subject: "Company holiday",
    isAllDay: true,
    start: { dateTime: `${at(5, 0).slice(0, 10)}T00:00:00`, timeZone: "UTC" },
    end: { dateTime: `${at(6, 0).slice(0, 10)}T00:00:00`, timeZone: "UTC" },
  });
  source.addEvent(timed("Weekly", 1, 9, {
    recurrence: {
      pattern: { type: "daily", interval: 7 },
      range: { type: "numbered", startDate: at(1, 0).slice(0, 10), numberOfOccurrences: 3 },
    },
  }));

  const destinations = `${work}/destinations.json`;
  await Deno.writeTextFile(
    destinations,
    JSON.stringify([{
      id: "m365",
      type: "microsoft365",
      tenant_id: graph.tenantId,
      client_id: app.clientId,
      client_secret: "env:E2E_GRAPH_SECRET",
      authority: graph.origin,
      graph_url: graph.origin,
      mailbox: B,
    }]),
  );
  const env = {
    DESTINATIONS_FILE: destinations,
    E2E_GRAPH_SECRET: app.secret,
    CALDAV_URL: radicale.collectionUrl,
    CALDAV_USERNAME: radicale.username,
    CALDAV_PASSWORD: radicale.password,
    SYNC_INTERVAL_MINUTES: "60",
  };
  let master = await startMaster(`${work}/data`, env);
  try {
    const config = await writeAgentConfig(`${work}/agent.json`, master, { id: "cloud" }, [{
      type: "microsoft365",
      name: "Ann",
      tenant_id: graph.tenantId,
      client_id: app.clientId,
      client_secret: app.secret,
      authority: graph.origin,
      graph_url: graph.origin,
      mailbox: A,
      include_body: true,
    }]);
    await runAgentOk(config);
    const first = await reconcileNow(master);
    assert.ok(first.every((r) => r.failed === 0), JSON.stringify(first));

    const expected = [
      `Board meeting @ ${at(3, 10)}.000Z`,
      `Company holiday @ ${at(5, 0)}.000Z`,
      `Weekly @ ${at(1, 9)}.000Z`,
      `Weekly @ ${at(8, 9)}.000Z`,
      `Weekly @ ${at(15, 9)}.000Z`,
    ];
    assert.deepEqual(inB(target), expected);
    assert.deepEqual(await inRadicale(radicale), expected, "the same items in both");
    const board = target.events().find((e) => e.fields.subject === "Board meeting")!;
    assert.match(board.fields.body?.content ?? "", /Budget 2027\n\nOrganizer: .*\nAttendee: Bob/);
    assert.ok(target.events().find((e) => e.fields.subject === "Company holiday")!.fields.isAllDay);

    // A backlog of 60 more: three $batch requests of 20 creates. Once the stand-in has
    // carried out the first (its answer held, no other carried out), the master is killed.
    for (let i = 0; i < 60; i++) {
      source.addEvent(timed(`Bulk ${i}`, 20 + (i % 30), 6 + (i % 10), {
        attendees: [{ emailAddress: { address: `guest${i}@fabrikam.com` }, type: "optional" }],
      }));
    }
    graph.resetRequests();
    const hold = graph.holdBatches(B);
    await runAgentOk(config);
    const running = reconcileNow(master).catch(() => null);
    await hold.carriedOut;
    Deno.kill(master.pid, "SIGKILL");
    await master.stop();
    await running;
    const landed = graph.requests.filter((r) => r.kind === "createEvent").length;
    assert.equal(landed, 20, "the kill came after the first batch, before the others");
    master = await startMaster(`${work}/data`, env, master.port);
    hold.release();
    const after = await reconcileNow(master);
    assert.ok(after.every((r) => r.failed === 0), JSON.stringify(after));

    const bulk = Array.from({ length: 60 }, (_, i) => {
      const start = `${at(20 + (i % 30), 6 + (i % 10))}.000Z`;
      return `Bulk ${i} @ ${start}`;
    });
    const all = [...expected, ...bulk].sort();
    assert.deepEqual(inB(target), all, "every item exactly once in B");
    assert.deepEqual(await inRadicale(radicale), all, "and in Radicale");
    const markers = target.events().map((e) => readMarker(e.extended)?.id).filter(Boolean);
    assert.equal(new Set(markers).size, markers.length, "no key twice");

    assert.ok(
      target.events().every((e) => (e.fields.attendees ?? []).length === 0),
      "no attendee anywhere in B",
    );
    assert.deepEqual(graph.sentMessages, [], "nobody was mailed");
    assert.ok(target.events().some((e) => e.id === foreign), "the foreign event stays");

    graph.resetRequests();
    await reconcileNow(master);
    const writes = graph.requests.filter((r) =>
      ["createEvent", "updateEvent", "deleteEvent"].includes(r.kind)
    );
    assert.deepEqual(writes, [], "converged: nothing more to write");
    const status = (await syncStatus(master)).destinations.find((d) => d.id === "m365")!;
    assert.equal(status.type, "microsoft365");
    assert.deepEqual([status.pending, status.last_error], [0, null]);
    assert.ok(!status.url.includes(app.secret), "the secret never shows");
  } finally {
    await master.stop();
    await Deno.remove(work, { recursive: true });
  }
});
