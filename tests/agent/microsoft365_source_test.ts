/**
 * The `microsoft365` source against the Graph stand-in: series, exceptions, cancelled and
 * deleted occurrences, all-day events, zones, paging, delta passes (an unchanged calendar
 * costs one request, counted in the stand-in), 410 resync, and the errors that name the fix.
 */
import assert from "node:assert/strict";
import type { Event } from "@microsoft/microsoft-graph-types";
import { createMicrosoft365Source } from "../../agent/sources/microsoft365.ts";
import type { SourceContext, SourceReading } from "../../agent/sources/mod.ts";
import { SOURCE_TYPES } from "../../agent/sources/mod.ts";
import { parseConfig } from "../../agent/config.ts";
import type { Occurrence, TimeWindow } from "../../shared/model.ts";
import {
  type AppPermission,
  type FakeApp,
  type FakeGraph,
  type FakeMailbox,
  startFakeGraph,
} from "../fakes/graph/mod.ts";
import { graphCall, tokenFor } from "../fakes/graph_test/helpers.ts";
import { configObject } from "./helpers.ts";

const ANN = "ann@contoso.com";
const WINDOW: TimeWindow = { start: "2026-11-01T00:00:00Z", end: "2027-01-01T00:00:00Z" };
const BERLIN = "W. Europe Standard Time";

interface Setup extends AsyncDisposable {
  graph: FakeGraph;
  app: FakeApp;
  ann: FakeMailbox;
  waits: number[];
  source: ReturnType<typeof createMicrosoft365Source>;
  /** Reads with the given settings on top of the app's and Ann's. */
  read(overrides?: Record<string, unknown>, window?: TimeWindow): Promise<SourceReading>;
  /** Graph requests (token requests left out) since the last call. */
  takeRequests(): string[];
}

async function setup(
  permissions: AppPermission[] = ["Calendars.Read"],
  pageSize?: number,
): Promise<Setup> {
  const graph = await startFakeGraph();
  const app = graph.addApp({ permissions });
  const ann = graph.addMailbox(ANN, { timeZone: BERLIN });
  const waits: number[] = [];
  const source = createMicrosoft365Source({
    pageSize,
    sleep: (ms) => {
      waits.push(ms);
      return Promise.resolve();
    },
  });
  const context = (window: TimeWindow): SourceContext => ({
    window,
    configDir: Deno.cwd(),
    fetch: (request) => fetch(request),
  });
  return {
    graph,
    app,
    ann,
    waits,
    source,
    read: (overrides = {}, window = WINDOW) =>
      source.read(
        source.settings.parse({
          tenant_id: graph.tenantId,
          client_id: app.clientId,
          client_secret: app.secret,
          authority: graph.origin,
          graph_url: graph.origin,
          mailbox: ANN,
          ...overrides,
        }),
        context(window),
      ),
    takeRequests() {
      const kinds = graph.requests.filter((r) => r.kind !== "token").map((r) =>
        `${r.kind} ${r.status}`
      );
      graph.resetRequests();
      return kinds;
    },
    [Symbol.asyncDispose]: () => graph.close(),
  };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected the read to fail");
}

const byStart = (occurrences: Occurrence[]) =>
  [...occurrences].sort((a, b) => a.start.localeCompare(b.start));

const WEEKLY: Event = {
  subject: "Jour fixe",
  start: { dateTime: "2026-11-02T09:00:00", timeZone: BERLIN },
  end: { dateTime: "2026-11-02T10:00:00", timeZone: BERLIN },
  location: { displayName: "Room 4" },
  categories: ["Team"],
  attendees: [
    { type: "required", emailAddress: { name: "Bob", address: "bob@contoso.com" } },
    { type: "optional", emailAddress: { name: "Eve", address: "eve@fabrikam.com" } },
  ],
  recurrence: {
    pattern: { type: "weekly", interval: 1, daysOfWeek: ["monday"], firstDayOfWeek: "monday" },
    range: { type: "numbered", startDate: "2026-11-02", numberOfOccurrences: 5 },
  },
};

Deno.test("microsoft365: a series with an exception, a cancelled and a deleted occurrence; all-day; zones", async () => {
  await using s = await setup();
  const master = s.ann.addEvent(WEEKLY);
  s.ann.changeOccurrence(master, "2026-11-09T08:00:00Z", {
    subject: "Jour fixe (moved)",
    start: { dateTime: "2026-11-10T14:00:00", timeZone: BERLIN },
    end: { dateTime: "2026-11-10T15:00:00", timeZone: BERLIN },
  });
  s.ann.changeOccurrence(master, "2026-11-16T08:00:00Z", { isCancelled: true });
  s.ann.deleteOccurrence(master, "2026-11-23T08:00:00Z");
  s.ann.addEvent({
    subject: "Holiday",
    isAllDay: true,
    showAs: "free",
    start: { dateTime: "2026-12-01T00:00:00", timeZone: "Tokyo Standard Time" },
    end: { dateTime: "2026-12-02T00:00:00", timeZone: "Tokyo Standard Time" },
  });
  s.ann.addEvent({
    subject: "Call with Seattle",
    showAs: "oof",
    sensitivity: "private",
    start: { dateTime: "2026-12-03T08:00:00", timeZone: "Pacific Standard Time" },
    end: { dateTime: "2026-12-03T09:00:00", timeZone: "Pacific Standard Time" },
  });
  const reading = await s.read();
  const series = s.ann.events().find((e) => e.id === master)!;
  const rows = byStart(reading.occurrences).map((o) => [
    o.title,
    o.uid === series.iCalUId ? "series uid" : o.uid,
    o.recurrence_id,
    o.start,
    o.end,
    o.timezone,
  ]);
  assert.deepEqual(rows, [
    [
      "Jour fixe",
      "series uid",
      "2026-11-02T08:00:00Z",
      "2026-11-02T08:00:00Z",
      "2026-11-02T09:00:00Z",
      "Europe/Berlin",
    ],
    [
      "Jour fixe (moved)",
      "series uid",
      "2026-11-09T08:00:00Z",
      "2026-11-10T13:00:00Z",
      "2026-11-10T14:00:00Z",
      "Europe/Berlin",
    ],
    [
      "Jour fixe",
      "series uid",
      "2026-11-30T08:00:00Z",
      "2026-11-30T08:00:00Z",
      "2026-11-30T09:00:00Z",
      "Europe/Berlin",
    ],
    [
      "Holiday",
      rows[3][1],
      null,
      "2026-12-01",
      "2026-12-02",
      "Asia/Tokyo",
    ],
    [
      "Call with Seattle",
      rows[4][1],
      null,
      "2026-12-03T16:00:00Z",
      "2026-12-03T17:00:00Z",
      "America/Los_Angeles",
    ],
  ]);
  const [first, , , holiday, call] = byStart(reading.occurrences);
  assert.equal(holiday.all_day, true);
  assert.equal(holiday.show_as, "free");
  assert.equal(call.show_as, "oof");
  assert.equal(call.sensitivity, "private");
  assert.equal(first.location, "Room 4");
  assert.deepEqual(first.categories, ["Team"]);
  assert.deepEqual(first.organizer, { name: ANN, email: ANN });
  assert.deepEqual(
    first.attendees.map((a) => [a.email, a.role, a.status]),
    [["bob@contoso.com", "required", "needs-action"], [
      "eve@fabrikam.com",
      "optional",
      "needs-action",
    ]],
  );
  assert.equal(first.response_status, "organizer");
  assert.equal(first.description, "", "no body unless include_body");
  assert.deepEqual(reading.warnings, []);
  // One delta page, then one $batch for the series' UID.
  assert.deepEqual(s.takeRequests(), ["delta 200", "batch 200", "getEvent 200"]);
});

Deno.test("microsoft365: pages of the delta round are followed to the deltaLink", async () => {
  await using s = await setup(["Calendars.Read"], 5);
  for (let day = 1; day <= 12; day++) {
    const date = `2026-12-${String(day).padStart(2, "0")}`;
    s.ann.addEvent({
      subject: `Day ${day}`,
      start: { dateTime: `${date}T09:00:00`, timeZone: "UTC" },
      end: { dateTime: `${date}T10:00:00`, timeZone: "UTC" },
    });
  }
  const reading = await s.read();
  assert.equal(reading.occurrences.length, 12);
  assert.equal(new Set(reading.occurrences.map((o) => o.uid)).size, 12);
  assert.deepEqual(s.takeRequests(), ["delta 200", "delta 200", "delta 200"]);
});

Deno.test("microsoft365: an unchanged calendar costs one request; a change shows up", async () => {
  await using s = await setup();
  const master = s.ann.addEvent(WEEKLY);
  const single = s.ann.addEvent({
    subject: "Review",
    start: { dateTime: "2026-12-04T10:00:00", timeZone: "UTC" },
    end: { dateTime: "2026-12-04T11:00:00", timeZone: "UTC" },
  });
  const first = await s.read();
  assert.equal(first.occurrences.length, 6);
  s.takeRequests();

  const again = await s.read();
  assert.deepEqual(s.takeRequests(), ["delta 200"], "exactly one Graph request, no token");
  assert.equal(s.graph.countRequests().token ?? 0, 0);
  assert.deepEqual(byStart(again.occurrences), byStart(first.occurrences));

  // Changes made in the mailbox: a new event, a renamed one, a deleted occurrence.
  s.ann.addEvent({
    subject: "New",
    start: { dateTime: "2026-12-07T10:00:00", timeZone: "UTC" },
    end: { dateTime: "2026-12-07T11:00:00", timeZone: "UTC" },
  });
  // Someone with write access edits the calendar; the source's app only reads.
  const editor = s.graph.addApp({ permissions: ["Calendars.ReadWrite"] });
  const token = await tokenFor(s.graph, editor);
  const renamed = await graphCall(s.graph, token, "PATCH", `/users/${ANN}/events/${single}`, {
    body: { subject: "Review (2nd)" },
  });
  assert.equal(renamed.status, 200);
  s.ann.deleteOccurrence(master, "2026-11-16T08:00:00Z");
  s.graph.resetRequests();
  const changed = await s.read();
  assert.deepEqual(s.takeRequests(), ["delta 200"]);
  const titles = byStart(changed.occurrences).map((o) => `${o.title} ${o.start.slice(0, 10)}`);
  assert.deepEqual(titles, [
    "Jour fixe 2026-11-02",
    "Jour fixe 2026-11-09",
    "Jour fixe 2026-11-23",
    "Jour fixe 2026-11-30",
    "Review (2nd) 2026-12-04",
    "New 2026-12-07",
  ]);
});

Deno.test("microsoft365: a delta token the server forgot (410) starts a full read; so does a new window", async () => {
  await using s = await setup();
  s.ann.addEvent(WEEKLY);
  const first = await s.read();
  s.takeRequests();
  s.graph.expireDeltaTokens();
  const resync = await s.read();
  assert.deepEqual(s.takeRequests(), ["delta 410", "delta 200"]);
  assert.deepEqual(byStart(resync.occurrences), byStart(first.occurrences));

  const moved = await s.read({}, { start: "2026-11-15T00:00:00Z", end: "2027-01-15T00:00:00Z" });
  assert.deepEqual(s.takeRequests(), ["delta 200"], "a fresh round, the series UID kept");
  assert.deepEqual(
    byStart(moved.occurrences).map((o) => o.start.slice(0, 10)),
    ["2026-11-16", "2026-11-23", "2026-11-30"],
  );
});

Deno.test("microsoft365: 429 with Retry-After is waited out through the client", async () => {
  await using s = await setup();
  s.ann.addEvent(WEEKLY);
  s.graph.throttle({ count: 1, retryAfterSeconds: 5, mailbox: ANN });
  const reading = await s.read();
  assert.equal(reading.occurrences.length, 5);
  assert.deepEqual(s.waits, [5000]);
  // The stand-in throttles before it routes, so the refused request is logged as "unknown".
  assert.deepEqual(s.takeRequests().slice(0, 2), ["unknown 429", "delta 200"]);
});

Deno.test("microsoft365: a wrong secret names client_secret and is not offered again", async () => {
  await using s = await setup();
  const error = await rejection(s.read({ client_secret: "Typo~secret" }));
  assert.match(error.message, /set client_secret to the Value/);
  assert.doesNotMatch(error.message, /Typo~secret/);
  const again = await rejection(s.read({ client_secret: "Typo~secret" }));
  assert.match(again.message, /not asked again/);
  assert.equal(s.graph.countRequests().token, 1, "Entra was asked once");
  assert.deepEqual(s.waits, []);
  const fixed = await s.read();
  assert.equal(fixed.occurrences.length, 0, "fixed settings are tried at once");
});

Deno.test("microsoft365: a missing permission names Calendars.Read and admin consent", async () => {
  await using s = await setup(["MailboxSettings.Read"]);
  const error = await rejection(s.read());
  assert.match(error.message, /Application permissions → Calendars\.Read,/);
  assert.match(error.message, /Grant admin consent/);
});

Deno.test("microsoft365: a mailbox outside the application access policy says so", async () => {
  await using s = await setup();
  s.graph.addMailbox("ceo@contoso.com");
  s.graph.setAccessPolicy(s.app.clientId, { accessRight: "RestrictAccess", mailboxes: [ANN] });
  const error = await rejection(s.read({ mailbox: "ceo@contoso.com" }));
  assert.match(error.message, /ceo@contoso\.com is outside the app's application access policy/);
  assert.match(error.message, /New-ApplicationAccessPolicy/);
});

Deno.test("microsoft365: calendar_name picks a calendar; a name not found lists those there are", async () => {
  await using s = await setup();
  const team = s.ann.addCalendar("Team");
  s.ann.addCalendar("Birthdays");
  s.ann.addEvent({
    subject: "Team day",
    start: { dateTime: "2026-12-02T09:00:00", timeZone: "UTC" },
    end: { dateTime: "2026-12-02T17:00:00", timeZone: "UTC" },
  }, team);
  s.ann.addEvent(WEEKLY);
  const reading = await s.read({ calendar_name: "team" });
  assert.deepEqual(reading.occurrences.map((o) => o.title), ["Team day"]);
  const error = await rejection(s.read({ calendar_name: "Holidays" }));
  assert.match(error.message, /no calendar named "Holidays" in ann@contoso\.com/);
  assert.match(error.message, /"Birthdays", "Calendar", "Team"/);
});

Deno.test("microsoft365: the agent config knows the type and names a bad setting", () => {
  assert.ok(SOURCE_TYPES.has("microsoft365"));
  const entry = {
    type: "microsoft365",
    name: "Office",
    tenant_id: "9188040d-6c67-4c5b-b112-36a304b66dad",
    client_id: "00000000-0000-4000-8000-000000000001",
    client_secret: "s",
    mailbox: ANN,
  };
  const config = parseConfig(JSON.stringify(configObject({ calendar_sources: [entry] })), "c.json");
  assert.equal(config.calendar_sources[0].type, "microsoft365");
  assert.throws(
    () =>
      parseConfig(
        JSON.stringify(
          configObject({ calendar_sources: [{ ...entry, client_secret: "", mailbox: "ann" }] }),
        ),
        "c.json",
      ),
    (error: Error) =>
      /calendar_sources\[0\]\.mailbox: expected the mailbox's user principal name/.test(
        error.message,
      ) && /calendar_sources\[0\]\.client_secret: set client_secret/.test(error.message),
  );
});

Deno.test("microsoft365: certificate_file is read relative to the config folder; a missing file names the setting", async () => {
  await using graph = await startFakeGraph();
  const pem = await Deno.readTextFile(
    new URL("../fixtures/graph/app_certificate.pem", import.meta.url),
  );
  const der = Uint8Array.from(
    atob(pem.match(/-----BEGIN PRIVATE KEY-----([^-]*)-----END/)![1].replace(/\s+/g, "")),
    (c) => c.charCodeAt(0),
  );
  const algorithm = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
  const privateKey = await crypto.subtle.importKey("pkcs8", der, algorithm, true, ["sign"]);
  const { kty, n, e } = await crypto.subtle.exportKey("jwk", privateKey);
  const certificate = await crypto.subtle.importKey("jwk", { kty, n, e }, algorithm, true, [
    "verify",
  ]);
  const app = graph.addApp({ permissions: ["Calendars.Read"], certificate });
  const ann = graph.addMailbox(ANN);
  ann.addEvent({
    subject: "Signed in by certificate",
    start: { dateTime: "2026-12-01T09:00:00", timeZone: "UTC" },
    end: { dateTime: "2026-12-01T10:00:00", timeZone: "UTC" },
  });
  const source = createMicrosoft365Source();
  const settings = (file: string) =>
    source.settings.parse({
      tenant_id: graph.tenantId,
      client_id: app.clientId,
      certificate_file: file,
      authority: graph.origin,
      graph_url: graph.origin,
      mailbox: ANN,
    });
  const context: SourceContext = {
    window: WINDOW,
    configDir: new URL("../fixtures", import.meta.url).pathname,
    fetch: (request) => fetch(request),
  };
  const reading = await source.read(settings("graph/app_certificate.pem"), context);
  assert.deepEqual(reading.occurrences.map((o) => o.title), ["Signed in by certificate"]);
  const error = await rejection(source.read(settings("graph/missing.pem"), context));
  assert.match(error.message, /^certificate_file: cannot read .*missing\.pem/);
});

Deno.test("microsoft365: 2,000 occurrences cost 20 delta pages at first, then 1 request", async () => {
  await using s = await setup();
  for (let i = 0; i < 2000; i++) {
    const start = Date.parse("2026-11-01T06:00:00Z") + i * 40 * 60_000;
    const iso = (ms: number) => new Date(ms).toISOString().slice(0, 19);
    s.ann.addEvent({
      subject: `Slot ${i}`,
      start: { dateTime: iso(start), timeZone: "UTC" },
      end: { dateTime: iso(start + 30 * 60_000), timeZone: "UTC" },
    });
  }
  const first = await s.read();
  assert.equal(first.occurrences.length, 2000);
  const firstRequests = s.takeRequests();
  assert.equal(firstRequests.length, 20, "100 per page");
  assert.ok(firstRequests.length <= 2000 / 20 + 5);
  await s.read();
  assert.deepEqual(s.takeRequests(), ["delta 200"]);
});
