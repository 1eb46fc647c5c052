/**
 * Failures of Microsoft Graph and of the Entra token endpoint, with a message that names
 * the setting to fix or the step of the app registration that is missing.
 *
 * The codes are those of "Microsoft Entra authentication and authorization error codes"
 * (https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes) and
 * "Microsoft Graph error responses and resource types"
 * (https://learn.microsoft.com/en-us/graph/errors); the access-policy denial is described
 * in "Limit Microsoft Graph application permissions to specific Exchange Online mailboxes"
 * (https://learn.microsoft.com/en-us/graph/auth-limit-mailbox-access).
 *
 * @module
 */
import type { RemoteErrorKind } from "../remote_error.ts";

/** A failed Graph or token call. */
export class GraphError extends Error {
  /** The HTTP status; 0 when no answer came. */
  readonly status: number;
  /** Graph's `error.code`, Entra's `AADSTS…` code or `error`, or `unreachable`. */
  readonly code: string;
  /** What the caller can do about it. */
  readonly kind: RemoteErrorKind;
  /** How long the server asked to wait before trying again, when it said. */
  readonly retryAfterMs: number | null;

  /** Creates the error; `message` is shown to the admin as it is. */
  constructor(
    status: number,
    code: string,
    kind: RemoteErrorKind,
    message: string,
    retryAfterMs: number | null = null,
  ) {
    super(message);
    this.name = "GraphError";
    this.status = status;
    this.code = code;
    this.kind = kind;
    this.retryAfterMs = retryAfterMs;
  }
}

/** The names of the settings an error may point to, as the config spells them. */
export interface GraphSettingNames {
  /** The refused credential, e.g. `calendar_sources[2].client_secret`. */
  credentials: string;
  tenantId: string;
  clientId: string;
  mailbox: string;
}

/** The application permission a caller needs: reading or writing calendars. */
export type CalendarPermission = "Calendars.Read" | "Calendars.ReadWrite";

/** The settings named beside `credentials` (same prefix, e.g. `calendar_sources[2].`). */
export function siblingSettings(credentials: string): GraphSettingNames {
  const prefix = credentials.slice(0, credentials.lastIndexOf(".") + 1);
  return {
    credentials,
    tenantId: `${prefix}tenant_id`,
    clientId: `${prefix}client_id`,
    mailbox: `${prefix}mailbox`,
  };
}

/** What a status means when the body gives nothing better. */
export function kindOfStatus(status: number): RemoteErrorKind {
  if (status === 401 || status === 403) return "unauthorized";
  if (status === 404 || status === 410) return "not_found";
  if (status === 412 || status === 409) return "precondition_failed";
  if (status === 429 || status === 503) return "throttled";
  if (status >= 500) return "server";
  return "rejected";
}

/** The body of a token endpoint error, as far as it is read. */
export interface TokenErrorBody {
  error?: string;
  error_description?: string;
  error_codes?: number[];
}

/** The first line of Entra's description (the rest is trace and correlation ids). */
function firstLine(text: string | undefined): string {
  return (text ?? "").split(/\r?\n/)[0].trim();
}

/** A refusal of the token endpoint, naming the setting to fix. */
export function tokenError(
  status: number,
  body: TokenErrorBody,
  names: GraphSettingNames,
  retryAfterMs: number | null,
): GraphError {
  const aadsts = body.error_codes?.[0];
  const said = firstLine(body.error_description) || `HTTP ${status}`;
  const code = aadsts === undefined ? body.error ?? `HTTP ${status}` : `AADSTS${aadsts}`;
  const fail = (kind: RemoteErrorKind, fix: string) =>
    new GraphError(
      status,
      code,
      kind,
      `Microsoft Entra refused the token request: ${fix} (${said})`,
    );
  switch (aadsts) {
    case 7000215:
      return fail(
        "unauthorized",
        `the client secret is wrong or expired: set ${names.credentials} to the Value (not ` +
          "the Secret ID) of a current secret under Certificates & secrets of the app registration",
      );
    case 7000222:
      return fail(
        "unauthorized",
        `the client secret has expired: add a new secret under Certificates & secrets and ` +
          `put its Value in ${names.credentials}`,
      );
    case 700016:
      return fail(
        "unauthorized",
        `no app with this ${names.clientId} in the tenant of ${names.tenantId}: copy both ` +
          "from the Overview page of the app registration",
      );
    case 90002:
    case 900023:
      return fail(
        "unauthorized",
        `no such tenant: set ${names.tenantId} to the Directory (tenant) ID from the app ` +
          "registration's Overview page (and check authority for a national cloud)",
      );
    case 700027:
    case 700023:
    case 700024:
    case 700021:
    case 50027:
      return fail(
        "unauthorized",
        `the certificate was refused: upload the certificate of ${names.credentials} under ` +
          "Certificates & secrets of the app registration (and check the machine's clock)",
      );
    case 1002012:
    case 70011:
      return fail("rejected", "the scope was refused: check graph_url (no /v1.0, no path)");
  }
  if (status === 429 || status >= 500) {
    const kind: RemoteErrorKind = status === 429 || status === 503 ? "throttled" : "server";
    return new GraphError(
      status,
      code,
      kind,
      `Microsoft Entra did not issue a token (${said}); will try again later`,
      retryAfterMs,
    );
  }
  if (body.error === "invalid_client" || status === 401) {
    return fail("unauthorized", `the credentials were refused: check ${names.credentials}`);
  }
  return fail("rejected", `check ${names.tenantId}, ${names.clientId} and ${names.credentials}`);
}

/** Graph's error object. */
export interface GraphErrorBody {
  error?: { code?: string; message?: string };
}

/** Whether a 403 comes from an application access policy or RBAC for Applications. */
function deniedByPolicy(message: string): boolean {
  return /AccessPolicy|RAOP|Blocked by tenant|application access policy/i.test(message);
}

/** What a caller of Graph was doing, for the message. */
export interface GraphCallContext {
  names: GraphSettingNames;
  permission: CalendarPermission;
  /** The mailbox the call concerned, when it names one. */
  mailbox: string | null;
}

/** A failed Graph call, naming the fix where the code says what it is. */
export function graphError(
  status: number,
  body: GraphErrorBody | null,
  call: GraphCallContext,
  retryAfterMs: number | null,
): GraphError {
  const code = body?.error?.code ?? `HTTP ${status}`;
  const said = body?.error?.message ?? "";
  const quoted = said ? ` (${code}: ${said})` : ` (${code})`;
  const who = call.mailbox ?? "the mailbox";
  const make = (kind: RemoteErrorKind, text: string) =>
    new GraphError(status, code, kind, `${text}${quoted}`, retryAfterMs);
  if (status === 403 && code === "ErrorAccessDenied" && deniedByPolicy(said)) {
    return make(
      "unauthorized",
      `${who} is outside the app's application access policy: an Exchange admin lets the app ` +
        `reach it with New-ApplicationAccessPolicy (or RBAC for Applications), or set ` +
        `${call.names.mailbox} to a mailbox the policy allows`,
    );
  }
  if (status === 403) {
    return make(
      "unauthorized",
      `the app may not ${call.permission === "Calendars.Read" ? "read" : "write"} calendars ` +
        `of ${who}: in the app registration add API permissions → Microsoft Graph → ` +
        `Application permissions → ${call.permission}, then Grant admin consent`,
    );
  }
  if (status === 404 && code === "ErrorInvalidUser") {
    return make(
      "not_found",
      `no mailbox ${who} in the tenant: set ${call.names.mailbox} to the user principal name ` +
        "of a user with an Exchange Online mailbox",
    );
  }
  if (status === 401) {
    return make(
      "unauthorized",
      `Microsoft Graph refused the app's token: check ${call.names.tenantId} and authority`,
    );
  }
  const kind = kindOfStatus(status);
  if (kind === "throttled") return make(kind, "Microsoft Graph asked to wait");
  return make(kind, `Microsoft Graph answered ${status}`);
}
