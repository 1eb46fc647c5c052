/**
 * The real servers the harnesses start (SOGo 5.8 as mailcow runs it, Xandikos) and the
 * behaviours of theirs that calsync must cope with, pinned so that a package update that
 * changes one shows up here first. Every request is written out by hand and every answer
 * read with a parser of its own, so that nothing of calsync's CalDAV code is under test.
 */
import assert from "node:assert/strict";
import { XMLParser } from "fast-xml-parser";
import { basicAuth } from "../helpers/radicale.ts";
import { type Sogo, startSogo } from "../helpers/sogo.ts";
import { startSmtpSink } from "../helpers/smtp_sink.ts";
import { startXandikos, type Xandikos } from "../helpers/xandikos.ts";

const UNIFIED = "unified@example.org";
const COLLEAGUE = "colleague@example.org";
const EXTERNAL = "someone@elsewhere.test";
/** Each gets its own calendar, so that listings there hold only what the step put. */
const SYNC = "sync@example.org";
/** Throw-away accounts for the failed-login block: one is blocked for 15 minutes. */
const LOCKED = "lockout@example.org";
const NEARLY = "nine-failures@example.org";
/** Holds nothing, ever. */
const EMPTY = "empty@example.org";
/** Logs in first, then fails: SOGo does not count those failures. */
const WARM = "warm@example.org";

/** A server and one login on it, as the steps below address it. */
type Account = { collection: string; login: string; password: string };

/** One `<response>` of a multistatus, read without calsync's parser. */
type Entry = { href: string; status: number; etag: string | null; data: string | null };

const parser = new XMLParser({
  removeNSPrefix: true,
  ignoreAttributes: true,
  parseTagValue: false,
  isArray: (name) => ["response", "propstat", "href"].includes(name),
});

type XmlNode = Record<string, unknown>;

function textOf(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === "object") return String((value as XmlNode)["#text"] ?? "");
  return String(value);
}

function code(status: unknown): number {
  return Number(/\s(\d{3})\b/.exec(textOf(status) ?? "")?.[1] ?? 0);
}

/**
 * The responses of a multistatus, its sync-token, and the names of the properties
 * served (in a 200 propstat) and refused (in any other) across its responses.
 */
function multistatus(xml: string) {
  const root = (parser.parse(xml) as XmlNode).multistatus as XmlNode | "" | undefined;
  assert.ok(root !== undefined, `no multistatus: ${xml}`);
  const responses = root === "" ? [] : (root.response as XmlNode[] | undefined) ?? [];
  const served = new Set<string>();
  const refused = new Set<string>();
  const entries: Entry[] = responses.map((response) => {
    const propstats = (response.propstat as XmlNode[] | undefined) ?? [];
    const ok = propstats.find((p) => code(p.status) === 200);
    const prop = (ok?.prop ?? {}) as XmlNode;
    for (const name of Object.keys(prop)) served.add(name);
    for (const other of propstats.filter((p) => p !== ok)) {
      for (const name of Object.keys((other.prop ?? {}) as XmlNode)) refused.add(name);
    }
    return {
      href: textOf((response.href as unknown[])[0])!.trim(),
      status: response.status !== undefined ? code(response.status) : ok ? 200 : 0,
      etag: textOf(prop.getetag),
      data: textOf(prop["calendar-data"]),
    };
  });
  const token = root === "" ? null : textOf(root["sync-token"]);
  return { entries, syncToken: token?.trim() ?? null, served, refused };
}

/** A request as `account`; the body is read whole. */
async function dav(
  account: Account,
  method: string,
  url: string,
  init: { body?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; text: string; etag: string | null }> {
  const response = await fetch(url, {
    method,
    headers: {
      authorization: basicAuth(account.login, account.password),
      ...(init.body?.startsWith("<") ? { "content-type": "application/xml; charset=utf-8" } : {}),
      ...(init.body?.startsWith("BEGIN:")
        ? { "content-type": "text/calendar; charset=utf-8" }
        : {}),
      ...init.headers,
    },
    body: init.body,
  });
  return {
    status: response.status,
    text: await response.text(),
    etag: response.headers.get("etag"),
  };
}

/** A one-event calendar; `lines` go into the VEVENT (ORGANIZER, ATTENDEE, ...). */
function ics(uid: string, summary: string, lines: string[] = []): string {
  return [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//calsync//real servers test//EN",
    "BEGIN:VEVENT",
    `UID:${uid}`,
    "DTSTAMP:20261201T000000Z",
    "DTSTART:20261214T090000Z",
    "DTEND:20261214T100000Z",
    `SUMMARY:${summary}`,
    ...lines,
    "END:VEVENT",
    "END:VCALENDAR",
    "",
  ].join("\r\n");
}

async function put(account: Account, name: string, body: string, headers = {}) {
  const answer = await dav(account, "PUT", `${account.collection}${name}`, { body, headers });
  assert.ok(
    answer.status >= 200 && answer.status < 300,
    `PUT ${name}: ${answer.status} ${answer.text}`,
  );
  return answer;
}

/** The last path segment of an href, such as `a.ics`. */
function leaf(href: string): string {
  return decodeURIComponent(href.replace(/\/$/, "").split("/").pop()!);
}

function syncCollection(token: string, prop = "<D:getetag/>"): string {
  return `<?xml version="1.0" encoding="utf-8"?>
<D:sync-collection xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:sync-token>${token}</D:sync-token>
  <D:sync-level>1</D:sync-level>
  <D:prop>${prop}</D:prop>
</D:sync-collection>`;
}

async function report(account: Account, body: string) {
  const answer = await dav(account, "REPORT", account.collection, {
    body,
    headers: { depth: "1" },
  });
  assert.equal(answer.status, 207, `REPORT: ${answer.status} ${answer.text}`);
  return multistatus(answer.text);
}

/** `{leaf: status}` of a sync-collection answer, for exact comparisons. */
function statuses(entries: Entry[]): Record<string, number> {
  return Object.fromEntries(entries.map((e) => [leaf(e.href), e.status]).sort());
}

/** Whole-second tokens (SOGo) see a change in the second they were issued: step past it. */
const nextSecond = () => new Promise((resolve) => setTimeout(resolve, 1_100));

/**
 * RFC 6578 on `account`'s empty collection: the first answer lists everything with a
 * token; with that token, only what changed since, a removed member as a 404 response.
 * `wholeSeconds` waits a second before the token is taken, for servers whose tokens are
 * timestamps. Returns the token and the delta asked again with calendar-data in the
 * DAV:prop, for the caller to check what the server made of that.
 */
async function checkSyncCollection(account: Account, wholeSeconds: boolean) {
  const found = await dav(account, "PROPFIND", account.collection, {
    headers: { depth: "0" },
    body: `<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/">
  <D:prop><D:sync-token/><CS:getctag/><D:supported-report-set/></D:prop>
</D:propfind>`,
  });
  assert.equal(found.status, 207);
  const offered = multistatus(found.text).served;
  // Only CS:getctag was asked for, so a served "getctag" is that one.
  assert.ok(offered.has("sync-token"), "the collection offers {DAV:}sync-token");
  assert.ok(offered.has("getctag"), "the collection offers {http://calendarserver.org/ns/}getctag");
  assert.match(found.text, /sync-collection/, "supported-report-set names sync-collection");

  await put(account, "keep.ics", ics("keep", "Kept"));
  await put(account, "change.ics", ics("change", "Before"));
  await put(account, "remove.ics", ics("remove", "Removed"));
  const first = await report(account, syncCollection(""));
  assert.deepEqual(statuses(first.entries), {
    "change.ics": 200,
    "keep.ics": 200,
    "remove.ics": 200,
  });
  assert.ok(first.entries.every((e) => e.etag), "every member has an etag");
  assert.ok(first.syncToken, "the answer carries a sync-token");

  if (wholeSeconds) await nextSecond();
  const token = (await report(account, syncCollection(""))).syncToken!;
  await put(account, "change.ics", ics("change", "After"));
  await put(account, "added.ics", ics("added", "Added"));
  const removed = await dav(account, "DELETE", `${account.collection}remove.ics`);
  assert.equal(removed.status, 204);
  const delta = await report(account, syncCollection(token));
  assert.deepEqual(statuses(delta.entries), {
    "added.ics": 200,
    "change.ics": 200,
    "remove.ics": 404,
  });
  assert.ok(delta.syncToken && delta.syncToken !== "", "the delta carries a new token");

  const withData = await report(account, syncCollection(token, "<D:getetag/><C:calendar-data/>"));
  assert.deepEqual(statuses(withData.entries), statuses(delta.entries));
  return { token, withData };
}

Deno.test("SOGo 5.8 as mailcow runs it", async (t) => {
  const started = performance.now();
  await using sogo: Sogo = await startSogo({
    users: {
      [SYNC]: "secret-sync",
      [LOCKED]: "secret-lockout",
      [NEARLY]: "secret-nine",
      [WARM]: "secret-warm",
      [EMPTY]: "secret-empty",
    },
  });
  console.log(`SOGo up in ${Math.round(performance.now() - started)} ms at ${sogo.url}`);
  const as = (login: string): Account => ({
    collection: sogo.calendarUrl(login),
    login,
    password: sogo.users[login],
  });
  const unified = as(UNIFIED);

  await t.step("every user's personal calendar exists at start", async () => {
    assert.equal(
      unified.collection,
      `${sogo.url}SOGo/dav/unified@example.org/Calendar/personal/`,
    );
    for (const login of Object.keys(sogo.users)) {
      const answer = await dav(as(login), "PROPFIND", sogo.calendarUrl(login), {
        headers: { depth: "0" },
      });
      assert.equal(answer.status, 207, login);
      assert.match(answer.text, /calendar/);
    }
  });

  await t.step(
    "a calendar-query filtering on VCALENDAR alone finds nothing; a nested VEVENT filter finds the event",
    async () => {
      await put(unified, "query-me.ics", ics("query-me", "Query me"));
      const query = (filter: string) =>
        report(
          unified,
          `<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:getetag/></D:prop>
  <C:filter>${filter}</C:filter>
</C:calendar-query>`,
        );
      const bare = await query(`<C:comp-filter name="VCALENDAR"/>`);
      assert.deepEqual(bare.entries, [], "SOGo answers an empty multistatus");
      const nested = await query(
        `<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/></C:comp-filter>`,
      );
      assert.ok(nested.entries.some((e) => leaf(e.href) === "query-me.ics"));
    },
  );

  await t.step(
    "PUT with If-None-Match: * overwrites an existing resource (204), and DELETE ignores a wrong If-Match (204)",
    async () => {
      const created = await put(unified, "precondition.ics", ics("precondition", "First"));
      assert.equal(created.status, 201);
      const over = await put(unified, "precondition.ics", ics("precondition", "Second"), {
        "if-none-match": "*",
      });
      assert.equal(over.status, 204, "not 412: the precondition is not enforced");
      const held = await dav(unified, "GET", `${unified.collection}precondition.ics`);
      assert.match(held.text, /SUMMARY:Second/, "the second PUT replaced the first");
      // If-Match on a PUT that creates is not enforced either.
      const blind = await put(unified, "no-such.ics", ics("no-such", "Blind"), {
        "if-match": '"gcs00000042"',
      });
      assert.equal(blind.status, 201);
      const deleted = await dav(unified, "DELETE", `${unified.collection}precondition.ics`, {
        headers: { "if-match": '"not-the-etag"' },
      });
      assert.equal(deleted.status, 204, "not 412");
      assert.equal(
        (await dav(unified, "GET", `${unified.collection}precondition.ics`)).status,
        404,
      );
    },
  );

  await t.step(
    "ETags are per-resource version counters: fresh and re-created resources share them",
    async () => {
      const a = await put(unified, "etag-a.ics", ics("etag-a", "A"));
      const b = await put(unified, "etag-b.ics", ics("etag-b", "B"));
      assert.equal(a.etag, '"gcs00000000"');
      assert.equal(b.etag, a.etag, "two different new resources, one ETag");
      const changed = await put(unified, "etag-a.ics", ics("etag-a", "A2"));
      assert.equal(changed.etag, '"gcs00000001"');
      assert.equal((await dav(unified, "DELETE", `${unified.collection}etag-a.ics`)).status, 204);
      const again = await put(unified, "etag-a.ics", ics("etag-a", "A3"));
      assert.equal(again.etag, a.etag, "a re-created resource repeats an ETag it had before");
    },
  );

  await t.step(
    "a PUT with ORGANIZER and ATTENDEEs mails them and writes into a local attendee's calendar",
    async () => {
      sogo.smtp.clear();
      const uid = `meeting-${crypto.randomUUID()}`;
      await put(
        unified,
        "meeting.ics",
        ics(uid, "Budget meeting", [
          `ORGANIZER;CN=Unified:mailto:${UNIFIED}`,
          `ATTENDEE;CN=Colleague;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:${COLLEAGUE}`,
          `ATTENDEE;CN=Someone;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:${EXTERNAL}`,
        ]),
      );
      // One invitation per attendee, internal or not, from the organizer's address.
      const mails = await sogo.smtp.waitForMessages(2);
      assert.deepEqual(mails.map((m) => m.to).sort(), [[COLLEAGUE], [EXTERNAL]]);
      for (const mail of mails) {
        assert.equal(mail.from, UNIFIED);
        assert.match(mail.data, /^X-Sogo-Message-Type: calendar:invitation$/m);
        assert.match(mail.data, /^Content-Type: text\/calendar; method=REQUEST/m);
        assert.match(mail.data, new RegExp(`^UID:${uid}$`, "m"));
      }
      const colleague = as(COLLEAGUE);
      const listed = await report(
        colleague,
        `<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:getetag/><C:calendar-data/></D:prop>
  <C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/></C:comp-filter></C:filter>
</C:calendar-query>`,
      );
      const delivered = listed.entries.filter((e) => e.data?.includes(`UID:${uid}`));
      assert.equal(delivered.length, 1, "the colleague's personal calendar holds the meeting");
    },
  );

  await t.step(
    "10 wrong passwords in a row block an account for which SOGo has no cached login: then the right one is refused with 401 too",
    async () => {
      const login = (account: Account, password: string) =>
        dav({ ...account, password }, "PROPFIND", account.collection, { headers: { depth: "0" } });
      const wrongTimes = async (account: Account, times: number) => {
        for (let i = 0; i < times; i++) {
          assert.equal((await login(account, "wrong")).status, 401);
        }
      };
      // The first step logged everyone in; start from what SOGo has after a while.
      await sogo.flushCache();
      // Nine failures are not enough...
      const nearly = as(NEARLY);
      await wrongTimes(nearly, 9);
      assert.equal((await login(nearly, nearly.password)).status, 207, "9 failures: still open");
      // ...the tenth blocks, and a blocked account looks exactly like a wrong password.
      const locked = as(LOCKED);
      await wrongTimes(locked, 10);
      const refused = await login(locked, locked.password);
      assert.equal(refused.status, 401, "blocked: the right password is refused");
      assert.equal((await login(locked, locked.password)).status, 401, "and stays refused");
      assert.equal((await login(unified, unified.password)).status, 207, "other users are not");
    },
  );

  await t.step(
    "wrong passwords right after a successful login are not counted: SOGo checks them against its cached hash",
    async () => {
      const warm = as(WARM);
      assert.equal((await dav(warm, "PROPFIND", warm.collection)).status, 207);
      for (let i = 0; i < 12; i++) {
        const wrong = await dav({ ...warm, password: "wrong" }, "PROPFIND", warm.collection);
        assert.equal(wrong.status, 401);
      }
      assert.equal((await dav(warm, "PROPFIND", warm.collection)).status, 207, "not blocked");
    },
  );

  await t.step(
    "sync-collection works, with calendar-data in its DAV:prop; tokens are whole seconds, changes in that second come again",
    async () => {
      const account = as(SYNC);
      const { token, withData } = await checkSyncCollection(account, true);
      const changed = withData.entries.find((e) => leaf(e.href) === "change.ics");
      assert.match(changed?.data ?? "", /SUMMARY:After/, "the objects come with the delta");
      assert.match(token, /^\d+$/, "the token is a Unix time in seconds");
      // A change made in the second a token is issued is reported again with that token
      // (SOGo compares the modification time, in seconds, with >=): a delta may repeat
      // an item but never loses one.
      const now = (await report(account, syncCollection(""))).syncToken!;
      await put(account, "same-second.ics", ics("same-second", "Same second"));
      const after = await report(account, syncCollection(now));
      assert.ok(after.entries.some((e) => leaf(e.href) === "same-second.ics"));
    },
  );

  await t.step(
    "a calendar with items takes any sync-token (a word reads as 0: everything, removed members too); an empty one refuses a malformed token with 403 valid-sync-token",
    async () => {
      const account = as(SYNC);
      const everything = statuses((await report(account, syncCollection(""))).entries);
      const word = await report(account, syncCollection("not-a-token"));
      assert.deepEqual(statuses(word.entries), { ...everything, "remove.ics": 404 });
      const mixed = await report(account, syncCollection("123abc"));
      assert.deepEqual(statuses(mixed.entries), { ...everything, "remove.ics": 404 });
      const empty = as(EMPTY);
      const refused = await dav(empty, "REPORT", empty.collection, {
        body: syncCollection("123abc"),
        headers: { depth: "1" },
      });
      assert.equal(refused.status, 403);
      assert.match(refused.text, /valid-sync-token/);
      assert.equal((await report(empty, syncCollection("not-a-token"))).syncToken, "0");
    },
  );
});

Deno.test("Xandikos 0.2.8", async (t) => {
  await using xandikos: Xandikos = await startXandikos();
  const account: Account = {
    collection: xandikos.collectionUrl,
    login: xandikos.username,
    password: xandikos.password,
  };

  await t.step("the default calendar is /user/calendars/calendar/ and a PUT works", async () => {
    assert.equal(xandikos.collectionUrl, `${xandikos.url}user/calendars/calendar/`);
    const created = await put(account, "put.ics", ics("put", "Put"));
    assert.equal(created.status, 201);
    assert.ok(created.etag, "the PUT answers an ETag");
    const held = await dav(account, "GET", `${account.collection}put.ics`);
    assert.equal(held.status, 200);
    assert.match(held.text, /UID:put/);
    assert.equal((await dav(account, "DELETE", `${account.collection}put.ics`)).status, 204);
  });

  await t.step(
    "sync-collection works, but calendar-data in its DAV:prop comes back 404: the objects need a multiget",
    async () => {
      const { withData } = await checkSyncCollection(account, false);
      const present = withData.entries.filter((e) => e.status === 200);
      assert.ok(present.every((e) => e.data === null && e.etag), "etags, no data");
      assert.ok(withData.refused.has("calendar-data"), "calendar-data in a 404 propstat");
      const hrefs = present.map((e) => e.href);
      const multiget = await dav(account, "REPORT", account.collection, {
        headers: { depth: "1" },
        body: `<?xml version="1.0" encoding="utf-8"?>
<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:getetag/><C:calendar-data/></D:prop>
  ${hrefs.map((href) => `<D:href>${href}</D:href>`).join("")}
</C:calendar-multiget>`,
      });
      assert.equal(multiget.status, 207);
      const objects = multistatus(multiget.text).entries;
      assert.match(objects.find((e) => leaf(e.href) === "change.ics")?.data ?? "", /SUMMARY:After/);
    },
  );
});

/** Speaks SMTP on `port` line by line: sends each command, returns each reply's first line. */
async function smtpSession(port: number, commands: string[]): Promise<string[]> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const reader = conn.readable.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  const replyLine = async () => {
    // A multi-line reply ("250-...") ends with its "250 " line.
    for (;;) {
      const end = buffered.indexOf("\r\n");
      if (end >= 0) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        if (line[3] !== "-") return line;
        continue;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error(`connection closed, ${buffered}`);
      buffered += value;
    }
  };
  const replies = [await replyLine()];
  const writer = conn.writable.getWriter();
  for (const command of commands) {
    await writer.write(new TextEncoder().encode(`${command}\r\n`));
    // The lines of a message get no reply of their own.
    if (!replies.at(-1)!.startsWith("354") || command === ".") replies.push(await replyLine());
  }
  // The sink hangs up after QUIT; closing both streams releases the connection.
  await writer.close();
  while (!(await reader.read()).done) {
    // nothing more is expected
  }
  return replies;
}

Deno.test("the SMTP sink keeps every message of concurrent sessions, dot-stuffing undone", async () => {
  await using sink = startSmtpSink();
  const mail = (from: string, to: string, body: string) => [
    "EHLO test",
    "NOOP",
    `MAIL FROM:<${from}> SIZE=100`,
    `RCPT TO:<${to}>`,
    "DATA",
    `Subject: ${body}`,
    "",
    "..a line that started with a dot",
    ".",
  ];
  const [first, second] = await Promise.all([
    smtpSession(sink.port, [...mail("a@example.org", "b@example.org", "one"), "QUIT"]),
    smtpSession(sink.port, [
      "HELO test",
      "MAIL FROM:<dropped@example.org>",
      "RCPT TO:<dropped@example.org>",
      "RSET",
      ...mail("c@example.org", "d@example.org", "two"),
      "RCPT TO:<too-early@example.org>",
      "QUIT",
    ]),
  ]);
  assert.deepEqual(first.map((l) => l.slice(0, 3)), [
    "220",
    "250",
    "250",
    "250",
    "250",
    "354",
    "250",
    "221",
  ]);
  assert.deepEqual(second.map((l) => l.slice(0, 3)), [
    "220",
    "250",
    "250",
    "250",
    "250",
    "250",
    "250",
    "250",
    "250",
    "354",
    "250",
    "503",
    "221",
  ]);
  const received = sink.messages().sort((a, b) => a.from.localeCompare(b.from));
  assert.deepEqual(received, [
    {
      from: "a@example.org",
      to: ["b@example.org"],
      data: "Subject: one\r\n\r\n.a line that started with a dot\r\n",
    },
    {
      from: "c@example.org",
      to: ["d@example.org"],
      data: "Subject: two\r\n\r\n.a line that started with a dot\r\n",
    },
  ]);
  assert.equal(sink.url, `smtp://127.0.0.1:${sink.port}`);
});
