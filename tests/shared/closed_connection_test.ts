import assert from "node:assert/strict";
import { DavHttp } from "../../shared/caldav/http.ts";
import { CalDavError } from "../../shared/caldav/errors.ts";
import { sendRepeatingOnClosedConnection } from "../../shared/closed_connection.ts";

/**
 * A raw HTTP/1.1 server on a free loopback port that reads each request whole and closes
 * the connection of the first `closing` requests without a byte of answer, as a server
 * closing a kept-alive connection does; later requests get "200 ok". It keeps what it
 * received, so a test sees what reached the server.
 */
function closingServer(closing: number) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const received: string[] = [];
  const decoder = new TextDecoder();
  const serve = async (conn: Deno.Conn) => {
    let text = "";
    const buffer = new Uint8Array(16 * 1024);
    for (;;) {
      const head = text.indexOf("\r\n\r\n");
      if (head >= 0) {
        const length = Number(/content-length:\s*(\d+)/i.exec(text.slice(0, head))?.[1] ?? 0);
        if (text.length >= head + 4 + length) break;
      }
      const n = await conn.read(buffer);
      if (n === null) break;
      text += decoder.decode(buffer.subarray(0, n));
    }
    received.push(text);
    if (received.length > closing) {
      await conn.write(
        new TextEncoder().encode(
          "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
        ),
      );
    }
    conn.close();
  };
  const accepting = (async () => {
    for await (const conn of listener) serve(conn).catch(() => conn.close());
  })();
  const { port } = listener.addr as Deno.NetAddr;
  return {
    url: `http://127.0.0.1:${port}/cal/`,
    received,
    async [Symbol.asyncDispose]() {
      listener.close();
      await accepting.catch(() => {});
    },
  };
}

const dav = (url: string) => new DavHttp({ username: "anna", password: "pw", displayUrl: url });

Deno.test("a PUT whose connection closed before an answer is sent once more, body and all", async () => {
  await using server = closingServer(1);
  const response = await dav(server.url).send(
    new Request(`${server.url}a.ics`, {
      method: "PUT",
      headers: { "if-none-match": "*", "content-type": "text/calendar" },
      body: "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
    }),
  );
  assert.equal(response.status, 200);
  assert.equal(await response.text(), "ok");
  assert.equal(server.received.length, 2, "the server got the request twice");
  for (const request of server.received) {
    assert.match(request, /^PUT \/cal\/a\.ics HTTP\/1\.1\r\n/);
    assert.match(request, /if-none-match: \*/i);
    assert.ok(request.endsWith("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"), "with its body");
  }
});

Deno.test("a PROPFIND and a REPORT are repeated too, but only once", async () => {
  await using server = closingServer(1);
  const propfind = await dav(server.url).send(
    new Request(server.url, { method: "PROPFIND", headers: { depth: "0" }, body: "<x/>" }),
  );
  assert.equal(propfind.status, 200);
  await using closingTwice = closingServer(2);
  await assert.rejects(
    dav(closingTwice.url).send(new Request(closingTwice.url, { method: "REPORT", body: "<x/>" })),
    (err: unknown) => err instanceof CalDavError && err.kind === "unreachable",
  );
  assert.equal(closingTwice.received.length, 2, "one repetition, no more");
});

Deno.test("an MKCALENDAR is not repeated: it might have been carried out", async () => {
  await using server = closingServer(1);
  await assert.rejects(
    dav(server.url).send(new Request(server.url, { method: "MKCALENDAR" })),
    (err: unknown) => err instanceof CalDavError && err.kind === "unreachable",
  );
  assert.equal(server.received.length, 1);
});

Deno.test("a request stopped by its time limit is not repeated", async () => {
  const limit = new AbortController();
  let sends = 0;
  const send = (_request: Request): Promise<Response> => {
    sends++;
    limit.abort();
    return Promise.reject(new TypeError("fetch failed"));
  };
  await assert.rejects(
    sendRepeatingOnClosedConnection(
      send,
      new Request("http://127.0.0.1:9/", { method: "GET", signal: limit.signal }),
    ),
    TypeError,
  );
  assert.equal(sends, 1);
});

Deno.test("an error that is not the network's is not repeated", async () => {
  let sends = 0;
  const send = (): Promise<Response> => {
    sends++;
    return Promise.reject(new RangeError("a bug of the caller"));
  };
  await assert.rejects(
    sendRepeatingOnClosedConnection(send, new Request("http://127.0.0.1:9/", { method: "PUT" })),
    RangeError,
  );
  assert.equal(sends, 1);
});
