import assert from "node:assert/strict";
import {
  DestinationConfigError,
  loadDestinationConfigs,
  sourceFilter,
} from "../../master/destinations/config.ts";
import { configDisplayUrl } from "../../master/destinations/mod.ts";

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
    assert.deepEqual(configs.map((c) => [c.id, "password" in c ? c.password : null, c.sources]), [
      ["team", "", ["office-pc-1/*"]],
      ["boss", "pw", ["*"]],
    ]);
  });
});

Deno.test("destinations: each mistake names where it is and what to do", async () => {
  const cases: [unknown, RegExp][] = [
    [
      [{ id: "x", type: "exchange", url: "http://a/" }],
      /\[0\]\.type: unknown destination type "exchange"; supported: caldav, ews, microsoft365/,
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

const APP = {
  tenant_id: "9188040d-6c67-4c5b-b112-36a304b66dad",
  client_id: "00000000-0000-4000-8000-000000000001",
};

Deno.test("destinations: a microsoft365 destination in the file, its secret from env:", async () => {
  await withFile([{
    id: "m365",
    type: "microsoft365",
    ...APP,
    client_secret: "env:GRAPH_SECRET",
    mailbox: "calendar@contoso.com",
    calendar_name: "Team",
  }], async (path) => {
    const [d] = await loadDestinationConfigs({ DESTINATIONS_FILE: path, GRAPH_SECRET: "s~3" });
    assert.deepEqual(d, {
      id: "m365",
      type: "microsoft365",
      ...APP,
      client_secret: "s~3",
      certificate_file: "",
      authority: "https://login.microsoftonline.com",
      graph_url: "https://graph.microsoft.com",
      mailbox: "calendar@contoso.com",
      calendar_name: "Team",
      timezone: "",
      sources: ["*"],
      credentials_setting: `the client_secret (and tenant_id, client_id) of the entry "m365" ` +
        `in DESTINATIONS_FILE ${path}`,
      settings_prefix: `DESTINATIONS_FILE ${path}: [0].`,
    });
    assert.equal(
      configDisplayUrl(d),
      "https://graph.microsoft.com/v1.0/users/calendar%40contoso.com/calendar#Team",
    );
  });
});

Deno.test("destinations: microsoft365 mistakes name the field and the fix", async () => {
  const base = { id: "m", type: "microsoft365", ...APP, mailbox: "cal@contoso.com" };
  const cases: [unknown, RegExp][] = [
    [base, /\[0\]\.client_secret: set client_secret .* or certificate_file/],
    [
      { ...base, client_secret: "s", certificate_file: "/k.pem" },
      /\[0\]\.certificate_file: set either client_secret or certificate_file, not both/,
    ],
    [{ ...base, client_secret: "s", tenant_id: "x" }, /\[0\]\.tenant_id: expected the Directory/],
    [{ ...base, client_secret: "s", client_id: "" }, /\[0\]\.client_id: expected the Application/],
    [
      { ...base, client_secret: "s", mailbox: "cal" },
      /\[0\]\.mailbox: expected the user principal/,
    ],
    [{ ...base, client_secret: "s", timezone: "CET+1" }, /\[0\]\.timezone: expected an IANA/],
    [{ ...base, client_secret: "env:NOPE" }, /\[0\]\.client_secret: environment variable NOPE/],
    [
      { ...base, client_secret: "s", graph_url: "https://graph.microsoft.com/v1.0" },
      /\[0\]\.graph_url: expected the Microsoft Graph host/,
    ],
  ];
  for (const [entry, message] of cases) {
    await withFile([entry], async (path) => {
      await assert.rejects(loadDestinationConfigs({ DESTINATIONS_FILE: path }), message);
    });
  }
});

Deno.test("destinations: Exchange Online's EWS URL points to microsoft365", async () => {
  const online = "https://outlook.office365.com/EWS/Exchange.asmx";
  await assert.rejects(
    loadDestinationConfigs({ EXCHANGE_SERVER_URL: online, EXCHANGE_USERNAME: "u@contoso.com" }),
    /EXCHANGE_SERVER_URL: this is Exchange Online .* use the "microsoft365" type/,
  );
  await withFile([{ id: "x", type: "ews", url: online, username: "u" }], async (path) => {
    await assert.rejects(
      loadDestinationConfigs({ DESTINATIONS_FILE: path }),
      /\[0\]\.url: this is Exchange Online .*"microsoft365"/,
    );
  });
});
