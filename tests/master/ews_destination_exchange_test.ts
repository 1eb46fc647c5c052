/**
 * The EWS destination against what Exchange is documented to do and the fake does too:
 * FindItem cuts strings at 255 characters, new items ring unless told otherwise, only
 * NeverOverwrite refuses a stale ChangeKey, all-day items take the zone of the request,
 * Exchange 2013 SP1 refuses the 2016 schema. Each result is checked in the fake's mailbox.
 */
import assert from "node:assert/strict";
import { createEwsDestination, type EwsDestinationOptions } from "../../master/destinations/ews.ts";
import type { Destination, DestinationItem } from "../../master/destinations/types.ts";
import { memoryLogger } from "../../master/log.ts";
import { reconcileDestination } from "../../master/sync/reconcile.ts";
import { SqliteStore } from "../../master/store/sqlite.ts";
import { CALSYNC_PROPERTY_SET, markerOf } from "../../shared/ews/appointment.ts";
import { ews } from "../../shared/ews/library.ts";
import { zonedToUtc } from "../../shared/timezones.ts";
import { type FakeExchange, startFakeExchange } from "../fakes/ews/mod.ts";
import { destinationItem } from "./destination_contract.ts";

const USER = "calsync@corp.example";
const PASSWORD = "Passw0rd!";
const ID = `${CALSYNC_PROPERTY_SET}:CalsyncId`;
const LEGACY_KEY = `${CALSYNC_PROPERTY_SET}:CalsyncKey`;
const HASH = `${CALSYNC_PROPERTY_SET}:CalsyncHash`;

function options(fake: FakeExchange, extra: Partial<EwsDestinationOptions> = {}) {
  return { id: "exchange", url: fake.url, username: USER, password: PASSWORD, ...extra };
}

function timed(uid: string, title = "Meeting"): DestinationItem {
  return destinationItem({
    uid,
    start: "2026-03-10T09:00:00Z",
    end: "2026-03-10T10:00:00Z",
    timezone: "Europe/Berlin",
    title,
  });
}

function allDay(uid: string): DestinationItem {
  return destinationItem({
    uid,
    all_day: true,
    start: "2026-01-10",
    end: "2026-01-12",
    title: "Trade fair",
  });
}

/** Reconciles `destination` towards `items` with one store across calls. */
async function reconciler(destination: Destination) {
  const store = await SqliteStore.open(":memory:");
  return {
    store,
    run: (items: DestinationItem[]) =>
      reconcileDestination(destination, store, new Map(items.map((i) => [i.key, i])), {
        logger: memoryLogger(),
      }),
    [Symbol.asyncDispose]: () => store.close(),
  };
}

/** Midnight starting `date` in `zone`, as the fake writes instants. */
function midnight(date: string, zone: string): string {
  const [year, month, day] = date.split("-").map(Number);
  return zonedToUtc({ year, month, day, hour: 0, minute: 0, second: 0 }, zone).toISOString()
    .replace(/\.000Z$/, "Z");
}

Deno.test("EWS destination: UIDs of 300 and 1,024 characters stay one item each over four reconciles, though FindItem cuts strings at 255", async () => {
  await using fake = await startFakeExchange({ users: { [USER]: PASSWORD } });
  const destination = await createEwsDestination(options(fake));
  await using sync = await reconciler(destination);
  const items = [timed(`${"x".repeat(300)}@corp.example`), timed(`${"y".repeat(1024)}`)];
  const reports = [];
  for (let i = 0; i < 4; i++) reports.push(await sync.run(items));
  assert.deepEqual(reports.map((r) => [r.created, r.updated, r.deleted, r.strays]), [
    [2, 0, 0, 0],
    [0, 0, 0, 0],
    [0, 0, 0, 0],
    [0, 0, 0, 0],
  ]);
  const stored = fake.mailbox(USER).items();
  assert.equal(stored.length, 2);
  assert.deepEqual(
    stored.map((i) => i.extendedProperties[ID]).sort(),
    items.map((i) => markerOf(i.key)).sort(),
  );
  assert.ok(stored.every((i) => i.extendedProperties[ID].length <= 64));
});

Deno.test("EWS destination: items of calsync 0.1 (the whole key) are recognised, migrated once, their duplicates removed", async () => {
  await using fake = await startFakeExchange({ users: { [USER]: PASSWORD } });
  const long = timed(`${"z".repeat(300)}@corp.example`, "Long");
  const short = timed("short@corp.example", "Short");
  // Written as 0.1 wrote them: the whole key and the hash. The long one twice, as 0.1's
  // reconciles did when FindItem cut its key.
  const service = new ews.ExchangeService(ews.ExchangeVersion.Exchange2016);
  service.Credentials = new ews.WebCredentials(USER, PASSWORD);
  service.Url = new ews.Uri(fake.url);
  const set = new ews.Guid(CALSYNC_PROPERTY_SET);
  const property = (name: string) =>
    new ews.ExtendedPropertyDefinition(set, name, ews.MapiPropertyType.String);
  const written: { href: string; etag: string }[] = [];
  for (const item of [long, long, short]) {
    const appointment = new ews.Appointment(service);
    appointment.Subject = item.event.title;
    appointment.Start = new ews.DateTime(Date.parse(item.event.start));
    appointment.End = new ews.DateTime(Date.parse(item.event.end));
    appointment.SetExtendedProperty(property("CalsyncKey"), item.key);
    appointment.SetExtendedProperty(property("CalsyncHash"), item.hash);
    await appointment.Save(ews.SendInvitationsMode.SendToNone);
    written.push({ href: appointment.Id.UniqueId, etag: appointment.Id.ChangeKey });
  }
  const destination = await createEwsDestination(options(fake));
  await using sync = await reconciler(destination);
  // 0.1's status table knew the first long copy and the short one.
  for (const [item, at] of [[long, written[0]], [short, written[2]]] as const) {
    await sync.store.saveDestinationEntry("exchange", { key: item.key, ...at, hash: item.hash });
  }

  fake.resetRequests();
  const first = await sync.run([long, short]);
  assert.deepEqual([first.created, first.updated, first.deleted, first.failed], [0, 2, 1, 0]);
  const stored = fake.mailbox(USER).items();
  assert.deepEqual(stored.map((i) => i.id).sort(), [written[0].href, written[2].href].sort());
  for (const item of stored) {
    assert.equal(item.extendedProperties[LEGACY_KEY], undefined, "the old marker is gone");
    assert.ok(item.extendedProperties[ID] && item.extendedProperties[HASH]);
  }
  const second = await sync.run([long, short]);
  assert.deepEqual([second.created, second.updated, second.deleted], [0, 0, 0]);
  assert.equal(fake.mailbox(USER).items().length, 2, "never duplicated");
});

Deno.test("EWS destination: copies never ring, though Exchange gives new items a 15-minute reminder", async () => {
  await using fake = await startFakeExchange({ users: { [USER]: PASSWORD } });
  const destination = await createEwsDestination(options(fake));
  const { href, etag } = await destination.create(timed("ring@corp.example"));
  assert.equal(fake.mailbox(USER).items()[0].reminderIsSet, false);
  await destination.update(href, etag, timed("ring@corp.example", "Moved"));
  assert.deepEqual(
    fake.mailbox(USER).items().map((i) => [i.subject, i.reminderIsSet]),
    [["Moved", false]],
  );
});

Deno.test("EWS destination: updates send NeverOverwrite with the ChangeKey; a conflict Exchange reports is read again and decided anew", async () => {
  await using fake = await startFakeExchange({ users: { [USER]: PASSWORD } });
  const destination = await createEwsDestination(options(fake));
  await using sync = await reconciler(destination);
  await sync.run([timed("a@corp.example"), timed("b@corp.example")]);
  fake.resetRequests();
  fake.failNext("UpdateItem", "ErrorIrresolvableConflict");
  const report = await sync.run([timed("a@corp.example", "A2"), timed("b@corp.example", "B2")]);
  assert.deepEqual([report.updated, report.failed], [2, 0]);
  const updates = fake.requests.filter((r) => r.operation === "UpdateItem");
  assert.ok(updates.length >= 2, "the refused update, then the ones decided anew");
  // failNext answers before the operation reads its attributes; the others were read.
  const read = updates.filter((r) => r.conflictResolution !== null);
  assert.ok(read.length >= 1);
  assert.ok(read.every((r) => r.conflictResolution === "NeverOverwrite"));
  assert.deepEqual(fake.mailbox(USER).items().map((i) => i.subject).sort(), ["A2", "B2"]);
});

Deno.test("EWS destination: all-day items bound by the mailbox owner's midnights, from Outlook on the web's setting", async () => {
  await using fake = await startFakeExchange({ users: { [USER]: PASSWORD } });
  fake.mailbox(USER).setOwaTimeZone("W. Europe Standard Time");
  const destination = await createEwsDestination(options(fake, { timezone: "Asia/Tokyo" }));
  await destination.create(allDay("fair@corp.example"));
  await destination.create(timed("call@corp.example"));
  const [fair, call] = fake.mailbox(USER).items().sort((a, b) => a.start.localeCompare(b.start));
  assert.deepEqual(
    [fair.isAllDay, fair.start, fair.end, fair.startTimeZone, fair.endTimeZone],
    [
      true,
      midnight("2026-01-10", "Europe/Berlin"),
      midnight("2026-01-12", "Europe/Berlin"),
      "W. Europe Standard Time",
      "W. Europe Standard Time",
    ],
  );
  assert.equal(fair.start, "2026-01-09T23:00:00Z");
  assert.deepEqual([call.isAllDay, call.start, call.startTimeZone], [
    false,
    "2026-03-10T09:00:00Z",
    "W. Europe Standard Time",
  ]);
});

Deno.test("EWS destination: without a mailbox setting, all-day items use the configured timezone, else the master's", async () => {
  await using fake = await startFakeExchange({ users: { [USER]: PASSWORD } });
  const configured = await createEwsDestination(options(fake, { timezone: "America/New_York" }));
  await configured.create(allDay("ny@corp.example"));
  const [ny] = fake.mailbox(USER).items();
  assert.deepEqual([ny.start, ny.startTimeZone], ["2026-01-10T05:00:00Z", "Eastern Standard Time"]);

  await using other = await startFakeExchange({ users: { [USER]: PASSWORD } });
  const machine = await createEwsDestination(options(other));
  await machine.create(allDay("here@corp.example"));
  const here = Intl.DateTimeFormat().resolvedOptions().timeZone;
  assert.equal(other.mailbox(USER).items()[0].start, midnight("2026-01-10", here));
});

Deno.test("EWS destination: a delegate who may not read the mailbox's settings falls back to the configured timezone", async () => {
  await using fake = await startFakeExchange({
    users: { [USER]: PASSWORD, "boss@corp.example": "x" },
  });
  const boss = fake.mailbox("boss@corp.example");
  boss.setOwaTimeZone("Tokyo Standard Time");
  boss.grant(USER, "calendar");
  const destination = await createEwsDestination(
    options(fake, { mailbox: "boss@corp.example", timezone: "Europe/Berlin" }),
  );
  await destination.create(allDay("fair@corp.example"));
  assert.equal(boss.items()[0].start, "2026-01-09T23:00:00Z");
});

Deno.test("EWS destination: Exchange 2013 SP1 works; the refused 2016 schema is asked for once", async () => {
  await using fake = await startFakeExchange({
    users: { [USER]: PASSWORD },
    version: "Exchange2013_SP1",
  });
  const destination = await createEwsDestination(options(fake));
  await using sync = await reconciler(destination);
  const report = await sync.run([timed("old@corp.example")]);
  assert.deepEqual([report.created, report.failed], [1, 0]);
  assert.equal(fake.mailbox(USER).items().length, 1);
  const versions = fake.requests.map((r) => r.requestVersion);
  assert.equal(versions[0], "Exchange2016");
  assert.ok(versions.slice(1).every((v) => v === "Exchange2013_SP1"), versions.join());
});
