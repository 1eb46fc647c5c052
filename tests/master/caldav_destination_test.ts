import assert from "node:assert/strict";
import {
  createCalDavDestination,
  readMarker,
  renderItem,
  withoutScheduling,
} from "../../master/destinations/caldav.ts";
import {
  type Destination,
  DestinationError,
  type DestinationErrorKind,
} from "../../master/destinations/types.ts";
import { retryAfterMs } from "../../shared/retry_after.ts";
import type { FetchLike } from "../../shared/caldav/http.ts";
import { parseIcs } from "../../shared/ics/mod.ts";
import { freePort } from "../helpers/master_process.ts";
import {
  basicAuth,
  deleteResource,
  makeCalendar,
  putResource,
  type Radicale,
  startRadicale,
} from "../helpers/radicale.ts";
import { startRecordingProxy } from "../helpers/recording_proxy.ts";
import {
  type DestinationFixture,
  destinationItem,
  foreignIcs,
  rejectsAs,
  runDestinationContract,
} from "./destination_contract.ts";

const USERS = { calsync: "s3cret-pw", solo: "solo-pw" };
const realFetch: FetchLike = (request) => fetch(request);

async function rejectsWith(
  kind: DestinationErrorKind,
  promise: Promise<unknown>,
  check: (error: DestinationError) => void = () => {},
) {
  check(await rejectsAs(kind, promise));
}

/** A fresh calendar of the main user, reached through `fetch` or directly. */
async function freshCalendar(
  radicale: Radicale,
  fetch: FetchLike = realFetch,
): Promise<DestinationFixture & { collectionUrl: string }> {
  const { url, username, password } = radicale;
  const collectionUrl = await makeCalendar(
    `${url}${username}/${crypto.randomUUID()}/`,
    username,
    password,
  );
  const destination = await createCalDavDestination({
    id: "radicale",
    url: collectionUrl,
    username,
    password,
    fetch,
  });
  let foreign = 0;
  return {
    collectionUrl,
    destination,
    putForeign: (ics) =>
      putResource(`${collectionUrl}foreign-${++foreign}.ics`, ics, username, password),
    cleanup: () => deleteResource(collectionUrl, username, password),
  };
}

const item = destinationItem({
  uid: "standup@example.com",
  recurrence_id: "2026-03-30T07:00:00Z",
  start: "2026-03-30T07:00:00Z",
  end: "2026-03-30T07:30:00Z",
  timezone: "Europe/Berlin",
  title: "Stand-up",
});

async function rawGet(radicale: Radicale, href: string): Promise<string> {
  const response = await fetch(href, {
    headers: { authorization: basicAuth(radicale.username, radicale.password) },
  });
  assert.equal(response.status, 200);
  return await response.text();
}

Deno.test("caldav destination against Radicale", async (t) => {
  await using radicale = await startRadicale({ users: USERS });

  await t.step("the destination contract", async (t) => {
    await runDestinationContract(t, () => freshCalendar(radicale));
  });

  await t.step("an item is one standalone VEVENT with the calsync marker", async () => {
    const f = await freshCalendar(radicale);
    try {
      const { href } = await f.destination.create(item);
      assert.equal(href, `${f.collectionUrl}${item.uid}.ics`);
      assert.equal(f.destination.displayUrl, f.collectionUrl);
      const text = await rawGet(radicale, href);
      const unfolded = text.replace(/\r\n /g, "");
      assert.match(unfolded, new RegExp(`\r\nUID:${item.uid}\r\n`));
      assert.doesNotMatch(unfolded, /RECURRENCE-ID/);
      assert.match(
        unfolded,
        /\r\nX-CALSYNC-KEY:\["standup@example\.com"\\,"2026-03-30T07:00:00Z"\]\r\n/,
      );
      assert.match(unfolded, new RegExp(`\r\nX-CALSYNC-HASH:${item.hash}\r\n`));
      assert.match(unfolded, /\r\nDTSTART:20260330T070000Z\r\nDTEND:20260330T073000Z\r\n/);
      const window = { start: "2026-03-01T00:00:00Z", end: "2026-05-01T00:00:00Z" };
      const [written] = parseIcs(text, window);
      assert.deepEqual(written, { ...item.event, uid: item.uid, recurrence_id: null });
    } finally {
      await f.cleanup();
    }
  });

  await t.step("look-alikes and unreadable data are foreign and never changed", async () => {
    const f = await freshCalendar(radicale);
    try {
      const ours = await f.destination.create(item);
      const forged = foreignIcs("not-calsync@example.com").replace(
        "END:VEVENT",
        "X-CALSYNC-KEY:forged\r\nEND:VEVENT",
      );
      const unmarked = foreignIcs("calsync-0123456789abcdef");
      const todo = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:x",
        "BEGIN:VTODO",
        "UID:todo@example.com",
        "DTSTAMP:20260301T000000Z",
        "SUMMARY:Task",
        "END:VTODO",
        "END:VCALENDAR",
        "",
      ].join("\r\n");
      const broken = foreignIcs("broken@example.com");
      const hrefs = [
        await f.putForeign(forged),
        await f.putForeign(unmarked),
        await f.putForeign(todo),
        await f.putForeign(broken),
      ];
      // A server could hand back data no parser reads; make it so for one object.
      const corrupting: FetchLike = async (request) => {
        const response = await fetch(request);
        if (request.method !== "REPORT") return response;
        const text = (await response.text()).replace(
          "UID:broken@example.com",
          "UID:broken@example.com\nBEGIN:VEVENT",
        );
        return new Response(text, { status: response.status, headers: response.headers });
      };
      const seen = await createCalDavDestination({
        id: "radicale",
        url: f.collectionUrl,
        username: radicale.username,
        password: radicale.password,
        fetch: corrupting,
      });
      const all = await seen.list();
      assert.deepEqual(
        all.filter((i) => i.key === null).map((i) => i.href).sort(),
        [...hrefs].sort(),
      );
      assert.equal(all.find((i) => i.href === ours.href)?.key, item.key);
      for (const href of hrefs.slice(0, 3)) {
        await rejectsWith("rejected", f.destination.remove(href, null));
        await rejectsWith("rejected", f.destination.update(href, null, item));
      }
      assert.equal((await f.destination.list()).length, 5);
      assert.equal(readMarker("not iCalendar"), null);
    } finally {
      await f.cleanup();
    }
  });

  await t.step("writes are conditional, reads are single requests", async () => {
    await using proxy = startRecordingProxy(radicale.url);
    const f = await freshCalendar(radicale, (request) => fetch(proxy.via(request.url), request));
    try {
      const d = f.destination;
      proxy.reset();
      await d.changeToken();
      assert.deepEqual(proxy.counts(), { PROPFIND: 1 });
      assert.equal(proxy.requests[0].headers.get("depth"), "0");
      proxy.reset();
      await d.list();
      assert.deepEqual(proxy.counts(), { REPORT: 1 });
      proxy.reset();
      const { href, etag } = await d.create(item);
      const changed = destinationItem({ ...item.event, title: "Changed" });
      const { etag: updated } = await d.update(href, etag, changed);
      await rejectsWith("precondition_failed", d.remove(href, '"stale"'));
      await d.remove(href, updated);
      const writes = proxy.requests.filter((r) => r.method === "PUT" || r.method === "DELETE");
      assert.deepEqual(
        writes.map((r) => [r.method, r.headers.get("if-none-match"), r.headers.get("if-match")]),
        [
          ["PUT", "*", null],
          ["PUT", null, etag],
          ["DELETE", null, '"stale"'],
          ["DELETE", null, updated],
        ],
      );
      assert.notEqual(updated, etag);
    } finally {
      await f.cleanup();
    }
  });

  await t.step("an etag missing from a PUT answer is read with PROPFIND", async () => {
    const noEtag: FetchLike = async (request) => {
      const response = await fetch(request);
      if (request.method !== "PUT") return response;
      const headers = new Headers(response.headers);
      headers.delete("etag");
      return new Response(response.body, { status: response.status, headers });
    };
    const f = await freshCalendar(radicale, noEtag);
    try {
      const { href, etag } = await f.destination.create(item);
      assert.ok(etag);
      assert.equal((await f.destination.get(href))?.etag, etag);
    } finally {
      await f.cleanup();
    }
  });

  await t.step("readable errors: credentials, missing calendar, unreachable", async () => {
    const open = (url: string, password = radicale.password, timeoutMs?: number) =>
      createCalDavDestination({
        id: "x",
        url,
        username: radicale.username,
        password,
        timeoutMs,
      });
    await rejectsWith("unauthorized", open(radicale.collectionUrl, "wrong-pw"), (e) => {
      assert.equal(
        e.message,
        `${new URL(radicale.url).host} refused the password for the login ` +
          `"${radicale.username}" (HTTP 401 Unauthorized) at ${radicale.collectionUrl}`,
      );
      assert.ok(!e.message.includes("wrong-pw"));
    });
    const missing = `${radicale.url}${radicale.username}/nothing-here/`;
    await rejectsWith("not_found", open(missing), (e) => {
      assert.equal(
        e.message,
        `there is no calendar at ${missing}; the calendars of "${radicale.username}" are; ` +
          `set the URL to one of:\n  ${radicale.collectionUrl} (Calendar)`,
      );
      assert.ok(!e.message.includes(radicale.password));
    });
    const port = freePort();
    await rejectsWith("unreachable", open(`http://127.0.0.1:${port}/cal/`), (e) => {
      assert.match(e.message, new RegExp(`^cannot reach 127\\.0\\.0\\.1:${port}: .*refused`, "i"));
    });
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    await using silent = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      async () => {
        await released;
        return new Response(null, { status: 204 });
      },
    );
    try {
      await rejectsWith(
        "unreachable",
        open(`http://127.0.0.1:${silent.addr.port}/`, "pw", 200),
        (e) => {
          assert.equal(
            e.message,
            `cannot reach 127.0.0.1:${silent.addr.port}: no answer within 0.2 s`,
          );
        },
      );
    } finally {
      release();
    }
  });

  await t.step("an outage is throttled (with Retry-After) or unreachable", async () => {
    await using proxy = startRecordingProxy(radicale.url);
    const f = await freshCalendar(radicale, (request) => fetch(proxy.via(request.url), request));
    try {
      await proxy.setMode("unavailable");
      await rejectsWith("throttled", f.destination.list(), (e) => {
        assert.equal(e.retryAfterMs, 1000);
        assert.ok(e.retryable);
      });
      await proxy.setMode("refuse");
      await rejectsWith("unreachable", f.destination.create(item));
      await proxy.setMode("up");
      await f.destination.create(item);
      assert.equal((await f.destination.list()).length, 1);
      assert.deepEqual([retryAfterMs("120"), retryAfterMs("soon")], [120_000, null]);
      const now = Date.parse("2026-03-01T12:00:00Z");
      assert.equal(retryAfterMs("Sun, 01 Mar 2026 12:00:30 GMT", now), 30_000);
      assert.equal(retryAfterMs("Sun, 01 Mar 2026 11:00:00 GMT", now), 0);
    } finally {
      await f.cleanup();
    }
  });

  await t.step("a restarted server still holds what was written", async () => {
    const f = await freshCalendar(radicale);
    try {
      const { href } = await f.destination.create(item);
      await radicale.stop();
      await rejectsWith("unreachable", f.destination.changeToken());
      await radicale.restart();
      assert.equal((await f.destination.get(href))?.key, item.key);
    } finally {
      await f.cleanup();
    }
  });

  await t.step("a server URL leads to the user's only calendar, or lists several", async () => {
    const password = USERS.solo;
    const open = (): Promise<Destination> =>
      createCalDavDestination({ id: "solo", url: radicale.url, username: "solo", password });
    const work = await makeCalendar(`${radicale.url}solo/work/`, "solo", password, "Work");
    assert.equal((await open()).displayUrl, work);
    const home = await makeCalendar(`${radicale.url}solo/home/`, "solo", password, "Home");
    await rejectsWith("rejected", open(), (e) => {
      assert.ok(e.message.startsWith(`${radicale.url} is not a calendar collection`), e.message);
      assert.ok(e.message.includes(`${work} (Work)`), e.message);
      assert.ok(e.message.includes(`${home} (Home)`), e.message);
    });
  });
});

Deno.test("withoutScheduling drops organizer, attendees (folded too), METHOD and alarms only", () => {
  const ics = [
    "BEGIN:VCALENDAR",
    "METHOD:REQUEST",
    "BEGIN:VEVENT",
    "UID:calsync-1",
    "SUMMARY:Budget",
    "ORGANIZER;CN=Ann:mailto:ann@example.org",
    "ATTENDEE;CN=Bob;PARTSTAT=NEEDS-ACTION:mailto:bob@exa",
    " mple.org",
    "BEGIN:VALARM",
    "ACTION:DISPLAY",
    "TRIGGER:-PT15M",
    "END:VALARM",
    "X-CALSYNC-KEY:k",
    "END:VEVENT",
    "END:VCALENDAR",
    "",
  ].join("\r\n");
  assert.equal(
    withoutScheduling(ics),
    [
      "BEGIN:VCALENDAR",
      "BEGIN:VEVENT",
      "UID:calsync-1",
      "SUMMARY:Budget",
      "X-CALSYNC-KEY:k",
      "END:VEVENT",
      "END:VCALENDAR",
      "",
    ].join("\r\n"),
  );
  const inert = renderItem(item);
  assert.equal(withoutScheduling(inert), inert, "what calsync writes now is left as it is");
});
