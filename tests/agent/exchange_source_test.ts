import assert from "node:assert/strict";
import { ExchangeSettings, exchangeSource } from "../../agent/sources/exchange.ts";
import type { SourceContext } from "../../agent/sources/mod.ts";
import type { Occurrence } from "../../shared/model.ts";
import { type FakeExchange, startFakeExchange } from "../fakes/ews/mod.ts";

const USER = "ann@corp.example";
const PASSWORD = "Passw0rd!";
const BERLIN = "W. Europe Standard Time";

const context: SourceContext = {
  window: { start: "2026-10-01T00:00:00Z", end: "2026-12-01T00:00:00Z" },
  configDir: ".",
  fetch: () => Promise.reject(new Error("the Exchange source does not use fetch")),
};

function settings(fake: FakeExchange, extra: Record<string, unknown> = {}) {
  return ExchangeSettings.parse({
    type: "exchange",
    name: "Ann",
    exchange_url: fake.url,
    username: USER,
    password: PASSWORD,
    ...extra,
  });
}

async function read(fake: FakeExchange, extra: Record<string, unknown> = {}) {
  const reading = await exchangeSource.read(settings(fake, extra), context);
  assert.deepEqual(reading.warnings, []);
  return reading.occurrences.sort((a, b) => a.start.localeCompare(b.start));
}

function byTitle(occurrences: Occurrence[], title: string): Occurrence {
  const found = occurrences.find((o) => o.title === title);
  assert.ok(found, `an occurrence titled ${title}`);
  return found;
}

Deno.test("Exchange source: a weekly series across the DST change, with an exception and a deletion", async () => {
  await using fake = await startFakeExchange();
  fake.mailbox(USER).addAppointment({
    subject: "Stand-up",
    start: "2026-10-12T07:00:00Z",
    end: "2026-10-12T07:30:00Z",
    timeZone: BERLIN,
    uid: "standup@corp.example",
    location: "Room 4",
    categories: ["Team"],
    attendees: [
      { name: "Bob", email: "bob@corp.example", response: "Accept" },
      { name: "Eve", email: "eve@corp.example", optional: true, response: "Tentative" },
    ],
    recurrence: {
      rrule: "FREQ=WEEKLY;COUNT=5",
      exceptions: [{
        originalStart: "2026-10-19T07:00:00Z",
        start: "2026-10-20T13:00:00Z",
        end: "2026-10-20T13:30:00Z",
        subject: "Stand-up (moved)",
      }],
      deleted: ["2026-11-02T08:00:00Z"],
    },
  });
  const got = await read(fake);
  assert.deepEqual(
    got.map((o) => [o.recurrence_id, o.start, o.end, o.title]),
    [
      ["2026-10-12T07:00:00Z", "2026-10-12T07:00:00Z", "2026-10-12T07:30:00Z", "Stand-up"],
      ["2026-10-19T07:00:00Z", "2026-10-20T13:00:00Z", "2026-10-20T13:30:00Z", "Stand-up (moved)"],
      // 09:00 in Berlin is 08:00Z once summer time ends on 25 October.
      ["2026-10-26T08:00:00Z", "2026-10-26T08:00:00Z", "2026-10-26T08:30:00Z", "Stand-up"],
      ["2026-11-09T08:00:00Z", "2026-11-09T08:00:00Z", "2026-11-09T08:30:00Z", "Stand-up"],
    ],
  );
  const first = got[0];
  assert.equal(first.uid, "standup@corp.example");
  assert.ok(got.every((o) => o.uid === first.uid));
  assert.equal(first.timezone, "Europe/Berlin");
  assert.equal(first.location, "Room 4");
  assert.deepEqual(first.categories, ["Team"]);
  assert.equal(first.response_status, "organizer");
  assert.deepEqual(first.organizer?.email, USER);
  assert.deepEqual(first.attendees.map((a) => [a.email, a.role, a.status]), [
    ["bob@corp.example", "required", "accepted"],
    ["eve@corp.example", "optional", "tentative"],
  ]);
  assert.equal(first.description, "", "no body unless include_body");
  assert.ok(first.last_modified !== null);
});

Deno.test("Exchange source: all-day dates in their own zone, a Tokyo meeting, a cancelled one", async () => {
  await using fake = await startFakeExchange();
  const mailbox = fake.mailbox(USER);
  mailbox.addAppointment({
    subject: "Offsite",
    start: "2026-10-14",
    end: "2026-10-16",
    isAllDay: true,
    timeZone: BERLIN,
    freeBusy: "OOF",
    sensitivity: "Personal",
  });
  mailbox.addAppointment({
    subject: "Tokyo sync",
    start: "2026-10-15T01:00:00Z",
    end: "2026-10-15T02:00:00Z",
    timeZone: "Tokyo Standard Time",
    freeBusy: "Tentative",
  });
  mailbox.addAppointment({
    subject: "Called off",
    start: "2026-10-16T09:00:00Z",
    end: "2026-10-16T10:00:00Z",
    isCancelled: true,
    freeBusy: "Free",
  });
  const got = await read(fake);
  const offsite = byTitle(got, "Offsite");
  assert.deepEqual(
    [offsite.all_day, offsite.start, offsite.end, offsite.timezone, offsite.recurrence_id],
    [true, "2026-10-14", "2026-10-16", "Europe/Berlin", null],
  );
  assert.deepEqual([offsite.show_as, offsite.sensitivity], ["oof", "private"]);
  const tokyo = byTitle(got, "Tokyo sync");
  assert.deepEqual(
    [tokyo.start, tokyo.end, tokyo.timezone, tokyo.show_as],
    ["2026-10-15T01:00:00Z", "2026-10-15T02:00:00Z", "Asia/Tokyo", "tentative"],
  );
  const cancelled = byTitle(got, "Called off");
  assert.deepEqual([cancelled.status, cancelled.show_as], ["cancelled", "free"]);
});

Deno.test("Exchange source: the owner's answers become response statuses", async () => {
  await using fake = await startFakeExchange();
  const mailbox = fake.mailbox(USER);
  const answers = ["Organizer", "Accept", "Tentative", "Decline", "NoResponseReceived"] as const;
  answers.forEach((answer, i) =>
    mailbox.addAppointment({
      subject: answer,
      start: `2026-10-2${i}T09:00:00Z`,
      end: `2026-10-2${i}T10:00:00Z`,
      organizer: answer === "Organizer"
        ? { name: "Ann", email: USER }
        : { name: "Bob", email: "bob@corp.example" },
      myResponse: answer,
    })
  );
  const got = await read(fake);
  assert.deepEqual(
    got.map((o) => [o.title, o.response_status]),
    [
      ["Organizer", "organizer"],
      ["Accept", "accepted"],
      ["Tentative", "tentative"],
      ["Decline", "declined"],
      ["NoResponseReceived", "none"],
    ],
  );
});

Deno.test("Exchange source: include_body and an env: password", async () => {
  await using fake = await startFakeExchange();
  fake.mailbox(USER).addAppointment({
    subject: "Review",
    start: "2026-10-20T09:00:00Z",
    end: "2026-10-20T10:00:00Z",
    body: "Agenda: budget & <staffing>",
  });
  Deno.env.set("CALSYNC_TEST_EWS_PASSWORD", PASSWORD);
  try {
    const got = await read(fake, { include_body: true, password: "env:CALSYNC_TEST_EWS_PASSWORD" });
    assert.equal(got[0].description, "Agenda: budget & <staffing>");
  } finally {
    Deno.env.delete("CALSYNC_TEST_EWS_PASSWORD");
  }
  const missing = ExchangeSettings.safeParse({
    exchange_url: fake.url,
    username: USER,
    password: "env:CALSYNC_TEST_EWS_UNSET",
  });
  assert.equal(missing.success, false);
  assert.deepEqual(
    missing.error?.issues.map((i) => [i.path.join("."), i.message]),
    [["password", "environment variable CALSYNC_TEST_EWS_UNSET is not set"]],
  );
});

Deno.test("Exchange source: calendar_name anywhere in the tree, and another mailbox", async () => {
  await using fake = await startFakeExchange({
    users: { [USER]: PASSWORD, "team@corp.example": "x" },
  });
  const mailbox = fake.mailbox(USER);
  const top = mailbox.folders().find((f) => f.displayName === "Top of Information Store")!;
  const projects = mailbox.addFolder("Projects", top.id);
  const nested = mailbox.addFolder("Launch", projects);
  mailbox.addAppointment({
    subject: "Launch review",
    start: "2026-10-20T09:00:00Z",
    end: "2026-10-20T10:00:00Z",
  }, nested);
  mailbox.addAppointment({
    subject: "In the default calendar",
    start: "2026-10-21T09:00:00Z",
    end: "2026-10-21T10:00:00Z",
  });
  assert.deepEqual((await read(fake, { calendar_name: "Launch" })).map((o) => o.title), [
    "Launch review",
  ]);
  await assert.rejects(
    exchangeSource.read(settings(fake, { calendar_name: "Nope" }), context),
    /no calendar named "Nope" in the user's mailbox; calendar_name may be one of: "Calendar", "Launch", "Projects"/,
  );

  fake.mailbox("team@corp.example").addAppointment({
    subject: "Team day",
    start: "2026-10-22T09:00:00Z",
    end: "2026-10-22T17:00:00Z",
  });
  assert.deepEqual(
    (await read(fake, { mailbox: "team@corp.example" })).map((o) => o.title),
    ["Team day"],
  );
  await assert.rejects(
    exchangeSource.read(settings(fake, { mailbox: "nobody@corp.example" }), context),
    /nobody@corp\.example|ErrorNonExistentMailbox/,
  );
});

Deno.test("Exchange source: a view with more items than one answer goes on where the answer ended, wasting none", async () => {
  await using fake = await startFakeExchange({ maxCalendarViewItems: 5 });
  fake.mailbox(USER).addAppointment({
    subject: "Daily",
    start: "2026-10-05T08:00:00Z",
    end: "2026-10-05T08:15:00Z",
    timeZone: BERLIN,
    recurrence: { rrule: "FREQ=DAILY;COUNT=12" },
  });
  const got = await read(fake);
  assert.equal(got.length, 12);
  assert.equal(new Set(got.map((o) => o.recurrence_id)).size, 12);
  const views = fake.requests.filter((r) => r.operation === "FindItem");
  // The first view asks for 1,000 and is refused with the server's PolicyLimit of 5; then
  // 5 + 5 + 4: each later view starts at the last start before, which it returns again.
  assert.deepEqual(views.map((r) => r.itemCount), [0, 5, 5, 4]);
  const loads = fake.requests.filter((r) => r.operation === "GetItem");
  assert.equal(loads.length, 1, "twelve items load in one GetItem");
});

Deno.test("Exchange source: items sharing a start across the end of an answer are all read", async () => {
  await using fake = await startFakeExchange({ maxCalendarViewItems: 5 });
  const mailbox = fake.mailbox(USER);
  for (const day of [5, 6, 7, 8]) {
    for (const room of ["A", "B", "C"]) {
      mailbox.addAppointment({
        subject: `Room ${room} on the ${day}th`,
        start: `2026-10-0${day}T08:00:00Z`,
        end: `2026-10-0${day}T09:00:00Z`,
      });
    }
  }
  mailbox.addAppointment({
    subject: "Whole October",
    start: "2026-10-01T00:00:00Z",
    end: "2026-11-01T00:00:00Z",
  });
  const got = await read(fake);
  assert.equal(got.length, 13);
  assert.equal(new Set(got.map((o) => o.title)).size, 13);
});

Deno.test("Exchange source: a range Exchange refuses as too long is halved", async () => {
  await using fake = await startFakeExchange();
  fake.mailbox(USER).addAppointment({
    subject: "Far ahead",
    start: "2028-09-01T08:00:00Z",
    end: "2028-09-01T09:00:00Z",
  });
  const reading = await exchangeSource.read(settings(fake), {
    ...context,
    window: { start: "2026-01-01T00:00:00Z", end: "2029-01-01T00:00:00Z" },
  });
  assert.deepEqual(reading.occurrences.map((o) => o.title), ["Far ahead"]);
  assert.ok(fake.requests.filter((r) => r.operation === "FindItem").length >= 3);
});

Deno.test("Exchange source: a delegate with rights on a colleague's calendar alone finds calendar_name there", async () => {
  await using fake = await startFakeExchange({
    users: { [USER]: PASSWORD, "boss@corp.example": "x" },
  });
  const boss = fake.mailbox("boss@corp.example");
  boss.grant(USER, "calendar");
  const board = boss.addFolder("Board meetings");
  boss.addAppointment({
    subject: "Board",
    start: "2026-10-20T09:00:00Z",
    end: "2026-10-20T10:00:00Z",
  }, board);
  boss.addAppointment({
    subject: "In the boss's own calendar",
    start: "2026-10-21T09:00:00Z",
    end: "2026-10-21T10:00:00Z",
  });
  const extra = { mailbox: "boss@corp.example" };
  assert.deepEqual(
    (await read(fake, { ...extra, calendar_name: "Board meetings" })).map((o) => o.title),
    ["Board"],
  );
  fake.resetRequests();
  assert.deepEqual(
    (await read(fake, { ...extra, calendar_name: "calendar" })).map((o) => o.title),
    ["In the boss's own calendar"],
    "the calendar itself counts, in any letter case",
  );
  await assert.rejects(
    exchangeSource.read(settings(fake, { ...extra, calendar_name: "Nope" }), context),
    /no calendar named "Nope" in boss@corp\.example; calendar_name may be one of: "Board meetings", "Calendar"/,
  );
});

Deno.test("Exchange source: Exchange 2013 SP1 refuses the 2016 schema once, then every request asks for 2013 SP1", async () => {
  await using fake = await startFakeExchange({ version: "Exchange2013_SP1" });
  fake.mailbox(USER).addAppointment({
    subject: "On an old server",
    start: "2026-10-20T09:00:00Z",
    end: "2026-10-20T10:00:00Z",
  });
  assert.deepEqual((await read(fake)).map((o) => o.title), ["On an old server"]);
  assert.deepEqual(
    fake.requests.map((r) => r.requestVersion),
    ["Exchange2016", "Exchange2013_SP1", "Exchange2013_SP1"],
  );
});

Deno.test("Exchange source: an Exchange Online EWS URL is refused, pointing to microsoft365", () => {
  for (
    const url of [
      "https://outlook.office365.com/EWS/Exchange.asmx",
      "https://outlook.office365.us/EWS/Exchange.asmx",
      "https://partner.outlook.cn/EWS/Exchange.asmx",
    ]
  ) {
    const parsed = ExchangeSettings.safeParse({ exchange_url: url, username: USER, password: "x" });
    assert.equal(parsed.success, false, url);
    const [issue] = parsed.error!.issues;
    assert.equal(issue.path.join("."), "exchange_url");
    assert.match(issue.message, /Exchange Online .* use the "microsoft365" type/);
  }
  const onPremises = ExchangeSettings.safeParse({
    exchange_url: "https://mail.example.com/EWS/Exchange.asmx",
    username: USER,
    password: "x",
  });
  assert.equal(onPremises.success, true);
});
