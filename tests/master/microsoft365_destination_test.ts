/**
 * The `microsoft365` destination against the Graph stand-in: the destination contract,
 * inert copies (no attendee, no reminder, no mail), `transactionId` across a lost answer,
 * 412 handling, foreign events and copies made meetings left alone, all-day items in the
 * mailbox's zone, the one delta request of an unchanged calendar, and errors that name
 * their fix. Results are read where they land: in the stand-in's mailbox.
 */
import assert from "node:assert/strict";
import type { Event } from "@microsoft/microsoft-graph-types";
import { memoryLogger } from "../../master/log.ts";
import { reconcileDestination } from "../../master/sync/reconcile.ts";
import { SqliteStore } from "../../master/store/sqlite.ts";
import { type DestinationItem } from "../../master/destinations/types.ts";
import { ID_PROPERTY } from "../../master/destinations/microsoft365/marker.ts";
import {
  type AppPermission,
  type FakeApp,
  type FakeGraph,
  type FakeMailbox,
  startFakeGraph,
} from "../fakes/graph/mod.ts";
import { graphCall, tokenFor } from "../fakes/graph_test/helpers.ts";
import {
  graphClientFor,
  httpRequests,
  openM365Destination,
  SETTING_PREFIX,
} from "../helpers/m365_destination.ts";
import {
  dayItem,
  type DestinationFixture,
  destinationItem,
  foreignIcs as foreignIcsOf,
  rejectsAs,
  runDestinationContract,
} from "./destination_contract.ts";
import { createMicrosoft365Destination } from "../../master/destinations/microsoft365.ts";

const BOX = "calendar@contoso.com";

interface Setup extends AsyncDisposable {
  graph: FakeGraph;
  app: FakeApp;
  box: FakeMailbox;
}

async function setup(
  permissions: AppPermission[] = ["Calendars.ReadWrite", "MailboxSettings.Read"],
  timeZone = "W. Europe Standard Time",
): Promise<Setup> {
  const graph = await startFakeGraph();
  const app = graph.addApp({ permissions });
  const box = graph.addMailbox(BOX, { timeZone });
  return { graph, app, box, [Symbol.asyncDispose]: () => graph.close() };
}

/** A foreign event parsed from the contract's iCalendar text, stored as its owner would. */
function putForeign(box: FakeMailbox, ics: string, calendarId?: string): string {
  const field = (name: string) => new RegExp(`^${name}:(.*)$`, "m").exec(ics)?.[1].trim() ?? "";
  const instant = (value: string) =>
    value.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, "$1-$2-$3T$4:$5:$6");
  return box.addEvent({
    subject: field("SUMMARY"),
    start: { dateTime: instant(field("DTSTART")), timeZone: "UTC" },
    end: { dateTime: instant(field("DTEND")), timeZone: "UTC" },
  }, calendarId);
}

function want(items: DestinationItem[]): Map<string, DestinationItem> {
  return new Map(items.map((i) => [i.key, i]));
}

/** Someone else's Graph call on the mailbox (its owner in Outlook, say). */
async function asSomeoneElse(s: Setup, method: string, path: string, body?: Event) {
  const token = await tokenFor(s.graph, s.app);
  const answer = await graphCall(s.graph, token, method, `/users/${BOX}${path}`, { body });
  assert.ok(answer.status < 300, JSON.stringify(answer.body));
  return answer;
}

Deno.test("microsoft365 destination contract against the Graph stand-in", async (t) => {
  await using s = await setup();
  let fresh = 0;
  const open = async (): Promise<DestinationFixture> => {
    const name = `contract-${++fresh}`;
    const calendarId = s.box.addCalendar(name);
    const destination = await openM365Destination(s.graph, s.app, BOX, { calendarName: name });
    return {
      destination,
      putForeign: (ics) => Promise.resolve(putForeign(s.box, ics, calendarId)),
      cleanup: () => Promise.resolve(),
    };
  };
  await runDestinationContract(t, open);
});

Deno.test("microsoft365 destination: copies are inert, no attendee, no mail, batches of 20", async () => {
  await using s = await setup();
  const destination = await openM365Destination(s.graph, s.app, BOX);
  const people = {
    organizer: { name: "Ann", email: "ann@contoso.com" },
    attendees: [{ name: "Bob", email: "bob@fabrikam.com", status: "accepted" }],
    description: "Agenda",
  };
  const items = Array.from({ length: 23 }, (_, i) => dayItem(i + 1, `Meeting ${i + 1}`, people));
  const store = await SqliteStore.open(":memory:");
  try {
    s.graph.resetRequests();
    const report = await reconcileDestination(destination, store, want(items), {
      logger: memoryLogger(),
    });
    assert.deepEqual([report.created, report.failed], [23, 0]);
    const creates = s.graph.requests.filter((r) => r.kind === "createEvent");
    assert.equal(creates.length, 23);
    assert.equal(new Set(creates.map((c) => c.batch)).size, 2, "23 creates in 2 batches");
    assert.ok(creates.every((c) => c.batch !== null));

    const stored = s.box.events();
    assert.equal(stored.length, 23);
    for (const event of stored) {
      assert.deepEqual(event.fields.attendees ?? [], [], "no attendee");
      assert.equal(event.fields.isReminderOn, false);
      assert.equal(event.fields.responseRequested, false);
      assert.equal(event.fields.isOnlineMeeting, false);
      assert.match(event.fields.body?.content ?? "", /Agenda\n\nOrganizer: Ann <ann@contoso.com>/);
      assert.match(event.fields.body?.content ?? "", /Attendee: Bob <bob@fabrikam.com>/);
      assert.ok(event.extended.some((p) => p.id === ID_PROPERTY));
      assert.match(event.fields.transactionId ?? "", /^calsync-/);
    }
    // Updates and deletes send nothing either.
    await reconcileDestination(
      destination,
      store,
      want(items.slice(0, 5).map((_, n) => dayItem(n + 1, "Moved", people))),
      { logger: memoryLogger() },
    );
    assert.equal(s.box.events().length, 5);
    assert.ok(s.box.events().every((e) => e.fields.subject === "Moved"));
    assert.deepEqual(s.graph.sentMessages, [], "no invitation, update or cancellation");
  } finally {
    await store.close();
  }
});

Deno.test("microsoft365 destination: a create sent again after a lost answer returns the same event", async () => {
  await using s = await setup();
  const destination = await openM365Destination(s.graph, s.app, BOX);
  const first = await destination.create(dayItem(2));
  const again = await destination.create(dayItem(2));
  assert.equal(again.href, first.href, "the same transactionId gives the same event");
  assert.equal(s.box.events().length, 1);
  // Another destination writing the same occurrence into another calendar of the mailbox
  // gets its own copy: the calendar is part of the transactionId.
  s.box.addCalendar("Team");
  const team = await openM365Destination(s.graph, s.app, BOX, { calendarName: "Team" });
  assert.notEqual((await team.create(dayItem(2))).href, first.href);
  assert.equal(s.box.events().length, 2);

  // The answer of a whole batch is lost on the way back: the reconciler sends it again.
  const store = await SqliteStore.open(":memory:");
  try {
    s.graph.killNextBatch();
    const items = [3, 4, 5].map((day) => dayItem(day));
    const report = await reconcileDestination(destination, store, want(items), {
      logger: memoryLogger(),
      sleep: () => Promise.resolve(),
    });
    assert.equal(report.failed, 0, report.errors.join("; "));
    assert.equal(s.graph.requests.filter((r) => r.kind === "createEvent").length, 3 + 3 + 3);
    const subjects = s.box.events().map((e) => e.fields.subject).sort();
    assert.deepEqual(
      subjects,
      ["Event 2", "Event 2", "Event 3", "Event 4", "Event 5"],
      "no duplicate (one Event 2 in each calendar)",
    );
  } finally {
    await store.close();
  }
});

Deno.test("microsoft365 destination: a stale etag is 412 for that item alone, and the reconciler decides again", async () => {
  await using s = await setup();
  const destination = await openM365Destination(s.graph, s.app, BOX);
  const a = await destination.create(dayItem(2));
  const b = await destination.create(dayItem(3));
  // The mailbox's owner edits the copy in Outlook.
  await asSomeoneElse(s, "PATCH", `/events/${a.href}`, { subject: "Edited in Outlook" });
  const results = await destination.batch!.updateBatch([
    { href: a.href, etag: a.etag, item: dayItem(2, "Stale write") },
    { href: b.href, etag: b.etag, item: dayItem(3, "Fresh write") },
  ]);
  assert.ok(!results[0].ok && results[0].error.kind === "precondition_failed");
  assert.ok(results[1].ok);
  assert.deepEqual(
    s.box.events().map((e) => e.fields.subject).sort(),
    ["Edited in Outlook", "Fresh write"],
  );

  // Through the reconciler: it reads the item again and writes what is desired.
  const store = await SqliteStore.open(":memory:");
  try {
    const logger = memoryLogger();
    await reconcileDestination(destination, store, want([dayItem(4)]), { logger });
    const c = (await store.destinationEntries("m365")).find((e) => e.key === dayItem(4).key)!;
    // The owner edits the copy just before calsync's write of a new version lands.
    let edited = false;
    const report = await reconcileDestination(destination, store, want([dayItem(4, "Wanted")]), {
      logger,
      beforeWrite: async () => {
        if (edited) return;
        edited = true;
        await asSomeoneElse(s, "PATCH", `/events/${c.href}`, { subject: "Edited again" });
      },
    });
    assert.deepEqual([report.updated, report.failed], [1, 0], report.errors.join("; "));
    assert.ok(s.graph.requests.some((r) => r.kind === "updateEvent" && r.status === 412));
    const stored = s.box.events().find((e) => e.id === c.href)!;
    assert.equal(stored.fields.subject, "Wanted");
  } finally {
    await store.close();
  }
});

Deno.test("microsoft365 destination: foreign events and copies made meetings are never written", async () => {
  await using s = await setup();
  const destination = await openM365Destination(s.graph, s.app, BOX);
  const foreign = s.box.addEvent({
    subject: "Dentist",
    start: { dateTime: "2026-03-31T08:00:00", timeZone: "UTC" },
    end: { dateTime: "2026-03-31T09:00:00", timeZone: "UTC" },
  });
  await rejectsAs("rejected", destination.remove(foreign, null), /not written by calsync/);
  await rejectsAs("rejected", destination.update(foreign, null, dayItem(3)), /not written/);
  // An etag the destination never saw on an owned item proves nothing: it reads first.
  const listedForeign = (await destination.list()).find((r) => r.href === foreign)!;
  await rejectsAs(
    "rejected",
    destination.remove(foreign, listedForeign.etag),
    /not written by calsync/,
  );

  const store = await SqliteStore.open(":memory:");
  try {
    const logger = memoryLogger();
    await reconcileDestination(destination, store, want([dayItem(2), dayItem(3)]), { logger });
    const copy = (await store.destinationEntries("m365")).find((e) => e.key === dayItem(2).key)!;
    // The mailbox's owner invites someone to calsync's copy: it is a meeting now.
    await asSomeoneElse(s, "PATCH", `/events/${copy.href}`, {
      attendees: [{ emailAddress: { address: "carol@fabrikam.com" }, type: "required" }],
    });
    const sentBefore = s.graph.sentMessages.length;
    // Its source changes it, then drops it; the admin's full reconcile drops strays too.
    const changed = await reconcileDestination(destination, store, want([dayItem(2, "Moved")]), {
      logger,
    });
    assert.deepEqual([changed.failed, changed.deleted], [1, 1]);
    assert.ok(changed.errors.some((e) => /has attendees/.test(e)), changed.errors.join("; "));
    const removed = await reconcileDestination(destination, store, want([]), {
      logger,
      deleteStrays: true,
    });
    assert.ok(removed.errors.some((e) => /has attendees/.test(e)), removed.errors.join("; "));
    assert.equal(s.graph.sentMessages.length, sentBefore, "calsync sent no meeting message");
    const left = s.box.events().map((e) => e.fields.subject).sort();
    assert.deepEqual(left, ["Dentist", "Event 2"], "the foreign event and the meeting stay");
  } finally {
    await store.close();
  }
});

Deno.test("microsoft365 destination: all-day items are midnights of the mailbox's zone", async () => {
  const allDay = destinationItem({
    uid: "holiday@example.com",
    all_day: true,
    start: "2026-04-01",
    end: "2026-04-02",
    title: "Holiday",
  });
  {
    await using s = await setup(
      ["Calendars.ReadWrite", "MailboxSettings.Read"],
      "Tokyo Standard Time",
    );
    const destination = await openM365Destination(s.graph, s.app, BOX, {
      timezone: "Europe/Berlin",
    });
    await destination.create(allDay);
    const [stored] = s.box.events();
    assert.equal(stored.fields.isAllDay, true);
    assert.deepEqual(stored.fields.start, {
      dateTime: "2026-04-01T00:00:00",
      timeZone: "Tokyo Standard Time",
    });
    assert.equal(stored.startMs, Date.UTC(2026, 2, 31, 15), "midnight in Tokyo");
    assert.equal(stored.endMs, Date.UTC(2026, 3, 1, 15));
  }
  {
    // Without MailboxSettings.Read the configured zone is used.
    await using s = await setup(["Calendars.ReadWrite"], "Tokyo Standard Time");
    const destination = await openM365Destination(s.graph, s.app, BOX, {
      timezone: "Europe/Berlin",
    });
    await destination.create(allDay);
    const [stored] = s.box.events();
    assert.equal(stored.fields.start?.timeZone, "W. Europe Standard Time");
    assert.equal(stored.startMs, Date.UTC(2026, 2, 31, 22), "midnight in Berlin (CEST)");
  }
  {
    // A timed event keeps its own zone, at its instant.
    await using s = await setup();
    const destination = await openM365Destination(s.graph, s.app, BOX);
    await destination.create(dayItem(30));
    const [stored] = s.box.events();
    assert.deepEqual(stored.fields.start, {
      dateTime: "2026-03-30T11:00:00",
      timeZone: "W. Europe Standard Time",
    });
    assert.equal(stored.startMs, Date.parse("2026-03-30T09:00:00Z"));
  }
});

Deno.test("microsoft365 destination: an unchanged calendar costs one delta request; changes are noticed", async () => {
  await using s = await setup();
  const destination = await openM365Destination(s.graph, s.app, BOX);
  const store = await SqliteStore.open(":memory:");
  const logger = memoryLogger();
  const items = [1, 2, 3, 4, 5].map((day) => dayItem(day));
  try {
    await reconcileDestination(destination, store, want(items), { logger });
    s.graph.resetRequests();
    const again = await reconcileDestination(destination, store, want(items), { logger });
    assert.equal(again.listed, false);
    assert.deepEqual(httpRequests(s.graph).map((r) => r.kind), ["delta"], "one request");

    // The owner deletes a copy in Outlook: delta reports it, the copy comes back.
    const entries = await store.destinationEntries("m365");
    const gone = entries.find((e) => e.key === items[0].key)!;
    await asSomeoneElse(s, "DELETE", `/events/${gone.href}`);
    s.graph.resetRequests();
    const healed = await reconcileDestination(destination, store, want(items), { logger });
    assert.deepEqual([healed.listed, healed.created, healed.failed], [true, 1, 0]);
    assert.equal(s.box.events().length, 5);

    // The server forgets the delta round (410): everything is listed once more, nothing
    // is written twice.
    s.graph.expireDeltaTokens();
    const resync = await reconcileDestination(destination, store, want(items), { logger });
    assert.deepEqual([resync.listed, resync.created, resync.updated], [true, 0, 0]);
    s.graph.resetRequests();
    await reconcileDestination(destination, store, want(items), { logger });
    assert.deepEqual(httpRequests(s.graph).map((r) => r.kind), ["delta"]);
  } finally {
    await store.close();
  }
});

Deno.test("microsoft365 destination: errors name their fix", async () => {
  {
    await using s = await setup();
    const wrong = createMicrosoft365Destination({
      id: "m365",
      client: graphClientFor(s.graph, s.app, "not-the-secret"),
      mailbox: BOX,
      graphUrl: s.graph.origin,
      settingNames: { mailbox: "mailbox", calendarName: "calendar_name" },
    });
    const error = await rejectsAs(
      "unauthorized",
      wrong,
      new RegExp(`${SETTING_PREFIX.replace(/[.[\]]/g, "\\$&")}client_secret`),
    );
    assert.equal(error.retryable, false, "a refused secret is never retried");
    assert.ok(!error.message.includes("not-the-secret"), "the secret never shows");
  }
  {
    await using s = await setup(["Calendars.Read", "MailboxSettings.Read"]);
    const destination = await openM365Destination(s.graph, s.app, BOX);
    await rejectsAs(
      "unauthorized",
      destination.create(dayItem(2)),
      /Calendars\.ReadWrite.*Grant admin consent/,
    );
  }
  {
    await using s = await setup();
    s.graph.setAccessPolicy(s.app.clientId, {
      accessRight: "RestrictAccess",
      mailboxes: ["someone@contoso.com"],
    });
    const destination = await openM365Destination(s.graph, s.app, BOX);
    await rejectsAs(
      "unauthorized",
      destination.changeToken(),
      /outside the app's application access policy: .*New-ApplicationAccessPolicy/,
    );
  }
  {
    await using s = await setup();
    await rejectsAs(
      "not_found",
      openM365Destination(s.graph, s.app, "nobody@contoso.com"),
      /\[0\]\.mailbox/,
    );
    await rejectsAs(
      "not_found",
      openM365Destination(s.graph, s.app, BOX, { calendarName: "Team" }),
      /\[0\]\.calendar_name: the mailbox calendar@contoso\.com has no calendar named "Team"/,
    );
  }
});

Deno.test("microsoft365 destination: a throttled batch is waited out and nothing lands twice", async () => {
  await using s = await setup();
  const destination = await openM365Destination(s.graph, s.app, BOX);
  const store = await SqliteStore.open(":memory:");
  try {
    // Two creates of the batch answered 429 (Outlook's per-mailbox limit): sent again alone.
    await reconcileDestination(destination, store, want([]), { logger: memoryLogger() });
    s.graph.throttle({ count: 2, mailbox: BOX, retryAfterSeconds: 1 });
    const items = [1, 2, 3, 4, 5].map((day) => dayItem(day));
    const report = await reconcileDestination(destination, store, want(items), {
      logger: memoryLogger(),
    });
    assert.deepEqual([report.created, report.failed], [5, 0], report.errors.join("; "));
    assert.ok(s.graph.requests.some((r) => r.status === 429));
    assert.equal(s.box.events().length, 5);
  } finally {
    await store.close();
  }
});

Deno.test("microsoft365 destination: someone's new series costs no listing; someone's new event one", async () => {
  await using s = await setup();
  const destination = await openM365Destination(s.graph, s.app, BOX);
  const store = await SqliteStore.open(":memory:");
  const logger = memoryLogger();
  try {
    await reconcileDestination(destination, store, want([dayItem(2)]), { logger });
    const today = new Date().toISOString().slice(0, 10);
    s.box.addEvent({
      subject: "Someone's daily",
      start: { dateTime: `${today}T08:00:00`, timeZone: "UTC" },
      end: { dateTime: `${today}T08:15:00`, timeZone: "UTC" },
      recurrence: {
        pattern: { type: "daily", interval: 1 },
        range: { type: "numbered", startDate: today, numberOfOccurrences: 5 },
      },
    });
    const series = await reconcileDestination(destination, store, want([dayItem(2)]), { logger });
    assert.equal(series.listed, false, "occurrences of a series calsync never wrote");
    putForeign(s.box, foreignIcsOf("lunch@example.com"));
    const single = await reconcileDestination(destination, store, want([dayItem(2)]), { logger });
    assert.equal(single.listed, true, "a new single event might be calsync's: read");
    assert.deepEqual([single.created, single.deleted, single.updated], [0, 0, 0]);
  } finally {
    await store.close();
  }
});
