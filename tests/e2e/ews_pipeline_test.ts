/**
 * Exchange end to end: an agent reads a mailbox on one Exchange-faithful fake server, the
 * master writes into a mailbox on another, and into Radicale at the same time; checked
 * in both destinations themselves.
 */
import assert from "node:assert/strict";
import { CalDavClient } from "../../shared/caldav/client.ts";
import ICAL from "ical.js";
import { type FakeExchange, startFakeExchange } from "../fakes/ews/mod.ts";
import { type MasterProcess, startMaster } from "../helpers/master_process.ts";
import { type Radicale, startRadicale } from "../helpers/radicale.ts";
import { reconcileNow, runAgentOk, syncStatus, writeAgentConfig } from "../helpers/pipeline.ts";
import { connect } from "../../shared/ews/connect.ts";
import { ews } from "../../shared/ews/library.ts";
import { EXCHANGE_SETTING_NAMES } from "../../master/destinations/ews.ts";

/** Changes the source mailbox over EWS, as Outlook would. */
async function inOutlook(
  fake: FakeExchange,
  change: (service: ews.ExchangeService) => Promise<void>,
): Promise<void> {
  const connection = await connect({
    url: fake.url,
    username: SOURCE_USER,
    password: PASSWORD,
    settingNames: EXCHANGE_SETTING_NAMES,
  });
  try {
    await connection.run("edit in Outlook", change);
  } finally {
    connection.close();
  }
}

const SOURCE_USER = "ann@corp.example";
const TARGET_USER = "calsync@corp.example";
const PASSWORD = "Passw0rd!";
const DAY = 86_400_000;

/** Midnight UTC `days` from today, plus `hours`, as an ISO instant. */
function at(days: number, hours: number): string {
  const d = new Date(Date.now() + days * DAY);
  d.setUTCHours(hours, 0, 0, 0);
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** What the destination mailbox holds that calsync wrote, by subject and start. */
function owned(fake: FakeExchange): { subject: string; start: string }[] {
  return fake.mailbox(TARGET_USER).items()
    .filter((i) => Object.keys(i.extendedProperties).some((k) => k.endsWith("CalsyncId")))
    .map((i) => ({ subject: i.subject, start: i.start }))
    .sort((a, b) => a.subject.localeCompare(b.subject) || a.start.localeCompare(b.start));
}

/** The Berlin date of an instant. */
function inBerlin(instant: string): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Berlin" }).format(new Date(instant));
}

async function inRadicale(radicale: Radicale): Promise<{ subject: string; start: string }[]> {
  const client = await CalDavClient.open({
    url: radicale.collectionUrl,
    username: radicale.username,
    password: radicale.password,
  });
  return (await client.listObjects()).flatMap((o) =>
    new ICAL.Component(ICAL.parse(o.data)).getAllSubcomponents("vevent").map((v) => {
      const e = new ICAL.Event(v);
      const start = e.startDate.isDate
        ? e.startDate.toString()
        : e.startDate.toJSDate().toISOString().replace(/\.\d{3}Z$/, "Z");
      return { subject: e.summary, start };
    })
  ).sort((a, b) => a.subject.localeCompare(b.subject) || a.start.localeCompare(b.start));
}

Deno.test("agent (Exchange) → master → Exchange and Radicale: the same items, no invitations", async () => {
  const work = await Deno.makeTempDir({ prefix: "calsync-ews-e2e-" });
  await using source = await startFakeExchange({ users: { [SOURCE_USER]: PASSWORD } });
  await using target = await startFakeExchange({ users: { [TARGET_USER]: PASSWORD } });
  await using radicale = await startRadicale();
  const inbox = source.mailbox(SOURCE_USER);
  inbox.addAppointment({
    subject: "Weekly sync",
    start: at(2, 9),
    end: at(2, 10),
    timeZone: "W. Europe Standard Time",
    uid: "weekly@corp.example",
    recurrence: {
      rrule: "FREQ=WEEKLY;COUNT=4",
      exceptions: [{
        originalStart: at(9, 9),
        start: at(10, 13),
        end: at(10, 14),
        subject: "Weekly sync (moved)",
      }],
      deleted: [at(16, 9)],
    },
    attendees: [{ name: "Bob", email: "bob@corp.example" }],
  });
  inbox.addAppointment({
    subject: "Offsite",
    start: at(5, 0),
    end: at(6, 0),
    isAllDay: true,
    timeZone: "UTC",
    uid: "offsite@corp.example",
  });
  const review = inbox.addAppointment({
    subject: "Budget review",
    start: at(3, 14),
    end: at(3, 15),
    uid: "review@corp.example",
    location: "Room 4",
  });
  // The consolidated mailbox's owner lives in Berlin (Outlook on the web says so).
  target.mailbox(TARGET_USER).setOwaTimeZone("W. Europe Standard Time");
  target.mailbox(TARGET_USER).addAppointment({
    subject: "Dentist (not calsync's)",
    start: at(3, 8),
    end: at(3, 9),
    uid: "review@corp.example",
  });

  const env = {
    EXCHANGE_SERVER_URL: target.url,
    EXCHANGE_USERNAME: TARGET_USER,
    EXCHANGE_PASSWORD: PASSWORD,
    CALDAV_URL: radicale.collectionUrl,
    CALDAV_USERNAME: radicale.username,
    CALDAV_PASSWORD: radicale.password,
    SYNC_INTERVAL_MINUTES: "60",
  };
  let master: MasterProcess = await startMaster(`${work}/data`, env);
  try {
    Deno.env.set("CALSYNC_E2E_EWS_PASSWORD", PASSWORD);
    const config = await writeAgentConfig(
      `${work}/outlook_config.json`,
      master,
      { id: "vpn-box" },
      [{
        type: "exchange",
        name: "Ann's calendar",
        exchange_url: source.url,
        username: SOURCE_USER,
        password: "env:CALSYNC_E2E_EWS_PASSWORD",
      }],
    );
    await runAgentOk(config);
    const reports = await reconcileNow(master);
    assert.deepEqual(reports.map((r) => [r.destination_id, r.created, r.failed]), [
      ["exchange", 5, 0],
      ["caldav", 5, 0],
    ]);
    const expected = [
      { subject: "Budget review", start: at(3, 14) },
      { subject: "Offsite", start: at(5, 0).slice(0, 10) },
      { subject: "Weekly sync", start: at(2, 8) },
      { subject: "Weekly sync", start: at(23, 8) },
      { subject: "Weekly sync (moved)", start: at(10, 13) },
    ];
    // The all-day item runs from midnight to midnight in Berlin, the mailbox's zone.
    const inExchange = owned(target).map((i) =>
      i.subject === "Offsite" ? { ...i, start: inBerlin(i.start) } : i
    );
    assert.match(
      owned(target).find((i) => i.subject === "Offsite")!.start,
      /T2[23]:00:00Z$/,
      "Berlin's midnight",
    );
    assert.equal(inExchange.find((i) => i.subject === "Offsite")!.start, at(5, 0).slice(0, 10));
    assert.deepEqual(
      inExchange.map((i) => i.subject),
      expected.map((e) => e.subject),
    );
    assert.deepEqual(
      await inRadicale(radicale).then((r) => r.map((i) => i.subject)),
      expected.map((e) => e.subject),
    );
    assert.deepEqual(
      (await inRadicale(radicale)).map((i) => i.start),
      inExchange.map((i) => i.start),
      "both destinations hold the same occurrences",
    );
    const writes = target.requests.filter((r) => r.operation === "CreateItem");
    assert.ok(writes.length >= 1);
    assert.ok(writes.every((r) => r.sendInvitations === "SendToNone"), "no invitation sent");
    assert.ok(
      target.mailbox(TARGET_USER).items().some((i) => i.subject === "Dentist (not calsync's)"),
    );

    // Wipe the master's store: the status is rebuilt from the markers, nothing duplicated.
    await master.stop();
    for await (const f of Deno.readDir(`${work}/data`)) {
      if (f.name.startsWith("calsync.db")) await Deno.remove(`${work}/data/${f.name}`);
    }
    master = await startMaster(`${work}/data`, env, master.port);
    await runAgentOk(config);
    target.resetRequests();
    const [rebuilt] = await reconcileNow(master);
    assert.equal(rebuilt.created, 0, "nothing created twice");
    assert.equal(owned(target).length, 5);
    assert.equal(target.requests.filter((r) => r.operation === "CreateItem").length, 0);

    // Edited and deleted in Outlook: exactly that item is updated, that one deleted.
    await inOutlook(source, async (service) => {
      const edited = await ews.Appointment.Bind(service, new ews.ItemId(review));
      edited.Subject = "Budget review (room change)";
      await edited.Update(
        ews.ConflictResolutionMode.AlwaysOverwrite,
        ews.SendInvitationsOrCancellationsMode.SendToNone,
      );
    });
    const offsite = inbox.items().find((i) => i.subject === "Offsite")!;
    await inOutlook(source, async (service) => {
      const gone = await ews.Appointment.Bind(service, new ews.ItemId(offsite.id));
      await gone.Delete(ews.DeleteMode.HardDelete, ews.SendCancellationsMode.SendToNone);
    });
    await runAgentOk(config);
    target.resetRequests();
    // Exchange is busy for the first two requests; its BackOffMilliseconds is honoured.
    target.throttle(2, 150);
    const started = performance.now();
    const [changed] = await reconcileNow(master);
    assert.ok(performance.now() - started >= 300, "waited BackOffMilliseconds twice");
    assert.deepEqual([changed.created, changed.updated, changed.deleted, changed.failed], [
      0,
      1,
      1,
      0,
    ]);
    assert.deepEqual(
      target.requests.slice(0, 3).map((r) => r.operation),
      ["FindItem", "FindItem", "FindItem"],
      "the listing was tried again after each busy answer",
    );
    assert.deepEqual(owned(target).map((i) => i.subject), [
      "Budget review (room change)",
      "Weekly sync",
      "Weekly sync",
      "Weekly sync (moved)",
    ]);
    assert.ok(
      target.mailbox(TARGET_USER).items().some((i) => i.subject === "Dentist (not calsync's)"),
      "the foreign item survived every run",
    );
    assert.deepEqual(
      (await inRadicale(radicale)).map((i) => i.subject),
      owned(target).map((i) => i.subject),
    );
    const [exchangeStatus] = (await syncStatus(master)).destinations;
    assert.equal(exchangeStatus.last_error, null);
    assert.equal(exchangeStatus.item_count, 4);
  } finally {
    Deno.env.delete("CALSYNC_E2E_EWS_PASSWORD");
    await master.stop();
    await Deno.remove(work, { recursive: true });
  }
});
