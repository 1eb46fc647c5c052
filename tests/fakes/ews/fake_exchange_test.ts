/**
 * The fake Exchange driven by the real client, `ews-javascript-api` (through the project's
 * door to it), and by hand-written HTTP only where the wire itself is the subject: NTLM's
 * per-connection state, faults, malformed envelopes and non-Exchange hosts.
 */
import assert from "node:assert/strict";
import ntlm from "@ewsjs/ntlm-client";
import { XhrApi } from "@ewsjs/xhr";
import { ews } from "../../../shared/ews/library.ts";
import { type FakeExchange, startFakeExchange } from "./mod.ts";
import { NS } from "./soap.ts";
import { child, parseXml, type XmlElement } from "./xml.ts";

const USER = "ann@corp.example";
const PASSWORD = "Passw0rd!";
const KEY_SET = "c11ff724-aa03-4555-9952-8fa248a11c3e";
const KEY = new ews.ExtendedPropertyDefinition(
  new ews.Guid(KEY_SET),
  "CalsyncKey",
  ews.MapiPropertyType.String,
);
const CALENDAR = new ews.FolderId(ews.WellKnownFolderName.Calendar);
const ALL = ews.AffectedTaskOccurrence.AllOccurrences;

function service(fake: FakeExchange, password = PASSWORD): ews.ExchangeService {
  const svc = new ews.ExchangeService(ews.ExchangeVersion.Exchange2016);
  svc.Credentials = new ews.WebCredentials(USER, password);
  svc.Url = new ews.Uri(fake.url);
  return svc;
}

const at = (iso: string) => ews.DateTime.Parse(iso);
const iso = (value: ews.DateTime) => value.ToISOString().replace(/\.000Z$/, "Z");
/** The EWS code of a rejection: a response exception's, or a SOAP fault's (`SoapFaultDetails`). */
const code = (error: unknown) => {
  const { ResponseCode, ErrorCode } = error as { ResponseCode?: number; ErrorCode?: number };
  return ews.ServiceError[ResponseCode ?? ErrorCode!];
};

/** The error a promise rejects with (ews-javascript-api also rejects with plain objects). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail("expected a rejection");
}

/** A SOAP request as a client would write it, for the tests of the wire itself. */
function soap(body: string, header = '<t:RequestServerVersion Version="Exchange2016"/>'): string {
  return `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${NS.soap}" ` +
    `xmlns:m="${NS.m}" xmlns:t="${NS.t}"><soap:Header>${header}</soap:Header>` +
    `<soap:Body>${body}</soap:Body></soap:Envelope>`;
}

const GET_CALENDAR_BODY =
  "<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape>" +
  '<m:FolderIds><t:DistinguishedFolderId Id="calendar"/></m:FolderIds></m:GetFolder>';
const GET_CALENDAR = soap(GET_CALENDAR_BODY);

async function post(fake: FakeExchange, body: string, password = PASSWORD) {
  const response = await fetch(fake.url, {
    method: "POST",
    headers: {
      "content-type": "text/xml; charset=utf-8",
      authorization: `Basic ${btoa(`${USER}:${password}`)}`,
    },
    body,
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** The SOAP fault of an answer: `faultcode`, and the `detail` element. */
function faultOf(xml: string): { code: string; detail: XmlElement } {
  const fault = child(child(parseXml(xml), NS.soap, "Body")!, NS.soap, "Fault")!;
  return { code: child(fault, "", "faultcode")!.text, detail: child(fault, "", "detail")! };
}

Deno.test("Basic: the right password answers, a wrong one gets IIS's 401 offering both schemes", async () => {
  await using fake = await startFakeExchange();
  const folder = await ews.CalendarFolder.Bind(service(fake), ews.WellKnownFolderName.Calendar);
  assert.equal(folder.DisplayName, "Calendar");
  await rejection(ews.Folder.Bind(service(fake, "wrong"), ews.WellKnownFolderName.Calendar));
  const refused = await post(fake, GET_CALENDAR, "wrong");
  assert.equal(refused.status, 401);
  assert.equal(refused.headers.get("www-authenticate"), 'NTLM, Basic realm="127.0.0.1"');
  assert.match(refused.text, /401 - Unauthorized/);
  assert.deepEqual(fake.requests.map((r) => [r.operation, r.user]), [["GetFolder", USER]]);

  await using basicOnly = await startFakeExchange({ auth: ["basic"] });
  const anonymous = await fetch(basicOnly.url, { method: "POST", body: GET_CALENDAR });
  await anonymous.body?.cancel();
  assert.equal(anonymous.headers.get("www-authenticate"), 'Basic realm="127.0.0.1"');
});

Deno.test("NTLM through ews-javascript-api's own transport (@ewsjs/xhr)", async () => {
  await using fake = await startFakeExchange({ auth: ["ntlm"] });
  const svc = service(fake);
  svc.XHRApi = new XhrApi({}).useNtlmAuthentication(USER, PASSWORD);
  const folder = await ews.CalendarFolder.Bind(svc, ews.WellKnownFolderName.Calendar);
  assert.equal(folder.DisplayName, "Calendar");
  assert.equal(fake.requests.at(-1)?.user, USER);

  const wrong = service(fake, "wrong");
  wrong.XHRApi = new XhrApi({}).useNtlmAuthentication(USER, "wrong");
  await rejection(ews.Folder.Bind(wrong, ews.WellKnownFolderName.Calendar));
  assert.equal(fake.requests.length, 1);
});

/** One kept-alive HTTP/1.1 connection, to see what NTLM does per connection. */
class Connection {
  readonly #conn: Deno.TcpConn;
  #buffer = new Uint8Array(0);

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  static async open(fake: FakeExchange): Promise<Connection> {
    return new Connection(
      await Deno.connect({ hostname: "127.0.0.1", port: Number(new URL(fake.url).port) }),
    );
  }

  async #more(): Promise<void> {
    const chunk = new Uint8Array(65536);
    const n = await this.#conn.read(chunk);
    if (n === null) throw new Error("connection closed");
    const joined = new Uint8Array(this.#buffer.length + n);
    joined.set(this.#buffer);
    joined.set(chunk.subarray(0, n), this.#buffer.length);
    this.#buffer = joined;
  }

  async #take(length: number): Promise<string> {
    while (this.#buffer.length < length) await this.#more();
    const taken = new TextDecoder().decode(this.#buffer.subarray(0, length));
    this.#buffer = this.#buffer.subarray(length);
    return taken;
  }

  async #line(): Promise<string> {
    let end;
    while ((end = new TextDecoder().decode(this.#buffer).indexOf("\r\n")) < 0) await this.#more();
    const line = await this.#take(end);
    await this.#take(2);
    return line;
  }

  async post(body: string, authorization?: string) {
    const head = [
      "POST /EWS/Exchange.asmx HTTP/1.1",
      "Host: 127.0.0.1",
      "Content-Type: text/xml; charset=utf-8",
      `Content-Length: ${new TextEncoder().encode(body).length}`,
      ...(authorization ? [`Authorization: ${authorization}`] : []),
    ];
    await this.#conn.write(new TextEncoder().encode(`${head.join("\r\n")}\r\n\r\n${body}`));
    const status = Number((await this.#line()).split(" ")[1]);
    const headers = new Headers();
    for (let line; (line = await this.#line()) !== "";) {
      const colon = line.indexOf(":");
      headers.append(line.slice(0, colon), line.slice(colon + 1).trim());
    }
    let text = "";
    if (headers.get("transfer-encoding") === "chunked") {
      for (let size; (size = parseInt(await this.#line(), 16)) > 0;) {
        text += await this.#take(size);
        await this.#line();
      }
      await this.#line();
    } else {
      text = await this.#take(Number(headers.get("content-length") ?? 0));
    }
    return { status, headers, text };
  }

  close(): void {
    this.#conn.close();
  }
}

Deno.test("NTLM authenticates the connection: three legs, then no header; a new connection starts over", async () => {
  await using fake = await startFakeExchange();
  const negotiate = ntlm.createType1Message("", "");
  const first = await Connection.open(fake);
  try {
    const challenged = await first.post(GET_CALENDAR, negotiate);
    assert.equal(challenged.status, 401);
    const challenge = challenged.headers.get("www-authenticate")!;
    assert.match(challenge, /^NTLM [A-Za-z0-9+/=]+$/);
    const type2 = ntlm.decodeType2Message(challenge);
    const answered = await first.post(
      GET_CALENDAR,
      ntlm.createType3Message(type2, USER, PASSWORD, "WS01", ""),
    );
    assert.equal(answered.status, 200);
    assert.match(answered.text, /<m:GetFolderResponseMessage ResponseClass="Success">/);
    const again = await first.post(GET_CALENDAR);
    assert.equal(again.status, 200, "the connection stays authenticated");

    const second = await Connection.open(fake);
    try {
      assert.equal((await second.post(GET_CALENDAR)).status, 401);
      const type2b = ntlm.decodeType2Message(
        (await second.post(GET_CALENDAR, negotiate)).headers.get("www-authenticate")!,
      );
      const refused = await second.post(
        GET_CALENDAR,
        ntlm.createType3Message(type2b, USER, "wrong", "WS01", ""),
      );
      assert.equal(refused.status, 401);
      assert.deepEqual(refused.headers.get("www-authenticate"), 'NTLM, Basic realm="127.0.0.1"');
    } finally {
      second.close();
    }
  } finally {
    first.close();
  }
  assert.equal(fake.requests.length, 2);
});

Deno.test("Folders: another mailbox's calendar, FindFolder deep and shallow, CreateFolder once", async () => {
  await using fake = await startFakeExchange();
  const bob = fake.mailbox("bob@corp.example");
  const svc = service(fake);
  const bobs = await ews.CalendarFolder.Bind(
    svc,
    new ews.FolderId(ews.WellKnownFolderName.Calendar, new ews.Mailbox("bob@corp.example")),
  );
  assert.equal(bobs.Id.UniqueId, bob.calendarId);
  const missing = await rejection(
    ews.Folder.Bind(
      svc,
      new ews.FolderId(ews.WellKnownFolderName.Calendar, new ews.Mailbox("nobody@corp.example")),
    ),
  );
  assert.equal(code(missing), "ErrorNonExistentMailbox");

  const team = fake.mailbox(USER).addFolder("Team");
  const byName = (name: string, traversal: ews.FolderTraversal) => {
    const view = new ews.FolderView(10);
    view.Traversal = traversal;
    return svc.FindFolders(
      ews.WellKnownFolderName.MsgFolderRoot,
      new ews.SearchFilter.IsEqualTo(ews.FolderSchema.DisplayName, name),
      view,
    );
  };
  const deep = await byName("team", ews.FolderTraversal.Deep);
  assert.deepEqual(deep.Folders.map((f) => f.Id.UniqueId), [team], "case-insensitive, deep");
  assert.equal((await byName("Team", ews.FolderTraversal.Shallow)).Folders.length, 0);

  const created = new ews.CalendarFolder(svc);
  created.DisplayName = "calsync";
  await created.Save(ews.WellKnownFolderName.Calendar);
  const listed = fake.mailbox(USER).folders().find((f) => f.displayName === "calsync")!;
  assert.equal(listed.id, created.Id.UniqueId);
  assert.equal(listed.parentId, fake.mailbox(USER).calendarId);
  const twice = new ews.CalendarFolder(svc);
  twice.DisplayName = "CALSYNC";
  assert.equal(
    code(await rejection(twice.Save(ews.WellKnownFolderName.Calendar))),
    "ErrorFolderExists",
  );
});

Deno.test("CalendarView expands a weekly Berlin series across DST, with an exception and a deleted occurrence", async () => {
  await using fake = await startFakeExchange();
  const ann = fake.mailbox(USER);
  // Mondays 09:00 Berlin: 08:00Z before 29 March 2026, 07:00Z after.
  const master = ann.addAppointment({
    subject: "Stand-up",
    start: "2026-03-16T08:00:00Z",
    end: "2026-03-16T08:15:00Z",
    timeZone: "W. Europe Standard Time",
    uid: "standup@corp.example",
    attendees: [{ name: "Bob", email: "bob@corp.example", response: "Accept" }],
    recurrence: {
      rrule: "FREQ=WEEKLY;BYDAY=MO;COUNT=5",
      exceptions: [{
        originalStart: "2026-03-30T07:00:00Z",
        start: "2026-03-31T12:00:00Z",
        subject: "Stand-up (Tuesday)",
      }],
      deleted: ["2026-04-06T07:00:00Z"],
    },
  });
  ann.addAppointment({
    subject: "Holiday",
    start: "2026-04-02",
    end: "2026-04-04",
    isAllDay: true,
    timeZone: "W. Europe Standard Time",
    freeBusy: "OOF",
  });
  const svc = service(fake);
  const found = await svc.FindAppointments(
    CALENDAR,
    new ews.CalendarView(at("2026-03-01T00:00:00Z"), at("2026-05-01T00:00:00Z"), 50),
  );
  const rows = found.Items.map((a) => [
    a.Subject,
    iso(a.Start),
    iso(a.End),
    ews.AppointmentType[a.AppointmentType],
    a.ICalRecurrenceId ? iso(a.ICalRecurrenceId) : null,
  ]);
  assert.deepEqual(rows, [
    [
      "Stand-up",
      "2026-03-16T08:00:00Z",
      "2026-03-16T08:15:00Z",
      "Occurrence",
      "2026-03-16T08:00:00Z",
    ],
    [
      "Stand-up",
      "2026-03-23T08:00:00Z",
      "2026-03-23T08:15:00Z",
      "Occurrence",
      "2026-03-23T08:00:00Z",
    ],
    [
      "Stand-up (Tuesday)",
      "2026-03-31T12:00:00Z",
      "2026-03-31T12:15:00Z",
      "Exception",
      "2026-03-30T07:00:00Z",
    ],
    ["Holiday", "2026-04-01T22:00:00Z", "2026-04-03T22:00:00Z", "Single", null],
    [
      "Stand-up",
      "2026-04-13T07:00:00Z",
      "2026-04-13T07:15:00Z",
      "Occurrence",
      "2026-04-13T07:00:00Z",
    ],
  ]);
  const standUps = found.Items.filter((a) => a.Subject.startsWith("Stand-up"));
  assert.ok(standUps.every((a) => a.ICalUid === "standup@corp.example" && a.IsRecurring));
  const ids = standUps.map((a) => a.Id.UniqueId);
  assert.equal(new Set([...ids, master]).size, ids.length + 1, "occurrence ids are their own");
  const holiday = found.Items[3];
  assert.equal(holiday.IsAllDayEvent, true);
  assert.equal(holiday.LegacyFreeBusyStatus, ews.LegacyFreeBusyStatus.OOF);
  assert.equal(standUps[0].StartTimeZone.Id, "W. Europe Standard Time");
  assert.equal(standUps[0].RequiredAttendees.Count, 0, "FindItem returns no attendees");

  const loaded = await svc.BindToItems(
    [standUps[2].Id, new ews.ItemId(master)],
    new ews.PropertySet(ews.BasePropertySet.FirstClassProperties, [
      ews.AppointmentSchema.RequiredAttendees,
      ews.AppointmentSchema.ModifiedOccurrences,
      ews.AppointmentSchema.DeletedOccurrences,
    ]),
  );
  const [exception, series] = loaded.Responses.map((r) => r.Item as ews.Appointment);
  assert.equal(exception.Subject, "Stand-up (Tuesday)");
  assert.equal(ews.AppointmentType[exception.AppointmentType], "Exception");
  assert.equal(exception.RequiredAttendees.Count, 1);
  assert.equal(exception.RequiredAttendees._getItem(0).Address, "bob@corp.example");
  assert.equal(ews.AppointmentType[series.AppointmentType], "RecurringMaster");
  assert.equal(iso(series.ModifiedOccurrences._getItem(0).OriginalStart), "2026-03-30T07:00:00Z");
  assert.equal(iso(series.DeletedOccurrences._getItem(0).OriginalStart), "2026-04-06T07:00:00Z");
});

Deno.test("CalendarView size rules: MaxEntriesReturned, the find-count limit, two years at most", async () => {
  await using fake = await startFakeExchange({ maxCalendarViewItems: 3 });
  const ann = fake.mailbox(USER);
  for (let day = 1; day <= 5; day++) {
    ann.addAppointment({
      subject: `Day ${day}`,
      start: `2026-06-0${day}T09:00:00Z`,
      end: `2026-06-0${day}T10:00:00Z`,
    });
  }
  const svc = service(fake);
  const june = (max?: number) => {
    const [from, to] = [at("2026-06-01T00:00:00Z"), at("2026-07-01T00:00:00Z")];
    return max === undefined ? new ews.CalendarView(from, to) : new ews.CalendarView(from, to, max);
  };
  const first = await svc.FindAppointments(CALENDAR, june(2));
  assert.deepEqual(first.Items.map((a) => a.Subject), ["Day 1", "Day 2"]);
  assert.equal(first.MoreAvailable, true);
  assert.equal(first.TotalCount, 5);
  assert.equal(
    code(await rejection(svc.FindAppointments(CALENDAR, june()))),
    "ErrorExceededFindCountLimit",
  );
  const wide = new ews.CalendarView(at("2026-01-01T00:00:00Z"), at("2029-01-01T00:00:00Z"));
  assert.equal(
    code(await rejection(svc.FindAppointments(CALENDAR, wide))),
    "ErrorCalendarViewRangeTooBig",
  );
});

async function createKeyed(svc: ews.ExchangeService, subjects: string[], withKey = true) {
  const items = subjects.map((subject, i) => {
    const a = new ews.Appointment(svc);
    a.Subject = subject;
    a.Start = at(`2026-07-0${i + 1}T09:00:00Z`);
    a.End = at(`2026-07-0${i + 1}T10:00:00Z`);
    if (withKey) a.SetExtendedProperty(KEY, `key-${subject}`);
    return a;
  });
  const created = await svc.CreateItems(
    items,
    CALENDAR,
    ews.MessageDisposition.SaveOnly,
    ews.SendInvitationsMode.SendToNone,
  );
  assert.equal(created.OverallResult, ews.ServiceResult.Success);
  return items;
}

Deno.test("IndexedPageItemView pages stored items, filtered by an extended property", async () => {
  await using fake = await startFakeExchange();
  const svc = service(fake);
  await createKeyed(svc, ["a", "b", "c", "d", "e"]);
  await createKeyed(svc, ["foreign 1", "foreign 2"], false);
  const pages: string[][] = [];
  for (let offset = 0, more = true; more;) {
    const view = new ews.ItemView(2, offset);
    view.PropertySet = new ews.PropertySet(ews.BasePropertySet.IdOnly, [
      KEY,
      ews.ItemSchema.Subject,
    ]);
    const page = await svc.FindItems(CALENDAR, new ews.SearchFilter.Exists(KEY), view);
    assert.equal(page.TotalCount, 5);
    pages.push(page.Items.map((item) => {
      const value = { outValue: null as unknown };
      assert.ok(item.TryGetProperty(KEY, value));
      return `${item.Subject}=${value.outValue}`;
    }));
    more = page.MoreAvailable;
    offset = page.NextPageOffset ?? 0;
  }
  assert.deepEqual(pages, [["a=key-a", "b=key-b"], ["c=key-c", "d=key-d"], ["e=key-e"]]);
  const exact = await svc.FindItems(
    CALENDAR,
    new ews.SearchFilter.IsEqualTo(KEY, "key-c"),
    new ews.ItemView(10),
  );
  assert.equal(exact.TotalCount, 1);
  const bySubject = await svc.FindItems(
    CALENDAR,
    new ews.SearchFilter.IsEqualTo(ews.ItemSchema.Subject, "Foreign 2"),
    new ews.ItemView(10),
  );
  assert.equal(bySubject.TotalCount, 1);
});

Deno.test("Create, update and delete with extended properties; invitations and batches recorded", async () => {
  await using fake = await startFakeExchange();
  const svc = service(fake);
  const [a, b] = await createKeyed(svc, ["first", "second"]);
  const meeting = new ews.Appointment(svc);
  meeting.Subject = "Meeting";
  meeting.Start = at("2026-07-10T09:00:00Z");
  meeting.End = at("2026-07-10T10:00:00Z");
  meeting.RequiredAttendees.Add("bob@corp.example");
  await meeting.Save(CALENDAR, ews.SendInvitationsMode.SendOnlyToAll);
  const stored = () => new Map(fake.mailbox(USER).items().map((i) => [i.subject, i]));
  assert.deepEqual(stored().get("first")?.extendedProperties, {
    [`${KEY_SET}:CalsyncKey`]: "key-first",
  });
  assert.equal(stored().get("first")?.sentInvitations, false);
  assert.equal(stored().get("Meeting")?.sentInvitations, true);

  a.Subject = "first, renamed";
  a.SetExtendedProperty(KEY, "key-renamed");
  b.RemoveExtendedProperty(KEY);
  const updated = await svc.UpdateItems(
    [a, b],
    null as unknown as ews.FolderId,
    ews.ConflictResolutionMode.AlwaysOverwrite,
    ews.MessageDisposition.SaveOnly,
    ews.SendInvitationsOrCancellationsMode.SendToNone,
  );
  assert.equal(updated.OverallResult, ews.ServiceResult.Success);
  assert.equal(
    stored().get("first, renamed")?.extendedProperties[`${KEY_SET}:CalsyncKey`],
    "key-renamed",
  );
  assert.deepEqual(stored().get("second")?.extendedProperties, {});

  const gone = fake.mailbox(USER).addAppointment({
    subject: "x",
    start: "2026-07-11T09:00:00Z",
    end: "2026-07-11T10:00:00Z",
  });
  await svc.DeleteItems(
    [new ews.ItemId(gone)],
    ews.DeleteMode.HardDelete,
    ews.SendCancellationsMode.SendToNone,
    ALL,
  );
  const deleted = await svc.DeleteItems(
    [a.Id, new ews.ItemId(gone)],
    ews.DeleteMode.HardDelete,
    ews.SendCancellationsMode.SendToNone,
    ALL,
  );
  assert.deepEqual(
    deleted.Responses.map((r) => ews.ServiceError[r.ErrorCode]),
    ["NoError", "ErrorItemNotFound"],
  );
  assert.deepEqual([...stored().keys()].sort(), ["Meeting", "second"]);
  assert.deepEqual(
    fake.requests.map((r) => [r.operation, r.sendInvitations, r.itemCount]),
    [
      ["CreateItem", "SendToNone", 2],
      ["CreateItem", "SendOnlyToAll", 1],
      ["UpdateItem", "SendToNone", 2],
      ["DeleteItem", "SendToNone", 1],
      ["DeleteItem", "SendToNone", 2],
    ],
  );
});

/** One `SetItemField` of an `UpdateItem` written by hand, with the change key given. */
function setField(
  resolution: string,
  id: ews.ItemId,
  changeKey: string,
  uri: string,
  value: string,
): string {
  const element = uri.split(":")[1];
  return soap(
    `<m:UpdateItem ConflictResolution="${resolution}" SendMeetingInvitationsOrCancellations="SendToNone">` +
      `<m:ItemChanges><t:ItemChange><t:ItemId Id="${id.UniqueId}" ChangeKey="${changeKey}"/>` +
      `<t:Updates><t:SetItemField><t:FieldURI FieldURI="${uri}"/><t:CalendarItem>` +
      `<t:${element}>${value}</t:${element}></t:CalendarItem></t:SetItemField></t:Updates>` +
      "</t:ItemChange></m:ItemChanges></m:UpdateItem>",
  );
}

/** `t:Count` of `m:ConflictResults` in an UpdateItem answer. */
const conflictCount = (xml: string) => xml.match(/<t:Count>(\d+)<\/t:Count>/)?.[1];

// [MS-OXWSCORE] 3.1.4.9.4.1 t:ConflictResolutionType,
// https://learn.microsoft.com/en-us/openspecs/exchange_server_protocols/ms-oxwscore/0dc48948-2f1b-425a-9e53-0c247657ef12
// NeverOverwrite fails a conflict with ErrorIrresolvableConflict; AutoResolve mostly
// overwrites, but keeps a Sensitivity another user raised (Normal → Confidential);
// AlwaysOverwrite overwrites. Fields nobody else changed are no conflict and merge.
Deno.test("ChangeKey: NeverOverwrite fails a stale conflict alone, AutoResolve overwrites but keeps a raised Sensitivity, fields merge ([MS-OXWSCORE] 3.1.4.9.4.1)", async () => {
  await using fake = await startFakeExchange();
  const svc = service(fake);
  const [item, other] = await createKeyed(svc, ["original", "other"]);
  const [mine, theirs] = await Promise.all([
    ews.Appointment.Bind(svc, item.Id),
    ews.Appointment.Bind(svc, item.Id),
  ]);
  mine.Subject = "mine";
  await mine.Update(
    ews.ConflictResolutionMode.AutoResolve,
    ews.SendInvitationsOrCancellationsMode.SendToNone,
  );
  assert.notEqual(mine.Id.ChangeKey, theirs.Id.ChangeKey, "every change takes a new change key");

  theirs.Subject = "theirs";
  other.Subject = "other, renamed";
  const batch = await svc.UpdateItems(
    [theirs, other],
    null as unknown as ews.FolderId,
    ews.ConflictResolutionMode.NeverOverwrite,
    ews.MessageDisposition.SaveOnly,
    ews.SendInvitationsOrCancellationsMode.SendToNone,
  );
  assert.deepEqual(
    batch.Responses.map((r) => ews.ServiceError[r.ErrorCode]),
    ["ErrorIrresolvableConflict", "NoError"],
    "the conflict fails its own item only",
  );
  const stored = () => new Map(fake.mailbox(USER).items().map((i) => [i.id, i]));
  assert.equal(stored().get(item.Id.UniqueId)?.subject, "mine");
  assert.equal(stored().get(other.Id.UniqueId)?.subject, "other, renamed");

  const stale = theirs.Id.ChangeKey;
  const location = await post(
    fake,
    setField("NeverOverwrite", item.Id, stale, "calendar:Location", "Room 4"),
  );
  assert.deepEqual(responseCodes(location.text), ["NoError"], "a field nobody changed merges");
  assert.equal(conflictCount(location.text), "0");
  const subject = await post(fake, setField("AutoResolve", item.Id, stale, "item:Subject", "auto"));
  assert.deepEqual(responseCodes(subject.text), ["NoError"]);
  assert.equal(conflictCount(subject.text), "1", "AutoResolve overwrote one conflict");
  assert.deepEqual(
    [stored().get(item.Id.UniqueId)?.subject, stored().get(item.Id.UniqueId)?.location],
    ["auto", "Room 4"],
  );

  const current = await ews.Appointment.Bind(svc, item.Id);
  current.Sensitivity = ews.Sensitivity.Confidential;
  await current.Update(
    ews.ConflictResolutionMode.AutoResolve,
    ews.SendInvitationsOrCancellationsMode.SendToNone,
  );
  const lowered = await post(
    fake,
    setField("AutoResolve", item.Id, stale, "item:Sensitivity", "Normal"),
  );
  assert.deepEqual(responseCodes(lowered.text), ["NoError"]);
  assert.equal(conflictCount(lowered.text), "1");
  const sensitivity = async () =>
    ews.Sensitivity[(await ews.Appointment.Bind(svc, item.Id)).Sensitivity];
  assert.equal(await sensitivity(), "Confidential", "the raised Sensitivity is retained");
  const forced = await post(
    fake,
    setField("AlwaysOverwrite", item.Id, stale, "item:Sensitivity", "Normal"),
  );
  assert.deepEqual(responseCodes(forced.text), ["NoError"]);
  assert.equal(await sensitivity(), "Normal", "AlwaysOverwrite overwrites");

  await theirs.Update(
    ews.ConflictResolutionMode.AlwaysOverwrite,
    ews.SendInvitationsOrCancellationsMode.SendToNone,
  );
  assert.equal(stored().get(item.Id.UniqueId)?.subject, "theirs");

  const malformed = await post(
    fake,
    soap(
      `<m:UpdateItem ConflictResolution="NeverOverwrite" SendMeetingInvitationsOrCancellations="SendToNone">` +
        `<m:ItemChanges><t:ItemChange><t:ItemId Id="${item.Id.UniqueId}" ChangeKey="bm90IGEga2V5"/>` +
        `<t:Updates><t:DeleteItemField><t:FieldURI FieldURI="calendar:Location"/></t:DeleteItemField>` +
        `</t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>`,
    ),
  );
  assert.match(malformed.text, /<m:ResponseCode>ErrorInvalidChangeKey<\/m:ResponseCode>/);
});

Deno.test("Throttling: ErrorServerBusy as a SOAP fault (HTTP 500) with BackOffMilliseconds", async () => {
  await using fake = await startFakeExchange();
  fake.throttle(2, 1500);
  const busy = await post(fake, GET_CALENDAR);
  assert.equal(busy.status, 500);
  const { code: faultCode, detail } = faultOf(busy.text);
  assert.equal(faultCode, "a:ErrorServerBusy");
  assert.equal(child(detail, NS.e, "ResponseCode")?.text, "ErrorServerBusy");
  const value = child(child(detail, NS.t, "MessageXml")!, NS.t, "Value")!;
  assert.deepEqual([value.attrs.Name, value.text], ["BackOffMilliseconds", "1500"]);
  const seen = await rejection(
    ews.Folder.Bind(service(fake), ews.WellKnownFolderName.Calendar),
  ) as {
    ErrorDetails: { get(key: string): string };
  };
  assert.equal(code(seen), "ErrorServerBusy");
  assert.equal(seen.ErrorDetails.get("BackOffMilliseconds"), "1500");
  assert.equal((await post(fake, GET_CALENDAR)).status, 200, "only the next two");
});

Deno.test("failNext fails the next request of one operation with the given code", async () => {
  await using fake = await startFakeExchange();
  const svc = service(fake);
  fake.failNext("FindItem", "ErrorMailboxStoreUnavailable");
  const view = new ews.CalendarView(at("2026-06-01T00:00:00Z"), at("2026-07-01T00:00:00Z"));
  await ews.Folder.Bind(svc, ews.WellKnownFolderName.Calendar);
  assert.equal(
    code(await rejection(svc.FindAppointments(CALENDAR, view))),
    "ErrorMailboxStoreUnavailable",
  );
  assert.equal((await svc.FindAppointments(CALENDAR, view)).Items.length, 0);
});

Deno.test("Malformed envelopes and unknown operations get the ErrorSchemaValidation fault", async () => {
  await using fake = await startFakeExchange();
  const cases = [
    "this is not XML",
    '<?xml version="1.0"?><Envelope><Body/></Envelope>',
    soap("<m:GetBananas/>"),
    soap(
      '<m:GetFolder><m:FolderShape><t:BaseShape>Everything</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="calendar"/></m:FolderIds></m:GetFolder>',
    ),
    soap(
      "<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape></m:GetFolder>",
    ),
    soap(
      '<m:CreateItem SendMeetingInvitations="SendToNone"><m:Items><t:CalendarItem><t:Start>2026-07-01T09:00:00Z</t:Start><t:Subject>late</t:Subject></t:CalendarItem></m:Items></m:CreateItem>',
    ),
  ];
  for (const body of cases) {
    const answer = await post(fake, body);
    assert.equal(answer.status, 500, body);
    const { code: faultCode, detail } = faultOf(answer.text);
    assert.equal(faultCode, "a:ErrorSchemaValidation", body);
    assert.ok(child(child(detail, NS.t, "MessageXml")!, NS.t, "LineNumber"), body);
  }
  assert.equal(fake.mailbox(USER).items().length, 0, "nothing of a refused request is stored");
});

Deno.test("Hosts that are not Exchange: a login page, IIS's 404, and mailcow's SOGo", async () => {
  await using fake = await startFakeExchange();
  const get = async (path: string, method = "POST") => {
    const response = await fetch(new URL(path, fake.origin), {
      method,
      body: method === "POST" ? GET_CALENDAR : undefined,
      redirect: "manual",
    });
    return { status: response.status, headers: response.headers, text: await response.text() };
  };
  fake.setMode("html");
  const login = await get("/EWS/Exchange.asmx");
  assert.equal(login.status, 200);
  assert.match(login.headers.get("content-type")!, /^text\/html/);
  fake.setMode("not-found");
  const notFound = await get("/EWS/Exchange.asmx");
  assert.equal(notFound.status, 404);
  assert.match(notFound.text, /404 - File or directory not found/);
  fake.setMode("sogo");
  const sogo = await get("/EWS/Exchange.asmx");
  assert.deepEqual([sogo.status, sogo.headers.get("server")], [404, "nginx"]);
  assert.match((await get("/SOGo/", "GET")).text, /<title>SOGo<\/title>/);
  const caldav = await get("/.well-known/caldav", "GET");
  assert.deepEqual([caldav.status, caldav.headers.get("location")], [301, "/SOGo/dav/"]);
  fake.setMode("exchange");
  assert.equal((await get("/EWS/Exchange.asmx")).status, 401);
  assert.equal(fake.requests.length, 0);
});

/** The `ResponseCode` of each response message of an answer. */
function responseCodes(xml: string): string[] {
  return [...xml.matchAll(/<m:ResponseCode>(\w+)<\/m:ResponseCode>/g)].map((m) => m[1]);
}

Deno.test("GetItem shapes: IdOnly, Default and AllProperties, with the body as Text or HTML", async () => {
  await using fake = await startFakeExchange();
  const id = fake.mailbox(USER).addAppointment({
    subject: "Review",
    start: "2026-07-01T09:00:00Z",
    end: "2026-07-01T10:00:00Z",
    body: "Agenda:\nR&D <numbers>",
    location: "Room 4",
  });
  const svc = service(fake);
  const [idOnly] =
    (await svc.BindToItems([new ews.ItemId(id)], new ews.PropertySet(ews.BasePropertySet.IdOnly)))
      .Responses.map((r) => r.Item);
  assert.equal(idOnly.TryGetProperty(ews.ItemSchema.Subject, { outValue: null }), false);
  const [full] = (await svc.BindToItems([new ews.ItemId(id)], ews.PropertySet.FirstClassProperties))
    .Responses.map((r) => r.Item);
  assert.deepEqual([full.Body.BodyType, full.Body.Text], [
    ews.BodyType.Text,
    "Agenda:\nR&D <numbers>",
  ]);

  // ews-javascript-api never asks for HTML (it tests the enum value 0 for truth), so HTML
  // is asked for by hand, and Text through the client, of an HTML body.
  const asHtml = await post(
    fake,
    soap(
      "<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:BodyType>HTML</t:BodyType>" +
        '<t:AdditionalProperties><t:FieldURI FieldURI="item:Body"/></t:AdditionalProperties>' +
        `</m:ItemShape><m:ItemIds><t:ItemId Id="${id}"/></m:ItemIds></m:GetItem>`,
    ),
  );
  assert.match(asHtml.text, /<t:Body BodyType="HTML"[^>]*>.*R&amp;amp;D &amp;lt;numbers&amp;gt;/s);
  const rich = new ews.Appointment(svc);
  rich.Subject = "Rich";
  rich.Body = new ews.MessageBody(ews.BodyType.HTML, "<p>R&amp;D</p><p>second</p>");
  await rich.Save(CALENDAR, ews.SendInvitationsMode.SendToNone);
  const text = new ews.PropertySet(ews.BasePropertySet.FirstClassProperties);
  text.RequestedBodyType = ews.BodyType.Text;
  const [plain] = (await svc.BindToItems([rich.Id], text)).Responses.map((r) => r.Item);
  assert.deepEqual([plain.Body.BodyType, plain.Body.Text], [ews.BodyType.Text, "R&D\nsecond"]);

  const byDefault = await post(
    fake,
    soap(
      "<m:GetItem><m:ItemShape><t:BaseShape>Default</t:BaseShape></m:ItemShape>" +
        `<m:ItemIds><t:ItemId Id="${id}"/></m:ItemIds></m:GetItem>`,
    ),
  );
  assert.match(byDefault.text, /<t:Subject>Review<\/t:Subject>.*<t:Location>Room 4<\/t:Location>/);
  assert.doesNotMatch(byDefault.text, /<t:Body/);
  const findBody = await post(
    fake,
    soap(
      '<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>' +
        '<t:AdditionalProperties><t:FieldURI FieldURI="item:Body"/></t:AdditionalProperties>' +
        '</m:ItemShape><m:ParentFolderIds><t:DistinguishedFolderId Id="calendar"/></m:ParentFolderIds></m:FindItem>',
    ),
  );
  assert.deepEqual(responseCodes(findBody.text), ["ErrorInvalidPropertyRequest"]);
});

Deno.test("CreateItem keeps Exchange's rules: invitations mode, times, read-only fields, all-day days", async () => {
  await using fake = await startFakeExchange();
  const create = (attributes: string, item: string, header?: string) =>
    post(
      fake,
      soap(`<m:CreateItem ${attributes}><m:Items>${item}</m:Items></m:CreateItem>`, header),
    );
  const item = (inner: string) =>
    `<t:CalendarItem><t:Subject>s</t:Subject>${inner}</t:CalendarItem>`;
  const times = "<t:Start>2026-07-01T09:00:00Z</t:Start><t:End>2026-07-01T10:00:00Z</t:End>";
  assert.deepEqual(responseCodes((await create("", item(times))).text), [
    "ErrorSendMeetingInvitationsRequired",
  ]);
  const invalid = await create(
    'SendMeetingInvitations="SendToNone"',
    item("<t:Start>2026-07-01T09:00:00Z</t:Start><t:End>2026-07-01T08:00:00Z</t:End>") +
      item(`${times}<t:CalendarItemType>Single</t:CalendarItemType>`) + item(times),
  );
  assert.deepEqual(responseCodes(invalid.text), [
    "ErrorCalendarEndDateIsEarlierThanStartDate",
    "ErrorInvalidPropertySet",
    "NoError",
  ]);
  const allDay = await create(
    'SendMeetingInvitations="SendToNone"',
    item(
      "<t:Start>2026-07-01T09:00:00</t:Start><t:End>2026-07-02T09:00:00</t:End>" +
        '<t:IsAllDayEvent>true</t:IsAllDayEvent><t:StartTimeZone Id="W. Europe Standard Time"/>',
    ),
    '<t:RequestServerVersion Version="Exchange2016"/><t:TimeZoneContext>' +
      '<t:TimeZoneDefinition Id="W. Europe Standard Time"/></t:TimeZoneContext>',
  );
  assert.deepEqual(responseCodes(allDay.text), ["NoError"]);
  const stored = fake.mailbox(USER).items().find((i) => i.isAllDay)!;
  assert.deepEqual([stored.start, stored.end], ["2026-06-30T22:00:00Z", "2026-07-02T22:00:00Z"]);
});

Deno.test("Recurrence: a series made through CreateItem expands, reads back, and loses an occurrence", async () => {
  await using fake = await startFakeExchange();
  const svc = service(fake);
  const series = new ews.Appointment(svc);
  series.Subject = "Series";
  series.Start = at("2026-03-23T08:00:00Z");
  series.End = at("2026-03-23T08:30:00Z");
  series.StartTimeZone = ews.TimeZoneInfo.FindSystemTimeZoneById("W. Europe Standard Time");
  const weekly = new ews.Recurrence.WeeklyPattern();
  weekly.StartDate = series.Start.Date;
  weekly.Interval = 1;
  weekly.DaysOfTheWeek.AddRange([ews.DayOfTheWeek.Monday, ews.DayOfTheWeek.Wednesday]);
  weekly.NumberOfOccurrences = 4;
  series.Recurrence = weekly;
  await series.Save(CALENDAR, ews.SendInvitationsMode.SendToNone);
  const spring = new ews.CalendarView(at("2026-03-01T00:00:00Z"), at("2026-05-01T00:00:00Z"));
  const found = await svc.FindAppointments(CALENDAR, spring);
  assert.deepEqual(found.Items.map((a) => iso(a.Start)), [
    "2026-03-23T08:00:00Z",
    "2026-03-25T08:00:00Z",
    "2026-03-30T07:00:00Z",
    "2026-04-01T07:00:00Z",
  ]);
  await svc.DeleteItems(
    [found.Items[1].Id],
    ews.DeleteMode.MoveToDeletedItems,
    ews.SendCancellationsMode.SendToNone,
    ALL,
  );
  assert.equal((await svc.FindAppointments(CALENDAR, spring)).Items.length, 3);
  const master = await ews.Appointment.Bind(
    svc,
    series.Id,
    new ews.PropertySet(ews.BasePropertySet.FirstClassProperties, [
      ews.AppointmentSchema.Recurrence,
      ews.AppointmentSchema.DeletedOccurrences,
    ]),
  );
  const pattern = master.Recurrence as InstanceType<typeof ews.Recurrence.WeeklyPattern>;
  assert.ok(pattern instanceof ews.Recurrence.WeeklyPattern);
  assert.equal(pattern.NumberOfOccurrences, 4);
  assert.equal(pattern.DaysOfTheWeek.Count, 2);
  assert.equal(iso(master.DeletedOccurrences._getItem(0).OriginalStart), "2026-03-25T08:00:00Z");

  fake.mailbox(USER).addAppointment({
    subject: "Board",
    start: "2026-01-13T15:00:00Z",
    end: "2026-01-13T16:00:00Z",
    recurrence: { rrule: "FREQ=MONTHLY;BYDAY=2TU;UNTIL=20261231T235959Z" },
  });
  const board = (await svc.FindItems(
    CALENDAR,
    new ews.SearchFilter.IsEqualTo(ews.ItemSchema.Subject, "Board"),
    new ews.ItemView(1),
  )).Items[0];
  const loaded = await ews.Appointment.Bind(
    svc,
    board.Id,
    new ews.PropertySet(ews.BasePropertySet.IdOnly, [ews.AppointmentSchema.Recurrence]),
  );
  const monthly = loaded.Recurrence as InstanceType<typeof ews.Recurrence.RelativeMonthlyPattern>;
  assert.ok(monthly instanceof ews.Recurrence.RelativeMonthlyPattern);
  assert.equal(ews.DayOfTheWeekIndex[monthly.DayOfTheWeekIndex], "Second");
  assert.equal(iso(monthly.EndDate), "2026-12-31T00:00:00Z");
});

// https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/finditem-operation
// FindItem returns only the first 512 bytes of a streamable property: for Unicode, the first
// 255 characters. GetItem returns the whole value.
Deno.test("FindItem cuts string properties to 255 characters, GetItem returns them whole (FindItem operation docs)", async () => {
  await using fake = await startFakeExchange();
  const svc = service(fake);
  const long = (c: string) => c.repeat(300);
  const item = new ews.Appointment(svc);
  item.Subject = long("s");
  item.Location = long("l");
  item.Start = at("2026-07-01T09:00:00Z");
  item.End = at("2026-07-01T10:00:00Z");
  item.SetExtendedProperty(KEY, long("k"));
  await item.Save(CALENDAR, ews.SendInvitationsMode.SendToNone);
  const withKey = new ews.PropertySet(ews.BasePropertySet.FirstClassProperties, [KEY]);
  const lengths = (a: ews.Item) => {
    const key = { outValue: "" as unknown };
    assert.ok(a.TryGetProperty(KEY, key));
    return [
      a.Subject.length,
      (a as ews.Appointment).Location.length,
      (key.outValue as string).length,
    ];
  };

  const view = new ews.CalendarView(at("2026-07-01T00:00:00Z"), at("2026-07-02T00:00:00Z"));
  view.PropertySet = withKey;
  const [inView] = (await svc.FindAppointments(CALENDAR, view)).Items;
  assert.deepEqual(lengths(inView), [255, 255, 255]);
  const paged = new ews.ItemView(10);
  paged.PropertySet = withKey;
  const [listed] = (await svc.FindItems(CALENDAR, paged)).Items;
  assert.deepEqual(lengths(listed), [255, 255, 255]);
  assert.equal(listed.Subject, long("s").slice(0, 255));

  const found = await svc.FindItems(
    CALENDAR,
    new ews.SearchFilter.IsEqualTo(KEY, long("k")),
    new ews.ItemView(10),
  );
  assert.equal(found.TotalCount, 1, "restrictions compare the whole stored value");
  const bound = await ews.Appointment.Bind(svc, item.Id, withKey);
  assert.deepEqual(lengths(bound), [300, 300, 300]);
});

// https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/how-to-process-calendar-items-in-batches-in-exchange
// An item created without reminder properties ("Food bank delivery") reads back with
// ReminderMinutesBeforeStart 15; a request that clears ReminderIsSet keeps it cleared.
Deno.test("CreateItem: a calendar item rings 15 minutes before by default, unless ReminderIsSet is false", async () => {
  await using fake = await startFakeExchange();
  const svc = service(fake);
  const [plain, silent, early] = ["plain", "silent", "early"].map((subject) => {
    const a = new ews.Appointment(svc);
    a.Subject = subject;
    a.Start = at("2026-07-01T09:00:00Z");
    a.End = at("2026-07-01T10:00:00Z");
    return a;
  });
  silent.IsReminderSet = false;
  early.ReminderMinutesBeforeStart = 60;
  for (const a of [plain, silent, early]) {
    await a.Save(CALENDAR, ews.SendInvitationsMode.SendToNone);
  }
  const reminders = new ews.PropertySet(ews.BasePropertySet.IdOnly, [
    ews.ItemSchema.IsReminderSet,
    ews.ItemSchema.ReminderMinutesBeforeStart,
  ]);
  const loaded = await svc.BindToItems([plain.Id, silent.Id, early.Id], reminders);
  assert.deepEqual(
    loaded.Responses.map((r) => [r.Item.IsReminderSet, r.Item.ReminderMinutesBeforeStart]),
    [[true, 15], [false, 15], [true, 60]],
  );
  const wire = await post(
    fake,
    soap(
      "<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties>" +
        '<t:FieldURI FieldURI="item:ReminderIsSet"/><t:FieldURI FieldURI="item:ReminderMinutesBeforeStart"/>' +
        `</t:AdditionalProperties></m:ItemShape><m:ItemIds><t:ItemId Id="${plain.Id.UniqueId}"/>` +
        "</m:ItemIds></m:GetItem>",
    ),
  );
  assert.match(
    wire.text,
    /<t:ReminderIsSet>true<\/t:ReminderIsSet><t:ReminderMinutesBeforeStart>15<\/t:ReminderMinutesBeforeStart>/,
  );
});

// https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/how-to-create-all-day-events-by-using-ews-in-exchange
// An all-day item's start off midnight moves to the midnight before, its end to the
// midnight after, in the time zone of the request or appointment.
Deno.test("All-day items: midnights of the item's zone, else the request's TimeZoneContext, else UTC (all-day events how-to)", async () => {
  await using fake = await startFakeExchange();
  const svc = service(fake);
  const berlin = ews.TimeZoneInfo.FindSystemTimeZoneById("W. Europe Standard Time");
  const allDay = (subject: string, start: string, end: string) => {
    const a = new ews.Appointment(svc);
    a.Subject = subject;
    a.IsAllDayEvent = true;
    a.Start = at(start);
    a.End = at(end);
    a.StartTimeZone = berlin;
    return a;
  };
  // UTC midnights are 01:00 in Berlin: the day starts at the midnight before (23:00Z the
  // day before) and ends at the midnight after the end (a second day).
  const utc = allDay("utc midnights", "2026-01-10T00:00:00Z", "2026-01-11T00:00:00Z");
  const local = allDay("berlin midnights", "2026-01-09T23:00:00Z", "2026-01-10T23:00:00Z");
  for (const a of [utc, local]) await a.Save(CALENDAR, ews.SendInvitationsMode.SendToNone);
  const zones = new ews.PropertySet(ews.BasePropertySet.FirstClassProperties, [
    ews.AppointmentSchema.StartTimeZone,
    ews.AppointmentSchema.EndTimeZone,
  ]);
  const loaded = await svc.BindToItems([utc.Id, local.Id], zones);
  assert.deepEqual(
    loaded.Responses.map((r) => {
      const a = r.Item as ews.Appointment;
      return [iso(a.Start), iso(a.End), a.StartTimeZone.Id, a.EndTimeZone.Id];
    }),
    [
      ["2026-01-09T23:00:00Z", "2026-01-11T23:00:00Z", berlin.Id, berlin.Id],
      ["2026-01-09T23:00:00Z", "2026-01-10T23:00:00Z", berlin.Id, berlin.Id],
    ],
  );

  const create = (header: string, zone: string) =>
    post(
      fake,
      soap(
        '<m:CreateItem SendMeetingInvitations="SendToNone"><m:Items><t:CalendarItem>' +
          "<t:Subject>by hand</t:Subject><t:Start>2026-07-01T09:00:00Z</t:Start>" +
          "<t:End>2026-07-01T10:00:00Z</t:End><t:IsAllDayEvent>true</t:IsAllDayEvent>" +
          `${zone}</t:CalendarItem></m:Items></m:CreateItem>`,
        '<t:RequestServerVersion Version="Exchange2016"/>' + header,
      ),
    );
  const tokyo =
    '<t:TimeZoneContext><t:TimeZoneDefinition Id="Tokyo Standard Time"/></t:TimeZoneContext>';
  const pacific = '<t:StartTimeZone Id="Pacific Standard Time"/>' +
    '<t:EndTimeZone Id="Eastern Standard Time"/>';
  for (const [header, zone] of [[tokyo, pacific], [tokyo, ""], ["", ""]]) {
    assert.deepEqual(responseCodes((await create(header, zone)).text), ["NoError"]);
  }
  const byHand = fake.mailbox(USER).items().filter((i) => i.subject === "by hand");
  assert.deepEqual(byHand.map((i) => [i.start, i.end]), [
    ["2026-07-01T07:00:00Z", "2026-07-02T07:00:00Z"], // the item's zone: Pacific midnights
    ["2026-06-30T15:00:00Z", "2026-07-01T15:00:00Z"], // the request's zone: Tokyo midnights
    ["2026-07-01T00:00:00Z", "2026-07-02T00:00:00Z"], // neither: UTC midnights
  ]);
  const endZone = await post(
    fake,
    soap(
      "<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties>" +
        '<t:FieldURI FieldURI="calendar:EndTimeZone"/></t:AdditionalProperties></m:ItemShape>' +
        `<m:ItemIds><t:ItemId Id="${byHand[0].id}"/></m:ItemIds></m:GetItem>`,
    ),
  );
  assert.match(
    endZone.text,
    /<t:EndTimeZone Id="Pacific Standard Time"/,
    "one zone counts the days",
  );
});

// https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getuserconfiguration-operation
// GetUserConfiguration reads a user configuration object of a folder: here OWA's options in
// the root folder, whose dictionary holds the OWA time zone under the String key "timezone".
Deno.test("GetUserConfiguration reads OWA.UserOptions' timezone from the root folder; none until the user opened OWA", async () => {
  await using fake = await startFakeExchange();
  const svc = service(fake);
  const ann = fake.mailbox(USER);
  const bob = fake.mailbox("bob@corp.example");
  const root = (mailbox?: string) =>
    mailbox
      ? new ews.FolderId(ews.WellKnownFolderName.Root, new ews.Mailbox(mailbox))
      : new ews.FolderId(ews.WellKnownFolderName.Root);
  const timeZone = async (
    folder: ews.FolderId,
    properties = ews.UserConfigurationProperties.Dictionary,
  ) => {
    const config = await ews.UserConfiguration.Bind(svc, "OWA.UserOptions", folder, properties);
    const value = { outValue: null as unknown };
    assert.ok(config.Dictionary.TryGetValue("timezone", value));
    return value.outValue;
  };
  const missing = await rejection(timeZone(root()));
  assert.equal(code(missing), "ErrorItemNotFound", "a user who never opened OWA has none");

  ann.setOwaTimeZone("W. Europe Standard Time");
  bob.setOwaTimeZone("Pacific Standard Time");
  assert.equal(await timeZone(root()), "W. Europe Standard Time");
  assert.equal(
    await timeZone(root(), ews.UserConfigurationProperties.All),
    "W. Europe Standard Time",
  );
  assert.equal(await timeZone(root("bob@corp.example")), "Pacific Standard Time");
  const elsewhere = await rejection(timeZone(CALENDAR));
  assert.equal(code(elsewhere), "ErrorItemNotFound", "only the root folder holds it");

  const wire = await post(
    fake,
    soap(
      '<m:GetUserConfiguration><m:UserConfigurationName Name="OWA.UserOptions">' +
        '<t:DistinguishedFolderId Id="root"/></m:UserConfigurationName>' +
        "<m:UserConfigurationProperties>Id Dictionary</m:UserConfigurationProperties>" +
        "</m:GetUserConfiguration>",
    ),
  );
  assert.match(
    wire.text,
    new RegExp(
      '<m:UserConfiguration><t:UserConfigurationName Name="OWA.UserOptions">' +
        '<t:DistinguishedFolderId Id="root"/></t:UserConfigurationName><t:ItemId [^>]+/>' +
        "<t:Dictionary><t:DictionaryEntry><t:DictionaryKey><t:Type>String</t:Type>" +
        "<t:Value>timezone</t:Value></t:DictionaryKey><t:DictionaryValue><t:Type>String</t:Type>" +
        "<t:Value>W. Europe Standard Time</t:Value></t:DictionaryValue></t:DictionaryEntry>" +
        "</t:Dictionary></m:UserConfiguration>",
    ),
    "schema order: UserConfigurationName, ItemId, Dictionary",
  );
  ann.setOwaTimeZone(null);
  assert.equal(code(await rejection(timeZone(root()))), "ErrorItemNotFound");
});

// https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/handling-delegation-related-errors-in-ews-in-exchange
// An operation on a mailbox, folder or item the caller has no access to fails with
// ErrorFolderNotFound or ErrorItemNotFound.
Deno.test("Grants: a calendar delegate works in the Calendar and below, and finds nothing else (delegation errors docs)", async () => {
  await using fake = await startFakeExchange({
    users: { [USER]: PASSWORD, "carol@corp.example": PASSWORD },
  });
  const as = (user: string) => {
    const svc = new ews.ExchangeService(ews.ExchangeVersion.Exchange2016);
    svc.Credentials = new ews.WebCredentials(user, PASSWORD);
    svc.Url = new ews.Uri(fake.url);
    return svc;
  };
  const [ann, carol] = [as(USER), as("carol@corp.example")];
  const bob = fake.mailbox("bob@corp.example");
  const bobs = (name: ews.WellKnownFolderName) =>
    new ews.FolderId(name, new ews.Mailbox("bob@corp.example"));
  const seeded = bob.addAppointment({
    subject: "Bob's",
    start: "2026-07-01T09:00:00Z",
    end: "2026-07-01T10:00:00Z",
  });
  const team = bob.addFolder("Team");
  bob.setOwaTimeZone("W. Europe Standard Time");
  const open = await ews.Folder.Bind(carol, bobs(ews.WellKnownFolderName.Root));
  assert.ok(open.Id.UniqueId, "a mailbox without grants stays open, as before");
  bob.grant(USER, "calendar");

  const calendar = await ews.CalendarFolder.Bind(ann, bobs(ews.WellKnownFolderName.Calendar));
  assert.equal(calendar.Id.UniqueId, bob.calendarId);
  const below = await ann.FindFolders(calendar.Id, new ews.FolderView(10));
  assert.deepEqual(below.Folders.map((f) => f.Id.UniqueId), [team]);
  const view = new ews.CalendarView(at("2026-07-01T00:00:00Z"), at("2026-07-02T00:00:00Z"));
  const [found] = (await ann.FindAppointments(calendar.Id, view)).Items;
  assert.equal(found.Id.UniqueId, seeded);
  const item = await ews.Appointment.Bind(ann, found.Id);
  item.Subject = "Bob's, moved";
  await item.Update(
    ews.ConflictResolutionMode.AlwaysOverwrite,
    ews.SendInvitationsOrCancellationsMode.SendToNone,
  );
  const added = new ews.Appointment(ann);
  added.Subject = "by Ann";
  added.Start = at("2026-07-02T09:00:00Z");
  added.End = at("2026-07-02T10:00:00Z");
  await added.Save(new ews.FolderId(team), ews.SendInvitationsMode.SendToNone);
  await added.Delete(ews.DeleteMode.HardDelete, ews.SendCancellationsMode.SendToNone);
  assert.deepEqual(bob.items().map((i) => i.subject), ["Bob's, moved"]);

  for (const name of [ews.WellKnownFolderName.Root, ews.WellKnownFolderName.MsgFolderRoot]) {
    assert.equal(code(await rejection(ews.Folder.Bind(ann, bobs(name)))), "ErrorFolderNotFound");
    const listed = await rejection(ann.FindFolders(bobs(name), new ews.FolderView(10)));
    assert.equal(code(listed), "ErrorFolderNotFound");
  }
  const options = await rejection(
    ews.UserConfiguration.Bind(
      ann,
      "OWA.UserOptions",
      bobs(ews.WellKnownFolderName.Root),
      ews.UserConfigurationProperties.Dictionary,
    ),
  );
  assert.equal(code(options), "ErrorFolderNotFound");

  const calendarOfCarol = await rejection(
    ews.Folder.Bind(carol, bobs(ews.WellKnownFolderName.Calendar)),
  );
  assert.equal(code(calendarOfCarol), "ErrorFolderNotFound", "no grant, no calendar");
  const itemOfCarol = await rejection(ews.Appointment.Bind(carol, new ews.ItemId(seeded)));
  assert.equal(code(itemOfCarol), "ErrorItemNotFound");
  bob.grant("carol@corp.example", "all");
  assert.ok((await ews.Folder.Bind(carol, bobs(ews.WellKnownFolderName.Root))).Id.UniqueId);
});

// https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/requestserverversion
// lists Exchange2013_SP1 as the latest version of Exchange 2013 SP1; the ResponseCode page
// gives ErrorInvalidServerVersion for an invalid request server version, which Exchange
// sends as a SOAP fault (HTTP 500). Microsoft's examples from build 15.0.847 carry V2_8.
Deno.test("Version: as Exchange 2013 SP1 the fake serves Exchange2013_SP1 and refuses Exchange2016 with ErrorInvalidServerVersion", async () => {
  await using fake = await startFakeExchange({ version: "Exchange2013_SP1" });
  const svc = new ews.ExchangeService(ews.ExchangeVersion.Exchange2013_SP1);
  svc.Credentials = new ews.WebCredentials(USER, PASSWORD);
  svc.Url = new ews.Uri(fake.url);
  const folder = await ews.CalendarFolder.Bind(svc, ews.WellKnownFolderName.Calendar);
  assert.equal(folder.DisplayName, "Calendar");
  const info = svc.ServerInfo;
  assert.deepEqual(
    [info.MajorVersion, info.MinorVersion, info.MajorBuildNumber, info.MinorBuildNumber],
    [15, 0, 847, 32],
  );
  assert.equal(info.VersionString, "V2_8");

  const refused = await rejection(
    ews.CalendarFolder.Bind(service(fake), ews.WellKnownFolderName.Calendar),
  );
  assert.equal(code(refused), "ErrorInvalidServerVersion");
  for (const version of ["Exchange2016", "Exchange2015", "V2017_07_11"]) {
    const answer = await post(
      fake,
      soap(GET_CALENDAR_BODY, `<t:RequestServerVersion Version="${version}"/>`),
    );
    assert.equal(answer.status, 500, version);
    assert.equal(faultOf(answer.text).code, "a:ErrorInvalidServerVersion", version);
  }

  await using current = await startFakeExchange();
  const unknown = await post(
    current,
    soap(GET_CALENDAR_BODY, '<t:RequestServerVersion Version="Exchange2007_SP3"/>'),
  );
  assert.equal(faultOf(unknown.text).code, "a:ErrorInvalidServerVersion", "no such version");
  const ok = await post(current, GET_CALENDAR);
  assert.match(ok.text, /MajorVersion="15" MinorVersion="1" MajorBuildNumber="2507"/);
});

// https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/how-to-get-appointments-and-meetings-by-using-ews-in-exchange
// A CalendarView with MaxEntriesReturned="5" over 33 appointments answers the first five by
// start time, TotalItemsInView="33" and IncludesLastItemInRange="false".
Deno.test("CalendarView: ordered by start then end, MaxEntriesReturned gives the first of that order (get appointments how-to)", async () => {
  await using fake = await startFakeExchange();
  const ann = fake.mailbox(USER);
  const add = (subject: string, start: string, end: string) =>
    ann.addAppointment({ subject, start: `2026-06-01T${start}Z`, end: `2026-06-01T${end}Z` });
  add("long nine", "09:00:00", "11:00:00");
  add("short nine", "09:00:00", "10:00:00");
  add("eight", "08:00:00", "09:00:00");
  add("short nine again", "09:00:00", "10:00:00");
  add("ten", "10:00:00", "10:30:00");
  const svc = service(fake);
  const day = (max?: number) => {
    const [from, to] = [at("2026-06-01T00:00:00Z"), at("2026-06-02T00:00:00Z")];
    return max === undefined ? new ews.CalendarView(from, to) : new ews.CalendarView(from, to, max);
  };
  const all = await svc.FindAppointments(CALENDAR, day());
  assert.deepEqual(all.Items.map((a) => a.Subject), [
    "eight",
    "short nine",
    "short nine again",
    "long nine",
    "ten",
  ]);
  assert.equal(all.MoreAvailable, false);
  const first = await svc.FindAppointments(CALENDAR, day(3));
  assert.deepEqual(first.Items.map((a) => a.Subject), ["eight", "short nine", "short nine again"]);
  assert.equal(first.MoreAvailable, true, "IncludesLastItemInRange is false");
  assert.equal(first.TotalCount, 5);
});

// XML 1.0 (https://www.w3.org/TR/xml/#sec-predefined-ent): a reference is replaced once, so
// "&amp;amp;" is the text "&amp;". A server that decoded twice would hide a client that
// escapes twice.
Deno.test("XML entities of a request are decoded exactly once, and answers escape exactly once", async () => {
  await using fake = await startFakeExchange();
  const created = await post(
    fake,
    soap(
      '<m:CreateItem SendMeetingInvitations="SendToNone"><m:Items><t:CalendarItem>' +
        "<t:Subject>R&amp;D &lt;review&gt;</t:Subject><t:Start>2026-07-01T09:00:00Z</t:Start>" +
        "<t:End>2026-07-01T10:00:00Z</t:End><t:Location>Q&amp;amp;A &#x26;amp; more</t:Location>" +
        '<t:StartTimeZone Id="Eastern Standard Time" Name="(UTC-05:00) Eastern Time (US &amp; Canada)"/>' +
        "</t:CalendarItem></m:Items></m:CreateItem>",
    ),
  );
  assert.deepEqual(responseCodes(created.text), ["NoError"]);
  const [stored] = fake.mailbox(USER).items();
  assert.deepEqual([stored.subject, stored.location], ["R&D <review>", "Q&amp;A &amp; more"]);

  const read = await post(
    fake,
    soap(
      "<m:GetItem><m:ItemShape><t:BaseShape>Default</t:BaseShape><t:AdditionalProperties>" +
        '<t:FieldURI FieldURI="calendar:TimeZone"/></t:AdditionalProperties></m:ItemShape>' +
        `<m:ItemIds><t:ItemId Id="${stored.id}"/></m:ItemIds></m:GetItem>`,
    ),
  );
  assert.match(read.text, /<t:Subject>R&amp;D &lt;review&gt;<\/t:Subject>/);
  assert.match(read.text, /<t:Location>Q&amp;amp;A &amp;amp; more<\/t:Location>/);
  assert.match(
    read.text,
    /<t:TimeZone>\(UTC-05:00\) Eastern Time \(US &amp; Canada\)<\/t:TimeZone>/,
  );

  const svc = service(fake);
  const [item] = (await svc.FindItems(CALENDAR, new ews.ItemView(1))).Items;
  assert.equal(item.Subject, "R&D <review>", "the client reads back what was meant");
});
