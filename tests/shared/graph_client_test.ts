/**
 * The shared Graph client against the Graph stand-in: tokens (secret and certificate,
 * cached, renewed on a 401), errors that name the setting to fix, waits on 429/503,
 * paging and `$batch`.
 */
import assert from "node:assert/strict";
import { createGraphClient, type GraphClientOptions } from "../../shared/graph/client.ts";
import { GraphError } from "../../shared/graph/errors.ts";
import { GraphAppSettings } from "../../shared/graph/settings.ts";
import { EXCHANGE_ONLINE_HINT, isExchangeOnlineEws } from "../../shared/exchange_online.ts";
import { isRetryable } from "../../shared/remote_error.ts";
import { type AppPermission, type FakeGraph, startFakeGraph } from "../fakes/graph/mod.ts";

const ANN = "ann@contoso.com";
const SETTING = "calendar_sources[2].client_secret";
const fixture = (name: string) =>
  Deno.readTextFileSync(new URL(`../fixtures/graph/${name}`, import.meta.url));

interface Setup extends AsyncDisposable {
  graph: FakeGraph;
  options: GraphClientOptions;
  waits: number[];
}

async function setup(permissions: AppPermission[] = ["Calendars.Read"]): Promise<Setup> {
  const graph = await startFakeGraph();
  const app = graph.addApp({ permissions });
  graph.addMailbox(ANN, { timeZone: "W. Europe Standard Time" });
  const waits: number[] = [];
  return {
    graph,
    waits,
    options: {
      tenantId: graph.tenantId,
      clientId: app.clientId,
      clientSecret: app.secret,
      authority: graph.origin,
      graphUrl: graph.origin,
      credentialsSetting: SETTING,
      sleep: (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
    },
    [Symbol.asyncDispose]: () => graph.close(),
  };
}

async function failure(call: () => Promise<unknown>): Promise<GraphError> {
  try {
    await call();
  } catch (error) {
    if (error instanceof GraphError) return error;
    throw error;
  }
  throw new Error("expected a GraphError");
}

/** The public key of the fixture's private key, as the app registration would hold it. */
async function publicKeyOf(pem: string): Promise<CryptoKey> {
  const der = Uint8Array.from(
    atob(pem.match(/-----BEGIN PRIVATE KEY-----([^-]*)-----END/)![1].replace(/\s+/g, "")),
    (c) => c.charCodeAt(0),
  );
  const algorithm = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
  const key = await crypto.subtle.importKey("pkcs8", der, algorithm, true, ["sign"]);
  const { kty, n, e } = await crypto.subtle.exportKey("jwk", key);
  return crypto.subtle.importKey("jwk", { kty, n, e }, algorithm, true, ["verify"]);
}

Deno.test("Graph client: one token serves many calls; a token Graph calls expired is renewed once", async () => {
  await using s = await setup();
  const client = createGraphClient(s.options);
  await client.request("GET", `/users/${ANN}/calendar`);
  await client.request("GET", `/users/${ANN}/calendars`);
  assert.equal(s.graph.countRequests().token, 1);
  // The stand-in's clock moves past the token's life while ours does not: Graph answers
  // 401 InvalidAuthenticationToken, the client asks for one new token and tries again.
  s.graph.advanceClock(3600);
  const answer = await client.request<{ id: string }>("GET", `/users/${ANN}/calendar`);
  assert.equal(answer.status, 200);
  assert.equal(s.graph.countRequests().token, 2);
  assert.equal(client.tokenRequestCount, 2);
  assert.equal(client.requestCount, 4, "three calls and the one refused");
});

Deno.test("Graph client: a token is renewed before expires_in runs out", async () => {
  await using s = await setup();
  let now = Date.now();
  const client = createGraphClient({ ...s.options, now: () => now });
  await client.request("GET", `/users/${ANN}/calendar`);
  now += 3000 * 1000;
  s.graph.advanceClock(3000);
  await client.request("GET", `/users/${ANN}/calendar`);
  assert.equal(s.graph.countRequests().token, 1, "still well inside its 3599 s");
  now += 400 * 1000;
  s.graph.advanceClock(400);
  await client.request("GET", `/users/${ANN}/calendar`);
  assert.equal(s.graph.countRequests().token, 2, "renewed five minutes before expiry");
  assert.equal(s.graph.requests.filter((r) => r.status === 401).length, 0);
});

Deno.test("Graph client: a certificate's client assertion (PKCS#8 and PKCS#1 keys)", async () => {
  for (const file of ["app_certificate.pem", "app_certificate_pkcs1.pem"]) {
    await using graph = await startFakeGraph();
    const pem = fixture(file);
    const app = graph.addApp({
      permissions: ["Calendars.Read"],
      certificate: await publicKeyOf(fixture("app_certificate.pem")),
    });
    graph.addMailbox(ANN);
    const client = createGraphClient({
      tenantId: graph.tenantId,
      clientId: app.clientId,
      certificatePem: pem,
      authority: graph.origin,
      graphUrl: graph.origin,
      credentialsSetting: "calendar_sources[0].certificate_file",
    });
    assert.equal((await client.request("GET", `/users/${ANN}/calendar`)).status, 200, file);
    const token = graph.requests.find((r) => r.kind === "token");
    assert.equal(token?.status, 200);
  }
});

Deno.test("Graph client: a certificate the app registration does not hold is refused, naming the file setting", async () => {
  await using graph = await startFakeGraph();
  const pair = await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true,
    ["sign", "verify"],
  );
  const app = graph.addApp({ permissions: ["Calendars.Read"], certificate: pair.publicKey });
  graph.addMailbox(ANN);
  const client = createGraphClient({
    tenantId: graph.tenantId,
    clientId: app.clientId,
    certificatePem: fixture("app_certificate.pem"),
    authority: graph.origin,
    graphUrl: graph.origin,
    credentialsSetting: "calendar_sources[0].certificate_file",
  });
  const error = await failure(() => client.request("GET", `/users/${ANN}/calendar`));
  assert.equal(error.kind, "unauthorized");
  assert.match(error.message, /calendar_sources\[0\]\.certificate_file/);
});

Deno.test("Graph client: a wrong secret names the setting and is asked once, never again in that call", async () => {
  await using s = await setup();
  const client = createGraphClient({ ...s.options, clientSecret: "Typo~in-the-secret" });
  const error = await failure(() => client.request("GET", `/users/${ANN}/calendar`));
  assert.equal(error.code, "AADSTS7000215");
  assert.equal(error.kind, "unauthorized");
  assert.equal(isRetryable(error.kind), false);
  assert.match(error.message, /calendar_sources\[2\]\.client_secret/);
  assert.doesNotMatch(error.message, /Typo~in/, "the secret itself is never shown");
  assert.equal(s.graph.countRequests().token, 1);
  assert.deepEqual(s.waits, []);
});

Deno.test("Graph client: an unknown app names client_id and tenant_id; an unknown tenant names tenant_id", async () => {
  await using s = await setup();
  const app = createGraphClient({
    ...s.options,
    clientId: "11111111-2222-4333-8444-555555555555",
  });
  const unknownApp = await failure(() => app.request("GET", `/users/${ANN}/calendar`));
  assert.equal(unknownApp.code, "AADSTS700016");
  assert.match(unknownApp.message, /calendar_sources\[2\]\.client_id/);
  assert.match(unknownApp.message, /calendar_sources\[2\]\.tenant_id/);

  const tenant = createGraphClient({ ...s.options, tenantId: "fabrikam.example" });
  const unknownTenant = await failure(() => tenant.request("GET", `/users/${ANN}/calendar`));
  assert.equal(unknownTenant.code, "AADSTS90002");
  assert.equal(unknownTenant.kind, "unauthorized");
  assert.match(unknownTenant.message, /calendar_sources\[2\]\.tenant_id/);
  assert.equal(s.graph.countRequests().token, 2);
});

Deno.test("Graph client: a missing permission names it, the application type and admin consent", async () => {
  await using s = await setup(["MailboxSettings.Read"]);
  const reader = createGraphClient(s.options);
  const read = await failure(() => reader.request("GET", `/users/${ANN}/calendar`));
  assert.equal(read.status, 403);
  assert.equal(read.kind, "unauthorized");
  assert.match(read.message, /Application permissions → Calendars\.Read,/);
  assert.match(read.message, /Grant admin consent/);

  const writer = createGraphClient({ ...s.options, permission: "Calendars.ReadWrite" });
  const write = await failure(() => writer.request("GET", `/users/${ANN}/calendar`));
  assert.match(write.message, /Calendars\.ReadWrite/);
});

Deno.test("Graph client: a mailbox outside the application access policy says so", async () => {
  await using s = await setup();
  s.graph.addMailbox("ceo@contoso.com");
  s.graph.setAccessPolicy(s.options.clientId, { accessRight: "RestrictAccess", mailboxes: [ANN] });
  const client = createGraphClient(s.options);
  const error = await failure(() => client.request("GET", "/users/ceo@contoso.com/calendar"));
  assert.equal(error.kind, "unauthorized");
  assert.match(error.message, /ceo@contoso\.com is outside the app's application access policy/);
  assert.match(error.message, /New-ApplicationAccessPolicy/);
  assert.match(error.message, /RBAC for Applications/);
  assert.match(error.message, /calendar_sources\[2\]\.mailbox/);
});

Deno.test("Graph client: an unknown mailbox names the mailbox setting", async () => {
  await using s = await setup();
  const client = createGraphClient({ ...s.options, mailboxSetting: "destinations[0].mailbox" });
  const error = await failure(() => client.request("GET", "/users/nobody@contoso.com/calendar"));
  assert.equal(error.code, "ErrorInvalidUser");
  assert.equal(error.kind, "not_found");
  assert.match(error.message, /destinations\[0\]\.mailbox/);
});

Deno.test("Graph client: 429 and 503 are tried again after their Retry-After", async () => {
  await using s = await setup();
  const client = createGraphClient(s.options);
  s.graph.throttle({ count: 2, retryAfterSeconds: 7 });
  s.graph.throttle({ count: 1, status: 503, retryAfterSeconds: 3 });
  const answer = await client.request("GET", `/users/${ANN}/calendar`);
  assert.equal(answer.status, 200);
  assert.deepEqual(s.waits, [7000, 7000, 3000]);
  assert.deepEqual(
    s.graph.requests.filter((r) => r.kind !== "token").map((r) => r.status),
    [429, 429, 503, 200],
  );
});

Deno.test("Graph client: throttling past the retries, or a wait past the cap, is handed to the caller", async () => {
  await using s = await setup();
  const client = createGraphClient(s.options);
  s.graph.throttle({ count: 5, retryAfterSeconds: 2 });
  const error = await failure(() => client.request("GET", `/users/${ANN}/calendar`));
  assert.equal(error.kind, "throttled");
  assert.equal(error.retryAfterMs, 2000);
  assert.deepEqual(s.waits, [2000, 2000, 2000, 2000], "four tries after the first");

  s.waits.length = 0;
  s.graph.throttle({ count: 1, retryAfterSeconds: 600 });
  const long = await failure(() => client.request("GET", `/users/${ANN}/calendar`));
  assert.equal(long.retryAfterMs, 600_000);
  assert.deepEqual(s.waits, [], "ten minutes is longer than the client waits");
});

Deno.test("Graph client: pages follow @odata.nextLink to the end", async () => {
  await using s = await setup();
  const ann = s.graph.addMailbox("bob@contoso.com");
  for (let i = 0; i < 25; i++) {
    const hour = String(i % 10).padStart(2, "0");
    ann.addEvent({
      subject: `Event ${i}`,
      start: { dateTime: `2026-12-0${1 + Math.floor(i / 10)}T${hour}:00:00`, timeZone: "UTC" },
      end: { dateTime: `2026-12-0${1 + Math.floor(i / 10)}T${hour}:30:00`, timeZone: "UTC" },
    });
  }
  const client = createGraphClient(s.options);
  const sizes: number[] = [];
  const subjects: string[] = [];
  for await (
    const page of client.pages<{ subject: string }>(
      "/users/bob@contoso.com/calendarView?startDateTime=2026-12-01T00:00:00Z&endDateTime=2026-12-04T00:00:00Z",
    )
  ) {
    sizes.push(page.value.length);
    subjects.push(...page.value.map((e) => e.subject));
  }
  assert.deepEqual(sizes, [10, 10, 5]);
  assert.equal(new Set(subjects).size, 25);
});

Deno.test("Graph client: delta pages end with the deltaLink", async () => {
  await using s = await setup();
  const client = createGraphClient(s.options);
  const pages = [];
  for await (
    const page of client.pages(
      `/users/${ANN}/calendarView/delta?startDateTime=2026-12-01T00:00:00Z&endDateTime=2026-12-04T00:00:00Z`,
    )
  ) pages.push(page);
  assert.equal(pages.length, 1);
  assert.match(pages[0].deltaLink ?? "", /\$deltatoken=/);
});

Deno.test("Graph client: $batch results come in request order although the stand-in answers reversed", async () => {
  await using s = await setup();
  s.graph.addMailbox("bob@contoso.com");
  const client = createGraphClient(s.options);
  const results = await client.batch([
    { id: "a", method: "GET", url: `/users/${ANN}/calendar` },
    { id: "b", method: "GET", url: "/users/nobody@contoso.com/calendar" },
    { id: "c", method: "GET", url: `${s.options.graphUrl}/v1.0/users/bob@contoso.com/calendar` },
  ]);
  assert.deepEqual(results.map((r) => [r.id, r.status]), [["a", 200], ["b", 404], ["c", 200]]);
  const error = client.errorOf(results[1], "/users/nobody@contoso.com/calendar");
  assert.equal(error.code, "ErrorInvalidUser");
  assert.match(error.message, /calendar_sources\[2\]\.mailbox/);
});

Deno.test("Graph client: $batch requests answered 429 go again as a smaller batch after their Retry-After", async () => {
  await using s = await setup();
  const client = createGraphClient(s.options);
  s.graph.throttle({ after: 1, count: 2, retryAfterSeconds: 4 });
  const results = await client.batch(
    ["a", "b", "c"].map((id) => ({ id, method: "GET", url: `/users/${ANN}/calendar` })),
  );
  assert.deepEqual(results.map((r) => r.status), [200, 200, 200]);
  assert.deepEqual(s.waits, [4000]);
  const batches = s.graph.requests.filter((r) => r.kind === "batch").length;
  const inner = s.graph.requests.filter((r) => r.batch !== null).map((r) => r.status);
  assert.equal(batches, 2);
  assert.deepEqual(inner, [200, 429, 429, 200, 200], "the second batch held only the two");
});

Deno.test("Graph client: more than 20 requests in one $batch is the caller's mistake", async () => {
  await using s = await setup();
  const client = createGraphClient(s.options);
  const requests = Array.from({ length: 21 }, (_, i) => ({
    id: String(i),
    method: "GET",
    url: `/users/${ANN}/calendar`,
  }));
  await assert.rejects(() => client.batch(requests), RangeError);
});

Deno.test("GraphAppSettings: exactly one of client_secret and certificate_file, hosts without /v1.0", () => {
  const ids = {
    tenant_id: "9188040d-6c67-4c5b-b112-36a304b66dad",
    client_id: "00000000-0000-4000-8000-000000000001",
  };
  const ok = GraphAppSettings.parse({ ...ids, client_secret: "s" });
  assert.equal(ok.authority, "https://login.microsoftonline.com");
  assert.equal(ok.graph_url, "https://graph.microsoft.com");
  const issues = (input: unknown) =>
    GraphAppSettings.safeParse(input).error?.issues.map((i) => [i.path.join("."), i.message]);
  assert.match(String(issues(ids)), /client_secret,set client_secret .* or certificate_file/);
  assert.match(
    String(issues({ ...ids, client_secret: "s", certificate_file: "app.pem" })),
    /certificate_file,set either client_secret or certificate_file, not both/,
  );
  assert.match(
    String(issues({ ...ids, client_secret: "s", graph_url: "https://graph.microsoft.com/v1.0" })),
    /graph_url,.*without \/v1\.0/,
  );
  assert.match(
    String(issues({ ...ids, client_id: "my app", client_secret: "s" })),
    /client_id,expected the Application \(client\) ID/,
  );
  assert.equal(
    GraphAppSettings.parse({ ...ids, client_secret: "s", graph_url: "https://graph.microsoft.us/" })
      .graph_url,
    "https://graph.microsoft.us",
  );
});

Deno.test("isExchangeOnlineEws: Exchange Online's EWS hosts, worldwide and sovereign, not on-premises", () => {
  for (
    const url of [
      "https://outlook.office365.com/EWS/Exchange.asmx",
      "https://OUTLOOK.OFFICE.COM/ews/exchange.asmx",
      "https://outlook.office365.us/EWS/Exchange.asmx",
      "https://outlook-dod.office365.us/EWS/Exchange.asmx",
      "https://partner.outlook.cn/EWS/Exchange.asmx",
    ]
  ) assert.equal(isExchangeOnlineEws(url), true, url);
  for (const url of ["https://mail.example.com/EWS/Exchange.asmx", "not a url"]) {
    assert.equal(isExchangeOnlineEws(url), false, url);
  }
  assert.match(EXCHANGE_ONLINE_HINT, /"microsoft365"/);
});
