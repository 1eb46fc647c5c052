/**
 * Why an EWS exchange failed, in the vocabulary of `shared/remote_error.ts`, with
 * messages that say what to change. Messages name the URL, the user and the settings to
 * fix, never a password. The settings are named by the caller ({@link SettingNames}),
 * because the master reads environment variables and the agent reads config keys.
 *
 * @module
 */
import { retryAfterMs } from "../retry_after.ts";
import type { RemoteErrorKind } from "../remote_error.ts";

/** What the user calls each connection setting, for messages that say what to change. */
export interface SettingNames {
  url: string;
  username: string;
  password: string;
  auth: string;
  caFile: string;
  tlsInsecure: string;
  /** How to configure a CalDAV calendar instead, followed by its URL: `CALDAV_URL=`. */
  calDav: string;
}

/** A failed EWS exchange, request or item. */
export class EwsError extends Error {
  /**
   * @param kind what went wrong
   * @param message a readable sentence naming the URL or item, never a password
   * @param retryAfterMs how long the server asked to wait (`BackOffMilliseconds`,
   *   `Retry-After`)
   * @param responseCode the EWS response code (`ErrorItemNotFound`), when there was one
   * @param details the named values of the response's `MessageXml`, such as the
   *   `PolicyLimit` of `ErrorExceededFindCountLimit`
   */
  constructor(
    readonly kind: RemoteErrorKind,
    message: string,
    readonly retryAfterMs: number | null = null,
    readonly responseCode: string | null = null,
    readonly details: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = "EwsError";
  }
}

/** One HTTP answer, read in full. Header names are lower case. */
export interface HttpAnswer {
  status: number;
  statusText: string;
  headers: Record<string, string>;
  body: string;
}

const PRECONDITION = new Set([
  "ErrorIrresolvableConflict",
  "ErrorInvalidChangeKey",
  "ErrorStaleObject",
]);
const NOT_FOUND = new Set([
  "ErrorItemNotFound",
  "ErrorFolderNotFound",
  "ErrorNonExistentMailbox",
  "ErrorCalendarOccurrenceIsDeletedFromRecurrence",
]);
const UNAUTHORIZED = new Set([
  "ErrorAccessDenied",
  "ErrorImpersonateUserDenied",
  "ErrorMailboxLogonFailed",
]);
/** Codes of a server that failed for now, as opposed to one that refused the request. */
const SERVER = new Set([
  "ErrorInternalServerError",
  "ErrorInternalServerTransientError",
  "ErrorMailboxStoreUnavailable",
  "ErrorMailboxMoveInProgress",
  "ErrorConnectionFailed",
  "ErrorTimeoutExpired",
  "ErrorExceededConnectionCount",
]);

/** The kind of an EWS response code. */
export function responseCodeKind(code: string): RemoteErrorKind {
  if (code === "ErrorServerBusy") return "throttled";
  if (PRECONDITION.has(code)) return "precondition_failed";
  if (NOT_FOUND.has(code)) return "not_found";
  if (UNAUTHORIZED.has(code)) return "unauthorized";
  if (SERVER.has(code)) return "server";
  return "rejected";
}

/**
 * The error for an EWS response code, of a request or of one item. `ErrorServerBusy`
 * carries the wait the server asked for (`BackOffMilliseconds`).
 */
export function responseCodeError(
  code: string,
  what: string,
  text: string,
  backOffMs: number | null = null,
  details: Readonly<Record<string, string>> = {},
): EwsError {
  const reason = text.trim() === "" ? code : `${code}: ${text.trim()}`;
  if (code === "ErrorServerBusy") {
    const wait = backOffMs === null ? "" : `; retry after ${Math.ceil(backOffMs / 1000)} s`;
    return new EwsError(
      "throttled",
      `${what}: Exchange is busy (${reason})${wait}`,
      backOffMs,
      code,
    );
  }
  return new EwsError(responseCodeKind(code), `${what}: ${reason}`, null, code, details);
}

/** Node's TLS error codes that mean "this certificate is not trusted here". */
const TLS_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "CERT_UNTRUSTED",
]);

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: "connection refused (is the host and port right, and the server running?)",
  ENOTFOUND: "the host name does not resolve (DNS)",
  EAI_AGAIN: "the host name could not be resolved now (DNS)",
  ECONNRESET: "the connection was reset",
  EHOSTUNREACH: "no route to the host",
  ENETUNREACH: "the network is unreachable",
  ETIMEDOUT: "the connection timed out",
};

/**
 * The error for an exchange that got no HTTP answer: refused, DNS, timeout or a TLS
 * certificate this side does not trust (then the message names the CA setting).
 */
export function networkError(error: unknown, url: string, names: SettingNames): EwsError {
  const host = new URL(url).host;
  const code = String((error as { code?: unknown })?.code ?? "");
  const message = (error as Error)?.message ?? String(error);
  if (TLS_CODES.has(code) || /certificate|UnknownIssuer|NotValidForName/i.test(message)) {
    return new EwsError(
      "unreachable",
      `the TLS certificate of ${host} is not trusted (${message}); set ${names.caFile} to ` +
        `your CA's PEM file (or, at your own risk, ${names.tlsInsecure}=true)`,
    );
  }
  const reason = NETWORK_REASONS[code] ?? message;
  return new EwsError("unreachable", `cannot reach ${host}: ${reason}`);
}

/** Whether an answer is a SOAP envelope, the only thing an EWS endpoint sends. */
export function isSoap(answer: HttpAnswer): boolean {
  const type = answer.headers["content-type"] ?? "";
  return /xml/i.test(type) && /<([\w-]+:)?Envelope[\s>]/.test(answer.body);
}

/** The text of the first element named `name` (any prefix), or null. */
function elementText(xml: string, name: string): string | null {
  const match = new RegExp(`<(?:[\\w-]+:)?${name}(?:\\s[^>]*)?>([^<]*)<`).exec(xml);
  return match ? decodeXmlText(match[1]) : null;
}

function decodeXmlText(text: string): string {
  return text
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, "&");
}

/** `BackOffMilliseconds` from a fault's or response's `MessageXml`, or null. */
export function backOffFrom(xml: string): number | null {
  const match = /Name="BackOffMilliseconds"[^>]*>\s*(\d+)\s*</.exec(xml);
  return match ? Number(match[1]) : null;
}

/** The authentication schemes a 401 offers, from `WWW-Authenticate`. */
function offeredSchemes(answer: HttpAnswer): string {
  const header = answer.headers["www-authenticate"] ?? "";
  const schemes = [...header.matchAll(/(?:^|,)\s*([A-Za-z][\w-]*)(?=\s|,|$)/g)]
    .map((m) => m[1])
    .filter((scheme, i, all) => all.indexOf(scheme) === i);
  return schemes.length > 0 ? schemes.join(", ") : "no scheme named";
}

/** `HTTP 404 Not Found, text/html`: what an answer was, for messages. */
function describe(answer: HttpAnswer): string {
  const type = (answer.headers["content-type"] ?? "no content type").split(";")[0].trim();
  return `HTTP ${answer.status} ${answer.statusText}`.trim() + `, ${type}`;
}

/** Who is asking where, for messages about an answer. */
export interface AnswerContext {
  /** The configured EWS URL, without credentials. */
  url: string;
  username: string;
  names: SettingNames;
  /**
   * When the host looks like mailcow/SOGo, its CalDAV URL pattern; the message then
   * points there instead of EWS.
   */
  sogoCalDavUrl: string | null;
}

/**
 * The error for an HTTP answer that is not a successful SOAP response: 401, throttling,
 * a SOAP fault, or anything that is not EWS at all (404, an HTML page, a SOGo server).
 */
export function answerError(answer: HttpAnswer, context: AnswerContext): EwsError {
  const { url, username, names } = context;
  if (answer.status === 401) {
    return new EwsError(
      "unauthorized",
      `Exchange rejected the credentials for ${username} at ${url}; check ${names.username}/` +
        `${names.password} and ${names.auth} (the server offers: ${offeredSchemes(answer)})`,
    );
  }
  if (answer.status === 429 || (answer.status === 503 && !isSoap(answer))) {
    const wait = retryAfterMs(answer.headers["retry-after"] ?? null);
    const after = wait === null ? "" : `; retry after ${Math.ceil(wait / 1000)} s`;
    return new EwsError("throttled", `${url} asks to wait (${describe(answer)})${after}`, wait);
  }
  if (isSoap(answer)) {
    const code = elementText(answer.body, "ResponseCode") ??
      elementText(answer.body, "faultcode")?.replace(/^.*:/, "") ?? "ErrorInternalServerError";
    const text = elementText(answer.body, "faultstring") ??
      elementText(answer.body, "MessageText") ?? "";
    return responseCodeError(code, url, text, backOffFrom(answer.body));
  }
  if (context.sogoCalDavUrl !== null) {
    return new EwsError(
      "rejected",
      `${url} is not an EWS endpoint (${describe(answer)}); this looks like mailcow/SOGo, ` +
        `which offers CalDAV, not EWS: use ${names.calDav}${context.sogoCalDavUrl}`,
    );
  }
  const kind = answer.status === 404 ? "not_found" : answer.status >= 500 ? "server" : "rejected";
  return new EwsError(
    kind,
    `${url} is not an EWS endpoint (${describe(answer)}); ${names.url} should end in ` +
      `/EWS/Exchange.asmx`,
  );
}
