import assert from "node:assert/strict";
import { join } from "node:path";
import { connect } from "../../shared/ews/connect.ts";
import {
  answerError,
  EwsError,
  type HttpAnswer,
  networkError,
  responseCodeError,
  type SettingNames,
} from "../../shared/ews/errors.ts";
import { ews } from "../../shared/ews/library.ts";
import { EXCHANGE_SETTING_NAMES } from "../../master/destinations/ews.ts";

const NAMES: SettingNames = EXCHANGE_SETTING_NAMES;
const URL_ = "https://mail.example.com/EWS/Exchange.asmx";
const context = { url: URL_, username: "ann", names: NAMES, sogoCalDavUrl: null };

function answer(status: number, headers: Record<string, string>, body = ""): HttpAnswer {
  return { status, statusText: "", headers, body };
}

Deno.test("a 401 names the user, the URL, the settings and the schemes offered", () => {
  const error = answerError(
    answer(401, { "www-authenticate": 'Negotiate, NTLM, Basic realm="mail.example.com"' }),
    context,
  );
  assert.equal(error.kind, "unauthorized");
  assert.equal(
    error.message,
    `Exchange rejected the credentials for ann at ${URL_}; check EXCHANGE_USERNAME/` +
      "EXCHANGE_PASSWORD and EXCHANGE_AUTH (the server offers: Negotiate, NTLM, Basic)",
  );
});

Deno.test("an answer that is no SOAP envelope is no EWS endpoint", () => {
  const html = answerError(answer(200, { "content-type": "text/html" }, "<html/>"), context);
  assert.equal(html.kind, "rejected");
  assert.match(html.message, /is not an EWS endpoint \(HTTP 200, text\/html\)/);
  const missing = answerError(answer(404, { "content-type": "text/html" }, "<html/>"), context);
  assert.equal(missing.kind, "not_found");
  assert.match(missing.message, /HTTP 404, text\/html/);
  assert.match(missing.message, /EXCHANGE_SERVER_URL should end in \/EWS\/Exchange\.asmx/);
  const sogo = answerError(answer(404, { "content-type": "text/html" }), {
    ...context,
    sogoCalDavUrl: "https://mail.example.com/SOGo/dav/USER/Calendar/personal/",
  });
  assert.match(
    sogo.message,
    /mailcow\/SOGo, which offers CalDAV, not EWS: use CALDAV_URL=https:\/\/mail\.example\.com\/SOGo\/dav\/USER\/Calendar\/personal\/$/,
  );
});

Deno.test("a SOAP fault ErrorServerBusy is throttled with its BackOffMilliseconds", () => {
  const fault = '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/' +
    'envelope/"><s:Body><s:Fault><faultcode xmlns:a="t">a:ErrorServerBusy</faultcode>' +
    '<faultstring xml:lang="en-US">The server cannot service this request right now.' +
    '</faultstring><detail><e:ResponseCode xmlns:e="e">ErrorServerBusy</e:ResponseCode>' +
    '<t:MessageXml xmlns:t="t"><t:Value Name="BackOffMilliseconds">2500</t:Value>' +
    "</t:MessageXml></detail></s:Fault></s:Body></s:Envelope>";
  const error = answerError(
    answer(500, { "content-type": "text/xml; charset=utf-8" }, fault),
    context,
  );
  assert.equal(error.kind, "throttled");
  assert.equal(error.retryAfterMs, 2500);
  assert.equal(error.responseCode, "ErrorServerBusy");
  assert.match(error.message, /retry after 3 s/);
});

Deno.test("response codes map to the remote error kinds", () => {
  const kinds = Object.fromEntries(
    [
      "ErrorIrresolvableConflict",
      "ErrorInvalidChangeKey",
      "ErrorItemNotFound",
      "ErrorAccessDenied",
      "ErrorInternalServerTransientError",
      "ErrorInvalidPropertySet",
    ].map((code) => [code, responseCodeError(code, "item", "").kind]),
  );
  assert.deepEqual(kinds, {
    ErrorIrresolvableConflict: "precondition_failed",
    ErrorInvalidChangeKey: "precondition_failed",
    ErrorItemNotFound: "not_found",
    ErrorAccessDenied: "unauthorized",
    ErrorInternalServerTransientError: "server",
    ErrorInvalidPropertySet: "rejected",
  });
});

Deno.test("network failures are unreachable; TLS ones name the CA setting", () => {
  const tls = networkError(
    Object.assign(new Error("self-signed certificate"), { code: "DEPTH_ZERO_SELF_SIGNED_CERT" }),
    URL_,
    NAMES,
  );
  assert.equal(tls.kind, "unreachable");
  assert.match(tls.message, /certificate of mail\.example\.com is not trusted/);
  assert.match(
    tls.message,
    /set EXCHANGE_CA_FILE to your CA's PEM file \(or, at your own risk, EXCHANGE_TLS_INSECURE=true\)/,
  );
  const dns = networkError(Object.assign(new Error("x"), { code: "ENOTFOUND" }), URL_, NAMES);
  assert.equal(dns.kind, "unreachable");
  assert.match(dns.message, /cannot reach mail\.example\.com: the host name does not resolve/);
});

/** Runs one EWS call against `url` and returns its error. */
async function failure(url: string, options: Partial<Parameters<typeof connect>[0]> = {}) {
  const connection = await connect({
    url,
    username: "ann@example.com",
    password: "secret-password",
    settingNames: NAMES,
    timeoutMs: 5000,
    ...options,
  });
  try {
    await connection.run(
      "open the calendar",
      (service) => ews.Folder.Bind(service, connection.folderId(ews.WellKnownFolderName.Calendar)),
    );
  } catch (error) {
    assert.ok(error instanceof EwsError, String(error));
    assert.ok(!error.message.includes("secret-password"), "the password never shows");
    return error;
  } finally {
    connection.close();
  }
  assert.fail("the call succeeded");
}

Deno.test("a port nobody listens on is unreachable", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  const error = await failure(`http://127.0.0.1:${port}/EWS/Exchange.asmx`);
  assert.equal(error.kind, "unreachable");
  assert.match(
    error.message,
    new RegExp(`cannot reach 127\\.0\\.0\\.1:${port}: connection refused`),
  );
});

/** A self-signed certificate for localhost, made with openssl; null without openssl. */
async function selfSigned(
  dir: string,
): Promise<{ cert: string; key: string; file: string } | null> {
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  try {
    const { success } = await new Deno.Command("openssl", {
      args: [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost",
        "-keyout",
        key,
        "-out",
        cert,
      ],
      stdout: "null",
      stderr: "null",
    }).output();
    if (!success) return null;
  } catch {
    return null;
  }
  return { cert: await Deno.readTextFile(cert), key: await Deno.readTextFile(key), file: cert };
}

const openssl = await new Deno.Command("openssl", { args: ["version"], stdout: "null" })
  .output().then((o) => o.success, () => false);

Deno.test({
  name: "an untrusted certificate names EXCHANGE_CA_FILE; the CA file or the opt-out get past it",
  ignore: !openssl, // the certificate is made with openssl, which this machine lacks
  async fn() {
    const dir = await Deno.makeTempDir();
    const pair = (await selfSigned(dir))!;
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, cert: pair.cert, key: pair.key, onListen() {} },
      () =>
        new Response("<html>IIS</html>", { status: 404, headers: { "content-type": "text/html" } }),
    );
    try {
      const url = `https://localhost:${server.addr.port}/EWS/Exchange.asmx`;
      const untrusted = await failure(url);
      assert.equal(untrusted.kind, "unreachable");
      assert.match(untrusted.message, /certificate of localhost:\d+ is not trusted/);
      assert.match(untrusted.message, /set EXCHANGE_CA_FILE to your CA's PEM file/);
      assert.match(untrusted.message, /EXCHANGE_TLS_INSECURE=true/);
      // Past TLS, the server's own answer decides: here a 404 page.
      assert.equal((await failure(url, { caFile: pair.file })).kind, "not_found");
      assert.equal((await failure(url, { tlsInsecure: true })).kind, "not_found");
    } finally {
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("a CA file that holds no certificate is refused with the setting's name", async () => {
  const file = await Deno.makeTempFile();
  try {
    await assert.rejects(
      connect({ url: URL_, username: "u", password: "p", caFile: file, settingNames: NAMES }),
      /EXCHANGE_CA_FILE .*: no PEM certificate in it/,
    );
  } finally {
    await Deno.remove(file);
  }
});
