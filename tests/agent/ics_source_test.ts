import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FetchLike } from "../../agent/http.ts";
import { IcsSettings, icsSource } from "../../agent/sources/ics.ts";
import type { SourceContext } from "../../agent/sources/mod.ts";

const FIXTURES = fileURLToPath(new URL("../fixtures/agent", import.meta.url));
const TEAM_ICS = await Deno.readTextFile(join(FIXTURES, "team.ics"));
const WINDOW = { start: "2026-03-01T00:00:00Z", end: "2026-06-01T00:00:00Z" };

function context(fetch: FetchLike = () => Promise.reject(new Error("no network"))): SourceContext {
  return { window: WINDOW, configDir: FIXTURES, fetch };
}

function summary(occurrences: { uid: string; start: string; end: string }[]) {
  return occurrences.map((o) => [o.uid, o.start, o.end]).sort();
}

/** The fixture inside the window: a timed event, an all-day one, a weekly series in CEST. */
const EXPECTED = [
  ["offsite@calsync.test", "2026-04-03", "2026-04-04"],
  ["standup@calsync.test", "2026-03-30T08:00:00Z", "2026-03-30T08:15:00Z"],
  ["weekly@calsync.test", "2026-04-01T08:00:00Z", "2026-04-01T09:00:00Z"],
  ["weekly@calsync.test", "2026-04-08T08:00:00Z", "2026-04-08T09:00:00Z"],
  ["weekly@calsync.test", "2026-04-15T08:00:00Z", "2026-04-15T09:00:00Z"],
];

Deno.test("ics source: a path is read relative to the config folder, inside the window", async () => {
  const settings = IcsSettings.parse({ path: "team.ics" });
  const reading = await icsSource.read(settings, context());
  assert.deepEqual(summary(reading.occurrences), EXPECTED);
  assert.equal(icsSource.describe(settings), "file team.ics");
});

Deno.test("ics source: a missing file and a non-calendar file name the file", async () => {
  await assert.rejects(icsSource.read(IcsSettings.parse({ path: "absent.ics" }), context()), {
    message: `${join(FIXTURES, "absent.ics")}: file not found`,
  });
  const notIcs = fileURLToPath(import.meta.url);
  await assert.rejects(icsSource.read(IcsSettings.parse({ path: notIcs }), context()), (e) => {
    assert.ok(e instanceof Error);
    assert.ok(e.message.startsWith(`${notIcs}: `), e.message);
    return true;
  });
});

Deno.test("ics source: a URL is fetched with HTTP Basic credentials", async () => {
  const seen: { auth: string | null; accept: string | null }[] = [];
  await using server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, (req) => {
    seen.push({ auth: req.headers.get("authorization"), accept: req.headers.get("accept") });
    return new URL(req.url).pathname === "/team.ics"
      ? new Response(TEAM_ICS, { headers: { "content-type": "text/calendar" } })
      : new Response("nope", { status: 404, statusText: "Not Found" });
  });
  const base = `http://127.0.0.1:${server.addr.port}`;
  const settings = IcsSettings.parse({
    url: `${base}/team.ics`,
    username: "anna",
    password: "s3cr€t",
  });
  const reading = await icsSource.read(settings, { ...context(), fetch: (r) => fetch(r) });
  assert.deepEqual(summary(reading.occurrences), EXPECTED);
  assert.equal(seen[0].auth, `Basic ${btoa("anna:s3cr\u00e2\u0082\u00act")}`);
  assert.match(seen[0].accept!, /^text\/calendar/);

  const missing = IcsSettings.parse({
    url: `http://anna:pw1234@127.0.0.1:${server.addr.port}/x.ics`,
  });
  const error = await icsSource.read(missing, { ...context(), fetch: (r) => fetch(r) }).catch((e) =>
    e
  );
  assert.equal(error.message, `GET ${base}/x.ics: HTTP 404 Not Found`);
  assert.equal(seen[1].auth, `Basic ${btoa("anna:pw1234")}`, "URL credentials move to the header");
  assert.equal(icsSource.describe(missing), `${base}/x.ics`);
});

Deno.test("ics source: 401 hints at the credentials; webcal:// is fetched over https", async () => {
  const urls: string[] = [];
  const denied: FetchLike = (req) => {
    urls.push(req.url);
    return Promise.resolve(new Response("", { status: 401, statusText: "Unauthorized" }));
  };
  const settings = IcsSettings.parse({ url: "webcal://cal.example.test/team.ics" });
  await assert.rejects(icsSource.read(settings, context(denied)), {
    message:
      "GET https://cal.example.test/team.ics: HTTP 401 Unauthorized; check username and password",
  });
  assert.deepEqual(urls, ["https://cal.example.test/team.ics"]);
});

Deno.test("ics source: a server that does not answer in time fails with the URL", async () => {
  const hang: FetchLike = (req) =>
    new Promise((_, reject) =>
      req.signal.addEventListener("abort", () => reject(req.signal.reason))
    );
  const settings = IcsSettings.parse({
    url: "https://slow.example.test/a.ics",
    timeout_seconds: 0.05,
  });
  await assert.rejects(icsSource.read(settings, context(hang)), {
    message: "GET https://slow.example.test/a.ics: no answer within 0.05 s",
  });
});

Deno.test("ics source: settings refuse credentials on a file and unknown time zones", () => {
  const credentials = IcsSettings.safeParse({ path: "a.ics", username: "x" });
  assert.equal(
    credentials.error?.issues[0].message,
    '"username" and "password" apply only to a "url"; remove them',
  );
  const zone = IcsSettings.safeParse({ path: "a.ics", floating_timezone: "Mars/Olympus" });
  assert.equal(zone.error?.issues[0].message, "expected an IANA time zone such as Europe/Berlin");
});

Deno.test("ics source: a line folded inside a UTF-8 character arrives intact", async () => {
  const path = fileURLToPath(new URL("../fixtures/ics/non-ascii-folded.ics", import.meta.url));
  const reading = await icsSource.read(IcsSettings.parse({ path }), context());
  assert.deepEqual(reading.occurrences.map((o) => o.title), ["Réunion café ☕ – 会議 🎉"]);
  assert.match(reading.occurrences[0].description, /合同会議です。よろしくお願いします。/);
});
