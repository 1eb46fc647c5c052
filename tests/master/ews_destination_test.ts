import assert from "node:assert/strict";
import { createEwsDestination, type EwsDestinationOptions } from "../../master/destinations/ews.ts";
import {
  type Destination,
  DestinationError,
  type DestinationErrorKind,
  type DestinationItem,
} from "../../master/destinations/types.ts";
import { memoryLogger } from "../../master/log.ts";
import { reconcileDestination } from "../../master/sync/reconcile.ts";
import { SqliteStore } from "../../master/store/sqlite.ts";
import { CALSYNC_PROPERTY_SET } from "../../shared/ews/appointment.ts";
import { type FakeExchange, startFakeExchange } from "../fakes/ews/mod.ts";
import {
  dayItem,
  type DestinationFixture,
  rejectsAs,
  runDestinationContract,
} from "./destination_contract.ts";

const USER = "calsync@corp.example";
const PASSWORD = "Passw0rd!";

function options(fake: FakeExchange, extra: Partial<EwsDestinationOptions> = {}) {
  return { id: "exchange", url: fake.url, username: USER, password: PASSWORD, ...extra };
}

/** `rejectsAs`, and the password never shows in the message. */
async function rejectsWith(
  kind: DestinationErrorKind,
  promise: Promise<unknown>,
  message?: RegExp,
): Promise<DestinationError> {
  const error = await rejectsAs(kind, promise, message);
  assert.ok(!error.message.includes(PASSWORD), "the password never shows");
  return error;
}

/** The items of the folder named `name`, as the fake stores them. */
function stored(fake: FakeExchange, name: string) {
  const mailbox = fake.mailbox(USER);
  const folder = mailbox.folders().find((f) => f.displayName === name);
  assert.ok(folder, `a folder named ${name}`);
  return mailbox.items(folder.id);
}

/** A foreign appointment parsed from the contract's iCalendar text, put by hand. */
function putForeign(fake: FakeExchange, folderId: string, ics: string): string {
  const field = (name: string) => new RegExp(`^${name}:(.*)$`, "m").exec(ics)?.[1].trim() ?? "";
  const instant = (value: string) =>
    value.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, "$1-$2-$3T$4:$5:$6Z");
  return fake.mailbox(USER).addAppointment({
    subject: field("SUMMARY"),
    start: instant(field("DTSTART")),
    end: instant(field("DTEND")),
    uid: field("UID"),
  }, folderId);
}

Deno.test("EWS destination contract against the fake Exchange", async (t) => {
  await using fake = await startFakeExchange({ users: { [USER]: PASSWORD } });
  let fresh = 0;
  const open = async (): Promise<DestinationFixture> => {
    const name = `contract-${++fresh}`;
    const destination = await createEwsDestination(options(fake, { calendar: name }));
    const folderId = fake.mailbox(USER).folders().find((f) => f.displayName === name)!.id;
    return {
      destination,
      putForeign: (ics) => Promise.resolve(putForeign(fake, folderId, ics)),
      cleanup: () => Promise.resolve(),
    };
  };
  await runDestinationContract(t, open);
});

Deno.test("EWS destination: batches of batchSize, no invitation, the marker in calsync's set", async () => {
  await using fake = await startFakeExchange({ users: { [USER]: PASSWORD } });
  const destination = await createEwsDestination(
    options(fake, { calendar: "calsync", batchSize: 3 }),
  );
  assert.equal(destination.hrefFor, undefined, "Exchange names the items");
  assert.equal(await destination.changeToken(), null);
  const store = await SqliteStore.open(":memory:");
  const want = (items: DestinationItem[]) => new Map(items.map((i) => [i.key, i]));
  const reconcile = (items: DestinationItem[]) =>
    reconcileDestination(destination, store, want(items), { logger: memoryLogger() });
  const count = (operation: string) =>
    fake.requests.filter((r) => r.operation === operation).length;
  try {
    fake.resetRequests();
    const seven = [1, 2, 3, 4, 5, 6, 7].map((day) => dayItem(day));
    const first = await reconcile(seven);
    assert.deepEqual([first.created, first.failed], [7, 0]);
    assert.equal(count("CreateItem"), 3, "2 × batchSize + 1 items take three requests");
    const items = stored(fake, "calsync");
    assert.equal(items.length, 7);
    assert.ok(items.every((i) => Object.keys(i.extendedProperties).length === 2));
    assert.ok(
      items.every((i) => i.extendedProperties[`${CALSYNC_PROPERTY_SET}:CalsyncId`] !== undefined),
    );

    fake.resetRequests();
    const changed = [...seven.slice(0, 6), dayItem(7, "Moved to Friday")];
    const second = await reconcile(changed);
    assert.deepEqual([second.updated, second.created, second.deleted], [1, 0, 0]);
    assert.equal(count("UpdateItem"), 1);
    assert.ok(stored(fake, "calsync").some((i) => i.subject === "Moved to Friday"));

    fake.resetRequests();
    const third = await reconcile(changed.slice(0, 2));
    assert.deepEqual([third.deleted, third.failed], [5, 0]);
    assert.equal(count("DeleteItem"), 2, "five removals in batches of three");
    assert.equal(stored(fake, "calsync").length, 2);

    const writes = fake.requests.filter((r) =>
      ["CreateItem", "UpdateItem", "DeleteItem"].includes(r.operation)
    );
    assert.ok(writes.length > 0);
    assert.ok(writes.every((r) => r.sendInvitations === "SendToNone"), "no invitation ever sent");
    assert.ok(stored(fake, "calsync").every((i) => !i.sentInvitations));
  } finally {
    await store.close();
  }
});

Deno.test("EWS destination: foreign items are never changed or deleted, even by id", async () => {
  await using fake = await startFakeExchange({ users: { [USER]: PASSWORD } });
  const destination = await createEwsDestination(options(fake));
  const mailbox = fake.mailbox(USER);
  const foreign = mailbox.addAppointment({
    subject: "Dentist",
    start: "2026-03-31T08:00:00Z",
    end: "2026-03-31T09:00:00Z",
  });
  const ours = await destination.create(dayItem(2));
  const [removeForeign, removeOurs] = await destination.batch!.removeBatch([
    { href: foreign, etag: null },
    { href: ours.href, etag: ours.etag },
  ]);
  assert.equal(removeForeign.ok, false);
  assert.ok(!removeForeign.ok && removeForeign.error.kind === "rejected");
  assert.equal(removeOurs.ok, true);
  await rejectsWith("rejected", destination.remove(foreign, null), /not written by calsync/);
  await rejectsWith(
    "rejected",
    destination.update(foreign, null, dayItem(3)),
    /not written by calsync/,
  );
  const left = mailbox.items();
  assert.deepEqual(left.map((i) => i.subject), ["Dentist"]);
  assert.equal(
    fake.requests.filter((r) => r.operation === "DeleteItem").reduce((n, r) => n + r.itemCount, 0),
    1,
    "only calsync's item reached a DeleteItem",
  );
});

Deno.test("EWS destination: a stale ChangeKey fails that item alone with precondition_failed", async () => {
  await using fake = await startFakeExchange({ users: { [USER]: PASSWORD } });
  const destination = await createEwsDestination(options(fake));
  const a = await destination.create(dayItem(2));
  const b = await destination.create(dayItem(3));
  await destination.update(a.href, a.etag, dayItem(2, "Changed elsewhere"));
  const results = await destination.batch!.updateBatch([
    { href: a.href, etag: a.etag, item: dayItem(2, "Stale write") },
    { href: b.href, etag: b.etag, item: dayItem(3, "Fresh write") },
  ]);
  assert.ok(!results[0].ok && results[0].error.kind === "precondition_failed");
  assert.ok(results[1].ok);
  const subjects = fake.mailbox(USER).items().map((i) => i.subject).sort();
  assert.deepEqual(subjects, ["Changed elsewhere", "Fresh write"]);
});

Deno.test("EWS destination: ErrorServerBusy throttles the whole request with its back-off", async () => {
  await using fake = await startFakeExchange({ users: { [USER]: PASSWORD } });
  const destination = await createEwsDestination(options(fake));
  fake.throttle(1, 1500);
  const error = await rejectsWith(
    "throttled",
    destination.batch!.createBatch([dayItem(2), dayItem(3)]),
  );
  assert.equal(error.retryAfterMs, 1500);
  assert.equal(fake.mailbox(USER).items().length, 0);

  // The reconciler waits as long as Exchange asked, then the write lands.
  const store = await SqliteStore.open(":memory:");
  const sleeps: number[] = [];
  try {
    fake.throttle(1, 700);
    const report = await reconcileDestination(
      destination,
      store,
      new Map([[dayItem(4).key, dayItem(4)]]),
      {
        logger: memoryLogger(),
        sleep: (ms) => (sleeps.push(ms), Promise.resolve()),
      },
    );
    assert.deepEqual(sleeps, [700]);
    assert.deepEqual([report.created, report.failed], [1, 0]);
  } finally {
    await store.close();
  }
});

Deno.test("EWS destination: the named calendar is created under Calendar once, then found", async () => {
  await using fake = await startFakeExchange({ users: { [USER]: PASSWORD } });
  const calendarId = fake.mailbox(USER).calendarId;
  const first = await createEwsDestination(options(fake, { calendar: "Team (calsync)" }));
  await first.create(dayItem(2));
  const second = await createEwsDestination(options(fake, { calendar: "Team (calsync)" }));
  assert.equal((await second.list()).length, 1, "the second finds the first one's folder");
  const named = fake.mailbox(USER).folders().filter((f) => f.displayName === "Team (calsync)");
  assert.equal(named.length, 1);
  assert.equal(named[0].parentId, calendarId);
  assert.equal(fake.requests.filter((r) => r.operation === "CreateFolder").length, 1);
});

Deno.test("EWS destination: list pages through more items than one page holds", async () => {
  await using fake = await startFakeExchange({
    users: { [USER]: PASSWORD },
    maxCalendarViewItems: 4,
  });
  const mailbox = fake.mailbox(USER);
  for (let day = 1; day <= 10; day++) {
    const d = String(day).padStart(2, "0");
    mailbox.addAppointment({
      subject: `Foreign ${day}`,
      start: `2026-03-${d}T09:00:00Z`,
      end: `2026-03-${d}T10:00:00Z`,
    });
  }
  const destination: Destination = await createEwsDestination(options(fake));
  const listed = await destination.list();
  assert.equal(listed.length, 10);
  assert.equal(new Set(listed.map((i) => i.href)).size, 10);
  assert.ok(listed.every((i) => i.key === null));
});

Deno.test("EWS destination: NTLM end to end; the wrong scheme or password names EXCHANGE_AUTH", async () => {
  await using fake = await startFakeExchange({ users: { [USER]: PASSWORD }, auth: ["ntlm"] });
  const destination = await createEwsDestination(options(fake, { auth: "ntlm" }));
  const created = await destination.create(dayItem(2));
  assert.equal((await destination.get(created.href))?.key, destination.markerOf!(dayItem(2).key));
  assert.ok(fake.requests.every((r) => r.user.toLowerCase() === USER));
  await rejectsWith(
    "unauthorized",
    createEwsDestination(options(fake, { auth: "basic" })),
    /check EXCHANGE_USERNAME\/EXCHANGE_PASSWORD and EXCHANGE_AUTH \(the server offers: NTLM\)/,
  );
  await rejectsWith(
    "unauthorized",
    createEwsDestination(options(fake, { auth: "ntlm", password: "wrong" })),
    new RegExp(`Exchange rejected the credentials for ${USER} at ${fake.url}`),
  );
});

Deno.test("EWS destination: hosts that are not Exchange say what they are", async () => {
  await using fake = await startFakeExchange({ users: { [USER]: PASSWORD } });
  fake.setMode("html");
  await rejectsWith(
    "rejected",
    createEwsDestination(options(fake)),
    /is not an EWS endpoint \(HTTP 200 OK, text\/html\)/,
  );
  fake.setMode("not-found");
  await rejectsWith(
    "not_found",
    createEwsDestination(options(fake)),
    /is not an EWS endpoint \(HTTP 404 Not Found, text\/html\).*EXCHANGE_SERVER_URL should end in \/EWS\/Exchange\.asmx/,
  );
  fake.setMode("sogo");
  const sogo = await rejectsWith("rejected", createEwsDestination(options(fake)));
  assert.match(sogo.message, /this looks like mailcow\/SOGo, which offers CalDAV, not EWS/);
  assert.ok(
    sogo.message.endsWith(
      `use CALDAV_URL=${fake.origin}/SOGo/dav/${USER}/Calendar/personal/`,
    ),
    sogo.message,
  );
});
