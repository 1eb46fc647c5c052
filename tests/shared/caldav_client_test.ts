import assert from "node:assert/strict";
import { CalDavClient, CalDavError, type CalDavErrorKind } from "../../shared/caldav/client.ts";

const COLLECTION = "https://dav.example.com/cal/";

const CALENDAR_PROPFIND = `<?xml version="1.0" encoding="utf-8"?>
<multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <response><href>/cal/</href><propstat><prop>
    <resourcetype><collection/><C:calendar/></resourcetype>
  </prop><status>HTTP/1.1 200 OK</status></propstat></response>
</multistatus>`;

/**
 * A client whose server says the collection is a calendar, then answers every further
 * request with `answer`; `seen` collects the requests.
 */
async function clientAnswering(answer: () => Response, url = COLLECTION) {
  const seen: Request[] = [];
  const client = await CalDavClient.open({
    url,
    username: "anna",
    password: "pä55",
    fetch: (request) => {
      seen.push(request);
      return Promise.resolve(
        seen.length === 1
          ? new Response(CALENDAR_PROPFIND, {
            status: 207,
            headers: { "content-type": "application/xml; charset=utf-8" },
          })
          : answer(),
      );
    },
  });
  return { client, seen };
}

async function rejectsWith(
  promise: Promise<unknown>,
  kind: CalDavErrorKind,
  check: (error: CalDavError) => void = () => {},
) {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof CalDavError, String(error));
    assert.equal(error.kind, kind, error.message);
    check(error);
    return true;
  });
}

Deno.test("caldav client: statuses become error kinds, Retry-After becomes a wait", async () => {
  const cases: [Response, CalDavErrorKind, number | null][] = [
    [new Response("", { status: 429, headers: { "retry-after": "7" } }), "throttled", 7000],
    [new Response("", { status: 503 }), "throttled", null],
    [new Response("", { status: 500 }), "server", null],
    [new Response("", { status: 502 }), "server", null],
    [new Response("", { status: 403 }), "unauthorized", null],
    [new Response("", { status: 400 }), "rejected", null],
    [new Response("", { status: 415 }), "rejected", null],
  ];
  for (const [response, kind, wait] of cases) {
    const { client } = await clientAnswering(() => response.clone());
    await rejectsWith(client.create("a.ics", "BEGIN:VCALENDAR"), kind, (e) => {
      assert.equal(e.retryAfterMs, wait);
      assert.equal(e.status, response.status);
    });
    await rejectsWith(client.changeToken(), kind);
  }
});

Deno.test("caldav client: a vanished collection is named as such", async () => {
  const { client } = await clientAnswering(() => new Response("", { status: 404 }));
  await rejectsWith(client.listObjects(), "not_found", (e) => {
    assert.match(e.message, /^no calendar collection at https:\/\/dav\.example\.com\/cal\/;/);
  });
  assert.equal(await client.getObject("gone.ics"), null);
  assert.equal(await client.getEtag("gone.ics"), null);
  await client.remove("gone.ics", '"1"');
});

Deno.test("caldav client: the hint for a URL without calendar keeps scheme, host and login", async () => {
  const nothing = () => Promise.resolve(new Response("", { status: 404 }));
  await rejectsWith(
    CalDavClient.open({
      url: "http://mail.example.org/SOGo/dav/wrong/",
      username: "ann@example.org",
      password: "pw",
      fetch: nothing,
    }),
    "not_found",
    (e) => {
      assert.equal(
        e.message,
        "no calendar collection at http://mail.example.org/SOGo/dav/wrong/; mailcow (SOGo) " +
          "calendars live at http://mail.example.org/SOGo/dav/ann@example.org/Calendar/personal/",
      );
    },
  );
});

Deno.test("caldav client: credentials travel in a header, never in URLs or messages", async () => {
  const { client, seen } = await clientAnswering(
    () => new Response("", { status: 401 }),
    "https://anna:url-secret@dav.example.com/cal/",
  );
  assert.equal(client.collectionUrl, COLLECTION);
  await rejectsWith(client.changeToken(), "unauthorized", (e) => {
    assert.equal(
      e.message,
      'dav.example.com refused the password for the login "anna" (HTTP 401) at ' +
        "https://dav.example.com/cal/",
    );
  });
  for (const request of seen) {
    assert.equal(new URL(request.url).username, "");
    assert.equal(
      request.headers.get("authorization"),
      `Basic ${btoa(String.fromCharCode(...new TextEncoder().encode("anna:pä55")))}`,
    );
  }
});

Deno.test("caldav client: a write answered without ETag reads it with PROPFIND", async () => {
  const etagPropfind = `<?xml version="1.0"?><multistatus xmlns="DAV:"><response>
    <href>/cal/a.ics</href><propstat><prop><getetag>"v2"</getetag></prop>
    <status>HTTP/1.1 200 OK</status></propstat></response></multistatus>`;
  let calls = 0;
  const { client, seen } = await clientAnswering(() =>
    ++calls === 1 ? new Response(null, { status: 204 }) : new Response(etagPropfind, {
      status: 207,
      headers: { "content-type": "application/xml" },
    })
  );
  assert.deepEqual(await client.update("a.ics", '"v1"', "BEGIN:VCALENDAR"), { etag: '"v2"' });
  assert.deepEqual(seen.slice(1).map((r) => [r.method, r.url, r.headers.get("depth")]), [
    ["PUT", `${COLLECTION}a.ics`, null],
    ["PROPFIND", `${COLLECTION}a.ics`, "0"],
  ]);
  assert.equal(seen[1].headers.get("if-match"), '"v1"');
});

Deno.test("caldav client: a URL that is not http(s) is refused before any request", async () => {
  await rejectsWith(
    CalDavClient.open({ url: "webdav://x/", fetch: () => Promise.reject(new Error("no")) }),
    "rejected",
  );
});

Deno.test("caldav client: an href on another server is refused", async () => {
  const { client, seen } = await clientAnswering(() => new Response(null, { status: 204 }));
  assert.equal(client.resolve("/cal/a.ics"), `${COLLECTION}a.ics`);
  assert.throws(() => client.resolve("https://elsewhere.example.com/cal/a.ics"), CalDavError);
  await rejectsWith(client.remove("https://elsewhere.example.com/a.ics", '"1"'), "rejected");
  assert.equal(seen.length, 1);
});
