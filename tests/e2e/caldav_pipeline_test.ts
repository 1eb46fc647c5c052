/**
 * agent → master → Radicale, checked in Radicale itself: the master and the agent run as
 * processes, Radicale is real, and a recording proxy in front of it counts every request
 * the master makes.
 */
import assert from "node:assert/strict";
import ICAL from "ical.js";
import { CalDavClient } from "../../shared/caldav/client.ts";
import { type MasterProcess, startMaster } from "../helpers/master_process.ts";
import {
  basicAuth,
  deleteResource,
  putResource,
  type Radicale,
  startRadicale,
} from "../helpers/radicale.ts";
import { startRecordingProxy } from "../helpers/recording_proxy.ts";
import {
  adminCall,
  calendar,
  day,
  reconcileNow,
  runAgentOk,
  syncStatus,
  timedEvent,
  vevent,
  writeAgentConfig,
} from "../helpers/pipeline.ts";

/** An event as Radicale holds it, read with ical.js (not calsync's parser). */
type Held = {
  href: string;
  etag: string | null;
  uid: string;
  summary: string;
  location: string | null;
  description: string | null;
  attendees: number;
  start: string;
  allDay: boolean;
  owned: boolean;
};

async function held(radicale: Radicale): Promise<Held[]> {
  const client = await CalDavClient.open({
    url: radicale.collectionUrl,
    username: radicale.username,
    password: radicale.password,
  });
  const objects = await client.listObjects();
  return objects.flatMap((o) => {
    const vcal = new ICAL.Component(ICAL.parse(o.data));
    return vcal.getAllSubcomponents("vevent").map((v) => {
      const e = new ICAL.Event(v);
      return {
        href: o.href,
        etag: o.etag,
        uid: e.uid,
        summary: e.summary,
        location: (v.getFirstPropertyValue("location") as string | null) ?? null,
        description: (v.getFirstPropertyValue("description") as string | null) ?? null,
        attendees: v.getAllProperties("attendee").length,
        start: e.startDate.toString(),
        allDay: e.startDate.isDate,
        owned: v.getFirstPropertyValue("x-calsync-key") !== null,
      };
    });
  }).sort((a, b) => a.summary.localeCompare(b.summary) || a.start.localeCompare(b.start));
}

function summaries(items: Held[], owned = true): string[] {
  return items.filter((i) => i.owned === owned).map((i) => i.summary);
}

async function withSetup(
  fn: (s: {
    radicale: Radicale;
    proxy: ReturnType<typeof startRecordingProxy>;
    master: () => MasterProcess;
    restartMaster: (kill?: boolean) => Promise<MasterProcess>;
    work: string;
  }) => Promise<void>,
) {
  const work = await Deno.makeTempDir({ prefix: "calsync-caldav-e2e-" });
  await using radicale = await startRadicale();
  await using proxy = startRecordingProxy(radicale.url);
  const env = {
    CALDAV_URL: proxy.via(radicale.collectionUrl),
    CALDAV_USERNAME: radicale.username,
    CALDAV_PASSWORD: radicale.password,
    SYNC_INTERVAL_MINUTES: "60",
  };
  let master = await startMaster(`${work}/data`, env);
  try {
    await fn({
      radicale,
      proxy,
      work,
      master: () => master,
      restartMaster: async (kill = false) => {
        if (kill) {
          Deno.kill(master.pid, "SIGKILL");
          await master.stop();
        } else await master.stop();
        master = await startMaster(`${work}/data`, env, master.port);
        return master;
      },
    });
  } finally {
    await master.stop();
    await Deno.remove(work, { recursive: true });
  }
}

Deno.test("agent → master → Radicale: create, edit, remove, age out; foreign items untouched", async () => {
  await withSetup(async ({ radicale, proxy, master, work }) => {
    const foreign = await putResource(
      `${radicale.collectionUrl}dentist.ics`,
      calendar([timedEvent("standup@e2e", 1, 7, ["SUMMARY:Dentist (not calsync's)"])]),
      radicale.username,
      radicale.password,
    );
    const ics = `${work}/team.ics`;
    const config = `${work}/outlook_config.json`;
    const source = { type: "ics", name: "Team", path: "team.ics" };
    const events = {
      review: (title: string) =>
        timedEvent("review@e2e", 2, 9, [`SUMMARY:${title}`, "LOCATION:Room 4"]),
      holiday: vevent([
        "UID:holiday@e2e",
        `DTSTART;VALUE=DATE:${day(3)}`,
        `DTEND;VALUE=DATE:${day(4)}`,
        "SUMMARY:Jour férié",
      ]),
      weekly: vevent([
        "UID:weekly@e2e",
        `DTSTART;TZID=Europe/Berlin:${day(4)}T100000`,
        `DTEND;TZID=Europe/Berlin:${day(4)}T110000`,
        "RRULE:FREQ=WEEKLY;COUNT=3",
        "SUMMARY:Weekly",
      ]),
      // Same UID as the foreign item: calsync's own item must not collide with it.
      standup: timedEvent("standup@e2e", 1, 8, ["SUMMARY:Standup"]),
      retro: timedEvent("retro@e2e", -5, 14, ["SUMMARY:Retro"]),
    };
    await Deno.writeTextFile(
      ics,
      calendar([
        events.review("Review"),
        events.holiday,
        events.weekly,
        events.standup,
        events.retro,
      ]),
    );
    await writeAgentConfig(config, master(), { id: "pc1" }, [source]);
    await runAgentOk(config);
    const [first] = await reconcileNow(master());
    assert.equal(first.created, 7);
    const before = await held(radicale);
    assert.deepEqual(summaries(before), [
      "Jour férié",
      "Retro",
      "Review",
      "Standup",
      "Weekly",
      "Weekly",
      "Weekly",
    ]);
    assert.deepEqual(summaries(before, false), ["Dentist (not calsync's)"]);
    const holiday = before.find((i) => i.summary === "Jour férié")!;
    assert.equal(holiday.allDay, true);
    assert.equal(holiday.start, `${day(3).slice(0, 4)}-${day(3).slice(4, 6)}-${day(3).slice(6)}`);
    assert.ok(before.filter((i) => i.owned).every((i) => i.uid.startsWith("calsync-")));
    const foreignBefore = before.find((i) => !i.owned)!;

    proxy.reset();
    await runAgentOk(config);
    await reconcileNow(master());
    assert.deepEqual(proxy.counts(), { PROPFIND: 1 }, "an unchanged resync reads one ctag");

    await Deno.writeTextFile(
      ics,
      calendar([events.review("Review (moved)"), events.weekly, events.standup, events.retro]),
    );
    await runAgentOk(config);
    proxy.reset();
    await reconcileNow(master());
    const writes = proxy.requests.filter((r) => r.method === "PUT" || r.method === "DELETE");
    assert.deepEqual(writes.map((r) => r.method).sort(), ["DELETE", "PUT"]);
    assert.ok(writes.every((r) => r.headers.has("if-match")), "conditional writes");
    const edited = await held(radicale);
    assert.deepEqual(summaries(edited), [
      "Retro",
      "Review (moved)",
      "Standup",
      "Weekly",
      "Weekly",
      "Weekly",
    ]);

    await writeAgentConfig(config, master(), { id: "pc1", past_days: 1 }, [source]);
    await runAgentOk(config);
    await reconcileNow(master());
    const aged = await held(radicale);
    assert.ok(summaries(aged).includes("Retro"), "an event that only aged out of the window stays");

    const standup = aged.find((i) => i.summary === "Standup")!;
    const retro = aged.find((i) => i.summary === "Retro")!;
    await deleteResource(standup.href, radicale.username, radicale.password);
    // As a calendar app edits: same resource, UID and markers, another summary.
    const original = await (await fetch(retro.href, {
      headers: { authorization: basicAuth(radicale.username, radicale.password) },
    })).text();
    await putResource(
      retro.href,
      original.replace("SUMMARY:Retro", "SUMMARY:Retro (edited by hand)"),
      radicale.username,
      radicale.password,
    );
    assert.ok(summaries(await held(radicale)).includes("Retro (edited by hand)"));
    await reconcileNow(master());
    const repaired = await held(radicale);
    assert.deepEqual(summaries(repaired), summaries(aged), "drift repaired from calsync's data");

    const foreignAfter = repaired.find((i) => !i.owned)!;
    assert.deepEqual(foreignAfter, foreignBefore, "the foreign item was never touched");
    assert.equal(foreignAfter.href, foreign);
    const [dest] = (await syncStatus(master())).destinations;
    assert.equal(dest.type, "caldav");
    assert.equal(dest.item_count, 6);
    assert.equal(dest.pending, 0);
    assert.equal(dest.last_error, null);
    assert.ok(!dest.url.includes(radicale.password));
  });
});

Deno.test("a master killed mid-reconcile and restarted: every item exactly once", async () => {
  await withSetup(async ({ radicale, proxy, master, restartMaster, work }) => {
    const config = `${work}/outlook_config.json`;
    const many = Array.from(
      { length: 120 },
      (_, i) => timedEvent(`bulk-${i}@e2e`, 1 + (i % 60), 6 + (i % 12), [`SUMMARY:Bulk ${i}`]),
    );
    await Deno.writeTextFile(`${work}/bulk.ics`, calendar(many));
    await writeAgentConfig(config, master(), { id: "pc1" }, [
      { type: "ics", name: "Bulk", path: "bulk.ics" },
    ]);
    await runAgentOk(config);
    proxy.reset();
    // The 31st write is held, so the master dies with its reconcile surely unfinished.
    const writing = proxy.holdAfter("PUT", 30);
    const running = reconcileNow(master()).catch(() => null);
    await writing;
    await restartMaster(true);
    proxy.release();
    await running;
    const [report] = await reconcileNow(master());
    assert.equal(report.failed, 0);
    const items = await held(radicale);
    assert.equal(items.length, 120);
    assert.equal(new Set(items.map((i) => i.uid)).size, 120, "no duplicates");
    assert.deepEqual(
      new Set(items.map((i) => i.summary)),
      new Set(many.map((_, i) => `Bulk ${i}`)),
      "nothing missing",
    );
    proxy.reset();
    await reconcileNow(master());
    assert.equal(proxy.counts().PUT ?? 0, 0, "converged");
  });
});

Deno.test("Radicale down for a while: the master retries and converges once it is back", async () => {
  await withSetup(async ({ radicale, master, work }) => {
    const config = `${work}/outlook_config.json`;
    await Deno.writeTextFile(`${work}/a.ics`, calendar([timedEvent("a@e2e", 1, 9, ["SUMMARY:A"])]));
    await writeAgentConfig(config, master(), { id: "pc1" }, [{
      type: "ics",
      name: "A",
      path: "a.ics",
    }]);
    await runAgentOk(config);
    await reconcileNow(master());
    await radicale.stop();
    await Deno.writeTextFile(
      `${work}/a.ics`,
      calendar([
        timedEvent("a@e2e", 1, 9, ["SUMMARY:A2"]),
        timedEvent("b@e2e", 2, 9, ["SUMMARY:B"]),
      ]),
    );
    await runAgentOk(config);
    const [failed] = await reconcileNow(master());
    assert.ok(failed.failed > 0);
    const [down] = (await syncStatus(master())).destinations;
    assert.match(down.last_error ?? "", /HTTP 502 Bad Gateway|cannot reach/);
    assert.equal(down.pending, 2);
    await radicale.restart();
    // The engine retries by itself (first after 5 s); wait for it rather than forcing it.
    let status = down;
    for (let i = 0; i < 600 && (status.pending > 0 || status.last_error !== null); i++) {
      await new Promise((r) => setTimeout(r, 100));
      [status] = (await syncStatus(master())).destinations;
    }
    assert.equal(status.pending, 0);
    assert.equal(status.last_error, null);
    assert.deepEqual(summaries(await held(radicale)), ["A2", "B"]);
  });
});

Deno.test("two agents, one meeting: one item; privacy modes; the feed parses with ical.js", async () => {
  await withSetup(async ({ radicale, master, work }) => {
    const meeting = timedEvent("board@e2e", 3, 10, [
      "SUMMARY:Board meeting",
      "LOCATION:HQ",
      "DESCRIPTION:Budget 2027",
      "ATTENDEE;CN=Bob:mailto:bob@example.com",
    ]);
    const detailed = (uid: string, title: string) =>
      timedEvent(uid, 4, 11, [
        `SUMMARY:${title}`,
        "LOCATION:Room 7",
        "DESCRIPTION:Private notes",
        "ATTENDEE;CN=Eve:mailto:eve@example.com",
      ]);
    await Deno.writeTextFile(`${work}/full.ics`, calendar([meeting, detailed("f@e2e", "Full")]));
    await Deno.writeTextFile(`${work}/title.ics`, calendar([detailed("t@e2e", "Title only")]));
    await Deno.writeTextFile(`${work}/busy.ics`, calendar([detailed("b@e2e", "Hidden"), meeting]));
    const a = await writeAgentConfig(`${work}/a.json`, master(), { id: "a-office" }, [
      { type: "ics", name: "Full", path: "full.ics", label: "Office" },
      { type: "ics", name: "Title", path: "title.ics", privacy: "title" },
    ]);
    const b = await writeAgentConfig(`${work}/b.json`, master(), { id: "b-home" }, [
      { type: "ics", name: "Busy", path: "busy.ics", privacy: "busy" },
    ]);
    await runAgentOk(a);
    await runAgentOk(b);
    await reconcileNow(master());
    const items = await held(radicale);
    const fields = (i: Held) => [i.summary, i.location, i.description, i.attendees];
    assert.deepEqual(items.map(fields), [
      ["[Office] Busy", null, null, 0],
      // No ATTENDEE line, which would make the server invite Eve: she is named instead.
      [
        "[Office] Full",
        "Room 7",
        "Private notes\n\nAttendee: Eve <eve@example.com> (required, needs-action)",
        0,
      ],
      ["Busy", null, null, 0],
      ["Title only", null, null, 0],
    ]);

    const created = await adminCall(master(), "POST", "/api/admin/feeds", { name: "Wall" });
    const { path } = await created.json();
    const feed = await fetch(`${master().url}${path}`);
    assert.equal(feed.status, 200);
    const vcal = new ICAL.Component(ICAL.parse(await feed.text()));
    const feedEvents = vcal.getAllSubcomponents("vevent").map((v) => new ICAL.Event(v));
    assert.deepEqual(
      feedEvents.map((e) => e.summary).sort(),
      items.map((i) => i.summary).sort(),
      "the feed shows what the destination shows",
    );
  });
});
