/** The stand-in's $batch, throttling, injected faults and request counter. */
import assert from "node:assert/strict";
import { ANN, setup, utcEvent } from "./helpers.ts";
import { until } from "../../helpers/poll.ts";

interface BatchAnswer {
  responses: {
    id: string;
    status: number;
    headers: Record<string, string>;
    body?: Record<string, unknown>;
  }[];
}

const create = (id: string, subject: string, more: Record<string, unknown> = {}) => ({
  id,
  method: "POST",
  url: `/users/${ANN}/calendar/events`,
  headers: { "content-type": "application/json" },
  body: utcEvent(subject, "2026-12-01T09:00:00", "2026-12-01T10:00:00"),
  ...more,
});

// "Combine multiple HTTP requests using JSON batching",
// https://learn.microsoft.com/en-us/graph/json-batching: POST /$batch with requests (id,
// method, relative url, headers, body); the answer has one response per request with its
// own id, status, headers and body; a body needs a Content-Type header.
Deno.test("$batch: each request answered with its own status, headers and body", async () => {
  await using s = await setup();
  const existing = s.ann.addEvent(utcEvent("there", "2026-12-02T09:00:00", "2026-12-02T10:00:00"));
  const answer = await s.call<BatchAnswer>("POST", "/$batch", {
    body: {
      requests: [
        create("1", "made in a batch"),
        { id: "2", method: "GET", url: `/users/${ANN}/events/${existing}?$select=subject` },
        { id: "3", method: "DELETE", url: `users/${ANN}/events/${existing}` },
        { id: "4", method: "GET", url: `/users/${ANN}/events/junk` },
        { id: "5", method: "POST", url: `/users/${ANN}/calendar/events`, body: {} },
      ],
    },
  });
  assert.equal(answer.status, 200);
  assert.deepEqual(
    answer.body.responses.map((r) => r.id),
    ["5", "4", "3", "2", "1"],
    "answers may come in any order (here reversed): pair them by id",
  );
  const byId = new Map(answer.body.responses.map((r) => [r.id, r]));
  assert.equal(byId.get("1")!.status, 201);
  assert.equal(byId.get("1")!.body!.subject, "made in a batch");
  assert.match(byId.get("1")!.headers["content-type"], /application\/json/);
  assert.equal(byId.get("2")!.status, 200);
  assert.equal(byId.get("2")!.body!.subject, "there");
  assert.equal(byId.get("3")!.status, 204, "relative urls work with or without the leading slash");
  assert.equal(byId.get("4")!.status, 400);
  assert.equal((byId.get("4")!.body!.error as { code: string }).code, "ErrorInvalidIdMalformed");
  assert.equal(byId.get("5")!.status, 400, "a body without Content-Type");
  assert.deepEqual(s.ann.events().map((e) => e.fields.subject), ["made in a batch"]);
});

// Same page: "JSON batch requests are currently limited to 20 individual requests"; a
// batch beyond that is refused as a whole with 400.
Deno.test("$batch: more than 20 requests answers 400 and runs none", async () => {
  await using s = await setup();
  const requests = Array.from({ length: 21 }, (_, i) => create(String(i + 1), `e${i}`));
  const answer = await s.call("POST", "/$batch", { body: { requests } });
  assert.equal(answer.status, 400);
  assert.equal(s.ann.events().length, 0);
  const twenty = await s.call<BatchAnswer>("POST", "/$batch", {
    body: { requests: requests.slice(0, 20) },
  });
  assert.equal(twenty.body.responses.filter((r) => r.status === 201).length, 20);
});

// Same page, "Sequencing requests with the dependsOn property": a request runs after the
// ones it depends on; if one of them fails, the dependent request fails with 424 Failed
// Dependency.
Deno.test("$batch: a request whose dependency failed answers 424", async () => {
  await using s = await setup();
  const answer = await s.call<BatchAnswer>("POST", "/$batch", {
    body: {
      requests: [
        { id: "1", method: "GET", url: `/users/${ANN}/events/AAMkAGRTw==` },
        create("2", "after a failure", { dependsOn: ["1"] }),
        create("3", "independent"),
      ],
    },
  });
  const statuses = answer.body.responses.map((r) => [r.id, r.status]).sort();
  assert.deepEqual(statuses, [["1", 400], ["2", 424], ["3", 201]]);
  assert.deepEqual(s.ann.events().map((e) => e.fields.subject), ["independent"]);
});

// "Microsoft Graph throttling guidance", https://learn.microsoft.com/en-us/graph/throttling:
// 429 Too Many Requests with a Retry-After header (seconds); inside a batch each request is
// evaluated against the limits on its own, so the batch answers 200 while single responses
// carry 429 and their own Retry-After. Outlook's limits apply per app and mailbox
// ("Microsoft Graph service-specific throttling limits", https://learn.microsoft.com/en-us/graph/throttling-limits).
Deno.test("throttling: 429 with Retry-After after N requests, per mailbox, and inside $batch", async () => {
  await using s = await setup();
  s.graph.addMailbox("bob@contoso.com");
  const view = (upn: string) =>
    `/users/${upn}/calendarView?startDateTime=2026-12-01&endDateTime=2026-12-02`;
  s.graph.throttle({ after: 2, count: 1, retryAfterSeconds: 7 });
  assert.equal((await s.call("GET", view(ANN))).status, 200);
  assert.equal((await s.call("GET", view(ANN))).status, 200);
  const throttled = await s.call("GET", view(ANN));
  assert.equal(throttled.status, 429);
  assert.equal(throttled.headers.get("retry-after"), "7");
  const error = throttled.body.error as Record<string, unknown>;
  assert.ok(error.code && error.message && error.innerError);
  assert.equal((await s.call("GET", view(ANN))).status, 200);

  s.graph.throttle({ mailbox: "bob@contoso.com", count: 2 });
  assert.equal((await s.call("GET", view(ANN))).status, 200);
  assert.equal((await s.call("GET", view("bob@contoso.com"))).status, 429);

  const batch = await s.call<BatchAnswer>("POST", "/$batch", {
    body: {
      requests: [
        { id: "a", method: "GET", url: view(ANN) },
        { id: "b", method: "GET", url: view("bob@contoso.com") },
      ],
    },
  });
  assert.equal(batch.status, 200);
  const [a, b] = ["a", "b"].map((id) => batch.body.responses.find((r) => r.id === id)!);
  assert.deepEqual([a.status, b.status], [200, 429]);
  assert.equal(b.headers["retry-after"], "1");
});

// "Microsoft Graph error responses", https://learn.microsoft.com/en-us/graph/errors: 503
// Service Unavailable, "you may repeat the request after a delay, the length of which may
// be specified in a Retry-After header"; injected failures of the k-th request use any
// status and code a test needs.
Deno.test("faults: 503 with Retry-After, and the k-th request failed on purpose", async () => {
  await using s = await setup();
  const cal = `/users/${ANN}/calendar`;
  s.graph.throttle({ status: 503, retryAfterSeconds: 3 });
  const unavailable = await s.call("GET", cal);
  assert.equal(unavailable.status, 503);
  assert.equal(unavailable.headers.get("retry-after"), "3");
  s.graph.failRequest(2, { status: 500, code: "ErrorInternalServerError" });
  assert.equal((await s.call("GET", cal)).status, 200);
  const failed = await s.call("GET", cal);
  assert.equal(failed.status, 500);
  assert.equal((failed.body.error as { code: string }).code, "ErrorInternalServerError");
  assert.equal((await s.call("GET", cal)).status, 200);
});

// Not a documented behaviour but a network one: the batch is carried out, then the
// connection drops halfway through the answer, so a client cannot know which requests
// took effect (the case transactionId exists for, "event resource type").
Deno.test("faults: a connection killed mid-batch leaves the writes done and the answer unreadable", async () => {
  await using s = await setup();
  s.graph.killNextBatch();
  const response = await fetch(`${s.graph.graphUrl}/$batch`, {
    method: "POST",
    headers: { authorization: `Bearer ${s.token}`, "content-type": "application/json" },
    body: JSON.stringify({
      requests: [
        create("1", "written", {
          body: {
            ...utcEvent("written", "2026-12-01T09:00:00", "2026-12-01T10:00:00"),
            transactionId: "t-1",
          },
        }),
      ],
    }),
  });
  await assert.rejects(response.text());
  assert.equal(s.ann.events().length, 1);
  const retry = await s.call<BatchAnswer>("POST", "/$batch", {
    body: {
      requests: [
        create("1", "written", {
          body: {
            ...utcEvent("written", "2026-12-01T09:00:00", "2026-12-01T10:00:00"),
            transactionId: "t-1",
          },
        }),
      ],
    },
  });
  assert.equal(retry.body.responses[0].status, 201);
  assert.equal(s.ann.events().length, 1, "the retry with the same transactionId made no copy");
});

// The counter a benchmark reads: every request by kind, those inside a batch included.
Deno.test("counter: requests counted by kind, batch members included", async () => {
  await using s = await setup();
  s.graph.resetRequests();
  await s.call("GET", `/users/${ANN}/calendarView?startDateTime=2026-12-01&endDateTime=2026-12-02`);
  await s.call("POST", "/$batch", { body: { requests: [create("1", "a"), create("2", "b")] } });
  assert.deepEqual(s.graph.countRequests(), { calendarView: 1, batch: 1, createEvent: 2 });
  const members = s.graph.requests.filter((r) => r.batch !== null);
  assert.deepEqual(members.map((r) => [r.kind, r.mailbox, r.status]), [
    ["createEvent", ANN, 201],
    ["createEvent", ANN, 201],
  ]);
});

// Fault injection, not Graph behaviour: held `$batch` requests let a test stop a client at a
// known point of its writes (the first batch carried out, its answer not yet sent, later
// batches not yet carried out), without racing a timer.
Deno.test("faults: held batches: the first carried out with its answer held, later ones wait", async () => {
  await using s = await setup();
  const hold = s.graph.holdBatches();
  const send = (subject: string) =>
    s.call<BatchAnswer>("POST", "/$batch", { body: { requests: [create("1", subject)] } });
  const first = send("first");
  await hold.carriedOut;
  const second = send("second");
  // Once the stand-in has logged the second batch it waits at the hold.
  await until(
    "the second batch arrives",
    10_000,
    () => s.graph.requests.filter((r) => r.kind === "batch").length === 2,
  );
  assert.deepEqual(s.ann.events().map((e) => e.fields.subject), ["first"]);
  hold.release();
  assert.equal((await first).body.responses[0].status, 201);
  assert.equal((await second).body.responses[0].status, 201);
  assert.deepEqual(s.ann.events().map((e) => e.fields.subject).sort(), ["first", "second"]);
  // Held for another mailbox only, Ann's batches go through.
  const other = s.graph.holdBatches("bob@contoso.com");
  assert.equal((await send("third")).body.responses[0].status, 201);
  other.release();
});
