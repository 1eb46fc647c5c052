/**
 * The stand-in's token endpoint and the checks every Graph call makes: token, user,
 * permission, application access policy.
 */
import assert from "node:assert/strict";
import { startFakeGraph } from "../graph/mod.ts";
import { ANN, graphCall, NOW_MS, requestToken, setup, tokenFor } from "./helpers.ts";

const SCOPE = "https://graph.microsoft.com/.default";

// "Microsoft identity platform and the OAuth 2.0 client credentials flow",
// https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow:
// the success answer carries token_type Bearer, expires_in and access_token.
Deno.test("token endpoint: a client secret buys a Bearer token with expires_in", async () => {
  await using s = await setup();
  const answer = await requestToken(s.graph, {
    grant_type: "client_credentials",
    client_id: s.app.clientId,
    client_secret: s.app.secret,
    scope: SCOPE,
  });
  assert.equal(answer.status, 200);
  assert.equal(answer.body.token_type, "Bearer");
  assert.equal(answer.body.expires_in, 3599);
  assert.equal(typeof answer.body.access_token, "string");
});

// Same page, "Error response example" (error, error_description, error_codes, timestamp,
// trace_id, correlation_id) and "Microsoft Entra authentication and authorization error
// codes", https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes:
// AADSTS7000215 InvalidClientSecret, AADSTS700016 UnauthorizedClient_DoesNotMatchRequest,
// AADSTS90002 InvalidTenantName, AADSTS1002012 (scope without /.default).
Deno.test("token endpoint: errors as Entra answers them", async () => {
  await using s = await setup();
  const base = { grant_type: "client_credentials", client_id: s.app.clientId, scope: SCOPE };
  const wrongSecret = await requestToken(s.graph, { ...base, client_secret: "nope" });
  assert.equal(wrongSecret.status, 401);
  assert.equal(wrongSecret.body.error, "invalid_client");
  assert.deepEqual(wrongSecret.body.error_codes, [7000215]);
  assert.match(String(wrongSecret.body.error_description), /^AADSTS7000215: Invalid client secret/);
  for (const key of ["timestamp", "trace_id", "correlation_id"]) assert.ok(wrongSecret.body[key]);

  const unknownApp = await requestToken(s.graph, {
    ...base,
    client_id: "11111111-2222-3333-4444-555555555555",
    client_secret: s.app.secret,
  });
  assert.equal(unknownApp.status, 400);
  assert.equal(unknownApp.body.error, "unauthorized_client");
  assert.deepEqual(unknownApp.body.error_codes, [700016]);

  const unknownTenant = await requestToken(
    s.graph,
    { ...base, client_secret: s.app.secret },
    "fabrikam.example",
  );
  assert.equal(unknownTenant.status, 400);
  assert.equal(unknownTenant.body.error, "invalid_request");
  assert.deepEqual(unknownTenant.body.error_codes, [90002]);

  const badScope = await requestToken(s.graph, {
    ...base,
    client_secret: s.app.secret,
    scope: "https://graph.microsoft.com/Calendars.Read",
  });
  assert.equal(badScope.body.error, "invalid_scope");

  const byDomain = await requestToken(
    s.graph,
    { ...base, client_secret: s.app.secret },
    "contoso.com",
  );
  assert.equal(byDomain.status, 200, "a tenant's domain names it as well as its id");
});

function b64url(bytes: Uint8Array | string): string {
  const raw = typeof bytes === "string" ? bytes : String.fromCharCode(...bytes);
  return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function assertion(key: CryptoKey, claims: Record<string, unknown>): Promise<string> {
  const head = b64url(JSON.stringify({ alg: "RS256", typ: "JWT", x5t: "dGVzdA" }));
  const body = b64url(JSON.stringify(claims));
  const signature = await crypto.subtle.sign(
    "RSASSA-PKCS1-v1_5",
    key,
    new TextEncoder().encode(`${head}.${body}`),
  );
  return `${head}.${body}.${b64url(new Uint8Array(signature))}`;
}

// "Microsoft identity platform application authentication certificate credentials",
// https://learn.microsoft.com/en-us/entra/identity-platform/certificate-credentials: the
// assertion is a JWT signed with the certificate's key, aud the token endpoint, iss and sub
// the client id, exp/nbf bounding its validity; sent as client_assertion with
// client_assertion_type urn:ietf:params:oauth:client-assertion-type:jwt-bearer.
Deno.test("token endpoint: a certificate's client assertion buys a token; a bad one does not", async () => {
  await using graph = await startFakeGraph({ nowMs: NOW_MS });
  const pair = await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    false,
    ["sign", "verify"],
  );
  const app = graph.addApp({ permissions: ["Calendars.Read"], certificate: pair.publicKey });
  const nowS = Math.floor(NOW_MS / 1000);
  const claims = {
    aud: graph.tokenUrl(),
    iss: app.clientId,
    sub: app.clientId,
    jti: crypto.randomUUID(),
    nbf: nowS - 60,
    exp: nowS + 600,
  };
  const form = (jwt: string) => ({
    grant_type: "client_credentials",
    client_id: app.clientId,
    scope: SCOPE,
    client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    client_assertion: jwt,
  });
  const good = await requestToken(graph, form(await assertion(pair.privateKey, claims)));
  assert.equal(good.status, 200);
  assert.equal(good.body.token_type, "Bearer");

  const expired = await requestToken(
    graph,
    form(await assertion(pair.privateKey, { ...claims, exp: nowS - 1 })),
  );
  assert.equal(expired.status, 401);
  assert.deepEqual(expired.body.error_codes, [700024]);

  const other = await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    false,
    ["sign", "verify"],
  );
  const forged = await requestToken(graph, form(await assertion(other.privateKey, claims)));
  assert.equal(forged.status, 401);
  assert.equal(forged.body.error, "invalid_client");
  assert.deepEqual(forged.body.error_codes, [700027]);
});

// "Resolve Microsoft Graph authorization errors",
// https://learn.microsoft.com/en-us/graph/resolve-auth-errors: 401 when the token is
// missing, invalid or expired; the error body's shape is that of "Microsoft Graph error
// responses and resource types", https://learn.microsoft.com/en-us/graph/errors.
Deno.test("Graph: 401 InvalidAuthenticationToken without a token, with a bad or expired one", async () => {
  await using s = await setup();
  const path = `/users/${ANN}/calendar`;
  const none = await graphCall(s.graph, null, "GET", path, {
    headers: { "client-request-id": "c0ffee00-0000-4000-8000-000000000001" },
  });
  assert.equal(none.status, 401);
  const error = none.body.error as Record<string, Record<string, string>>;
  assert.equal(error.code, "InvalidAuthenticationToken");
  assert.equal(error.message, "Access token is empty.");
  assert.equal(error.innerError["client-request-id"], "c0ffee00-0000-4000-8000-000000000001");
  assert.equal(error.innerError["request-id"], none.headers.get("request-id"));
  assert.match(error.innerError.date, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
  assert.ok(none.headers.get("www-authenticate")?.startsWith("Bearer"));

  assert.equal((await graphCall(s.graph, "forged", "GET", path)).status, 401);
  assert.equal((await s.call("GET", path)).status, 200);
  s.graph.advanceClock(3600);
  const expired = await s.call("GET", path);
  assert.equal(expired.status, 401);
  assert.match(JSON.stringify(expired.body), /token is expired/);
  const fresh = await tokenFor(s.graph, s.app);
  assert.equal((await graphCall(s.graph, fresh, "GET", path)).status, 200);
});

// "List calendarView", https://learn.microsoft.com/en-us/graph/api/user-list-calendarview?view=graph-rest-1.0
// (Permissions: Application Calendars.Read…) and "Create event",
// https://learn.microsoft.com/en-us/graph/api/user-post-events?view=graph-rest-1.0
// (Application Calendars.ReadWrite): without the permission Exchange answers 403
// ErrorAccessDenied "Access is denied. Check credentials and try again.".
Deno.test("Graph: 403 ErrorAccessDenied without the application permission", async () => {
  await using s = await setup(["Calendars.Read"]);
  const read = await s.call(
    "GET",
    `/users/${ANN}/calendarView?startDateTime=2026-11-30&endDateTime=2026-12-01`,
  );
  assert.equal(read.status, 200);
  const write = await s.call("POST", `/users/${ANN}/calendar/events`, {
    body: {
      subject: "x",
      start: { dateTime: "2026-12-01T09:00:00", timeZone: "UTC" },
      end: { dateTime: "2026-12-01T10:00:00", timeZone: "UTC" },
    },
  });
  assert.equal(write.status, 403);
  assert.deepEqual(
    [
      (write.body.error as Record<string, string>).code,
      (write.body.error as Record<string, string>).message,
    ],
    ["ErrorAccessDenied", "Access is denied. Check credentials and try again."],
  );
  const settings = await s.call("GET", `/users/${ANN}/mailboxSettings`);
  assert.equal(settings.status, 403, "mailboxSettings needs MailboxSettings.Read");
});

// "Limiting application permissions to specific Exchange Online mailboxes",
// https://learn.microsoft.com/en-us/graph/auth-limit-mailbox-access: a RestrictAccess policy
// lets the app reach only its group's mailboxes, a DenyAccess policy all but them; the
// denial is a 403 ErrorAccessDenied.
Deno.test("Graph: an application access policy keeps the app out of other mailboxes", async () => {
  await using s = await setup();
  s.graph.addMailbox("ceo@contoso.com");
  s.graph.setAccessPolicy(s.app.clientId, { accessRight: "RestrictAccess", mailboxes: [ANN] });
  assert.equal((await s.call("GET", `/users/${ANN}/calendar`)).status, 200);
  const ceo = await s.call("GET", "/users/ceo@contoso.com/calendar");
  assert.equal(ceo.status, 403);
  assert.equal((ceo.body.error as Record<string, string>).code, "ErrorAccessDenied");
  assert.match((ceo.body.error as Record<string, string>).message, /AccessPolicy/);

  s.graph.setAccessPolicy(s.app.clientId, { accessRight: "DenyAccess", mailboxes: [ANN] });
  assert.equal((await s.call("GET", `/users/${ANN}/calendar`)).status, 403);
  assert.equal((await s.call("GET", "/users/ceo@contoso.com/calendar")).status, 200);
});

// Exchange's answer for a user the tenant does not have: 404 ErrorInvalidUser ("The
// requested user '…' is invalid."); Graph's errors page lists 404 for a resource that
// does not exist, https://learn.microsoft.com/en-us/graph/errors.
Deno.test("Graph: 404 ErrorInvalidUser for a mailbox the tenant does not have", async () => {
  await using s = await setup();
  // "List calendarView": the path names the user by id or userPrincipalName.
  assert.equal((await s.call("GET", `/users/${s.ann.userId}/calendar`)).status, 200);
  const answer = await s.call(
    "GET",
    "/users/nobody@contoso.com/calendar/calendarView?startDateTime=2026-11-30&endDateTime=2026-12-01",
  );
  assert.equal(answer.status, 404);
  assert.equal((answer.body.error as Record<string, string>).code, "ErrorInvalidUser");
});

// "Get mailboxSettings", https://learn.microsoft.com/en-us/graph/api/user-get-mailboxsettings?view=graph-rest-1.0:
// timeZone is the user's preferred zone, which may be a Windows or an IANA name; the
// single property is read at /mailboxSettings/timeZone as { value }.
Deno.test("mailboxSettings: timeZone as the user set it, Windows or IANA", async () => {
  await using s = await setup();
  const settings = await s.call("GET", `/users/${ANN}/mailboxSettings`);
  assert.equal(settings.body.timeZone, "W. Europe Standard Time");
  s.ann.setTimeZone("Europe/Berlin");
  const zone = await s.call("GET", `/users/${ANN}/mailboxSettings/timeZone`);
  assert.equal(zone.body.value, "Europe/Berlin");
});

// "National cloud deployments", https://learn.microsoft.com/en-us/graph/deployments: each
// cloud's Graph has its own host and the client credentials scope is that host with
// /.default (https://graph.microsoft.us/.default…); the stand-in is the Graph host at its
// origin, so `{origin}/.default` buys a token as the worldwide scope does.
Deno.test("token endpoint: the stand-in's own origin with /.default is a Graph scope", async () => {
  await using s = await setup();
  const base = {
    grant_type: "client_credentials",
    client_id: s.app.clientId,
    client_secret: s.app.secret,
  };
  const own = await requestToken(s.graph, { ...base, scope: `${s.graph.origin}/.default` });
  assert.equal(own.status, 200);
  assert.equal(
    (await graphCall(s.graph, String(own.body.access_token), "GET", `/users/${ANN}/calendar`))
      .status,
    200,
  );
  const other = await requestToken(s.graph, { ...base, scope: "https://example.com/.default" });
  assert.equal(other.body.error, "invalid_scope");
});
