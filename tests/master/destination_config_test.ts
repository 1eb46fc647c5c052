import assert from "node:assert/strict";
import {
  DestinationConfigError,
  loadDestinationConfigs,
  sourceFilter,
} from "../../master/destinations/config.ts";

async function withFile(content: unknown, fn: (path: string) => Promise<void>) {
  const path = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(path, typeof content === "string" ? content : JSON.stringify(content));
    await fn(path);
  } finally {
    await Deno.remove(path);
  }
}

Deno.test("destinations: none configured is fine", async () => {
  assert.deepEqual(await loadDestinationConfigs({}), []);
});

Deno.test("destinations: CALDAV_* variables give one CalDAV destination", async () => {
  const [d] = await loadDestinationConfigs({
    CALDAV_URL: "https://mail.example.com/SOGo/dav/ann/Calendar/personal/",
    CALDAV_USERNAME: "ann",
    CALDAV_PASSWORD: "secret",
  });
  assert.deepEqual(d, {
    id: "caldav",
    type: "caldav",
    url: "https://mail.example.com/SOGo/dav/ann/Calendar/personal/",
    username: "ann",
    password: "secret",
    sources: ["*"],
    credentials_setting: "CALDAV_USERNAME and CALDAV_PASSWORD",
  });
});

Deno.test("destinations: a file lists several, with source filters and env: passwords", async () => {
  await withFile([
    { id: "team", type: "caldav", url: "http://nc.example/dav/team/", sources: ["office-pc-1/*"] },
    {
      id: "boss",
      type: "caldav",
      url: "http://nc.example/dav/boss/",
      username: "boss",
      password: "env:BOSS_PW",
    },
  ], async (path) => {
    const configs = await loadDestinationConfigs({ DESTINATIONS_FILE: path, BOSS_PW: "pw" });
    assert.deepEqual(configs.map((c) => [c.id, c.password, c.sources]), [
      ["team", "", ["office-pc-1/*"]],
      ["boss", "pw", ["*"]],
    ]);
  });
});

Deno.test("destinations: each mistake names where it is and what to do", async () => {
  const cases: [unknown, RegExp][] = [
    [
      [{ id: "x", type: "exchange", url: "http://a/" }],
      /\[0\]\.type: unknown destination type "exchange"; supported: caldav, ews/,
    ],
    [[{ id: "x", type: "caldav", url: "ftp://a/" }], /\[0\]\.url: expected an http\(s\) URL/],
    [
      [{ id: "x", type: "caldav", url: "http://a/", sources: ["office pc"] }],
      /\[0\]\.sources\[0\]: expected "agent_id\/source_id"/,
    ],
    [
      [{ id: "x", type: "caldav", url: "http://a/" }, {
        id: "x",
        type: "caldav",
        url: "http://b/",
      }],
      /\[1\]\.id: id "x" is used twice/,
    ],
    [
      [{ id: "x", type: "caldav", url: "http://a/", password: "env:MISSING" }],
      /\[0\]\.password: environment variable MISSING is not set/,
    ],
    ["[{", /not valid JSON/],
  ];
  for (const [content, message] of cases) {
    await withFile(content, async (path) => {
      await assert.rejects(
        loadDestinationConfigs({ DESTINATIONS_FILE: path }),
        (err) =>
          err instanceof DestinationConfigError && message.test(err.message) &&
          err.message.includes(path),
      );
    });
  }
  await assert.rejects(
    loadDestinationConfigs({ CALDAV_URL: "not a url" }),
    /CALDAV_URL: expected an http\(s\) URL/,
  );
  await assert.rejects(
    loadDestinationConfigs({ DESTINATIONS_FILE: "/nonexistent/d.json" }),
    /cannot read it/,
  );
});

Deno.test("source filters match agent and source patterns", () => {
  const f = sourceFilter(["office-pc-1/*", "*/team", "vpn/ews"]);
  assert.equal(f("office-pc-1", "anything"), true);
  assert.equal(f("other", "team"), true);
  assert.equal(f("vpn", "ews"), true);
  assert.equal(f("vpn", "ics"), false);
  assert.equal(sourceFilter(["*"])("a", "b"), true);
  assert.equal(sourceFilter(["pc"])("pc", "b"), true);
});

Deno.test("destinations: the documented EXCHANGE_* variables give one EWS destination", async () => {
  const [d] = await loadDestinationConfigs({
    EXCHANGE_SERVER_URL: "https://mail.corp.example/EWS/Exchange.asmx",
    EXCHANGE_USERNAME: "CORP\\calsync",
    EXCHANGE_PASSWORD: "secret",
    EXCHANGE_AUTH: "NTLM",
    EXCHANGE_CALENDAR: "Consolidated",
    EXCHANGE_CA_FILE: "/etc/calsync/corp-ca.pem",
    EXCHANGE_TIMEZONE: "Europe/Vienna",
  });
  assert.deepEqual(d, {
    id: "exchange",
    type: "ews",
    url: "https://mail.corp.example/EWS/Exchange.asmx",
    username: "CORP\\calsync",
    password: "secret",
    auth: "ntlm",
    calendar: "Consolidated",
    ca_file: "/etc/calsync/corp-ca.pem",
    tls_insecure: false,
    timezone: "Europe/Vienna",
    sources: ["*"],
    credentials_setting: "EXCHANGE_USERNAME and EXCHANGE_PASSWORD",
  });
});

Deno.test("destinations: EXCHANGE_* mistakes name the variable", async () => {
  const base = { EXCHANGE_SERVER_URL: "https://mail/EWS/Exchange.asmx", EXCHANGE_USERNAME: "u" };
  const cases: [Record<string, string>, RegExp][] = [
    [{ ...base, EXCHANGE_AUTH: "kerberos" }, /: EXCHANGE_AUTH: expected "basic" or "ntlm"/],
    [{ ...base, EXCHANGE_SERVER_URL: "mail.corp" }, /: EXCHANGE_SERVER_URL: expected the EWS URL/],
    [{ ...base, EXCHANGE_USERNAME: "" }, /: EXCHANGE_USERNAME: the Exchange user is required/],
    [{ ...base, EXCHANGE_TLS_INSECURE: "maybe" }, /EXCHANGE_TLS_INSECURE must be true or false/],
    [
      { ...base, EXCHANGE_TIMEZONE: "CET+1" },
      /: EXCHANGE_TIMEZONE: expected an IANA time zone such as Europe\/Berlin/,
    ],
  ];
  for (const [env, message] of cases) {
    await assert.rejects(loadDestinationConfigs(env), message);
  }
});

Deno.test("destinations: an EWS destination in the file", async () => {
  await withFile([{
    id: "exch",
    type: "ews",
    url: "https://mail.corp.example/EWS/Exchange.asmx",
    username: "calsync@corp.example",
    password: "env:EWS_PW",
    tls_insecure: true,
  }], async (path) => {
    const [d] = await loadDestinationConfigs({ DESTINATIONS_FILE: path, EWS_PW: "pw" });
    assert.deepEqual(d, {
      id: "exch",
      type: "ews",
      url: "https://mail.corp.example/EWS/Exchange.asmx",
      username: "calsync@corp.example",
      password: "pw",
      auth: "basic",
      calendar: "",
      ca_file: "",
      tls_insecure: true,
      timezone: "",
      sources: ["*"],
      credentials_setting:
        `the username and password of the entry "exch" in DESTINATIONS_FILE ${path}`,
    });
  });
});
