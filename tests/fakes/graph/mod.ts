/**
 * A stand-in for Microsoft Graph v1.0 and the Microsoft identity platform's token endpoint,
 * for tests of code that reads and writes Microsoft 365 calendars with application
 * permissions. Nothing here reaches Microsoft; it answers as the documentation says Graph
 * answers, limits and quirks included.
 *
 * ```ts
 * await using graph = await startFakeGraph();
 * const app = graph.addApp({ permissions: ["Calendars.ReadWrite"] });
 * const ann = graph.addMailbox("ann@contoso.com", { timeZone: "W. Europe Standard Time" });
 * ann.addEvent({ subject: "Stand-up", start: {...}, end: {...} });
 * // point the code under test at graph.graphUrl and graph.tokenUrl() with app.clientId/app.secret
 * ```
 *
 * Modelled:
 * - token endpoint `POST /{tenant}/oauth2/v2.0/token`: client credentials with a secret or
 *   an RS256 client assertion; scope `https://graph.microsoft.com/.default`; Entra's error
 *   bodies (`invalid_client` AADSTS7000215, `unauthorized_client` AADSTS700016,
 *   `invalid_request` AADSTS90002/900144, `invalid_scope` AADSTS1002012); opaque tokens
 *   that live 3599 s on the stand-in's clock (`advanceClock`);
 * - users named in paths by UPN or object id;
 * - every Graph call checks its bearer token (401 `InvalidAuthenticationToken`), the user
 *   (404 `ErrorInvalidUser`), the application permission (403 `ErrorAccessDenied`) and the
 *   application access policy (403 `ErrorAccessDenied`, "Access to OData is disabled…");
 * - `/users/{upn}/mailboxSettings` (timeZone as a Windows or IANA name), `/calendars`,
 *   `/calendar`;
 * - calendarView with `$top`, `$skip` paging behind `@odata.nextLink`, `$select`,
 *   `$expand`/`$filter` of single-value extended properties, `Prefer: outlook.timezone`
 *   and `odata.maxpagesize`, series expansion (`occurrence`, `exception`, deleted
 *   occurrences left out), all-day events kept at midnight of their own zone, `isCancelled`;
 * - calendarView delta with skip and delta tokens, `@removed`, refused query options,
 *   410 for unknown tokens (`expireDeltaTokens` forces the resync path);
 * - events create (idempotent by `transactionId`), get, update (an occurrence becomes an
 *   exception), delete (one occurrence or a whole series), `@odata.etag`/`If-Match` → 412,
 *   `ErrorInvalidIdMalformed`, `ErrorItemNotFound`, OData's refusal of unknown properties,
 *   meeting messages to attendees recorded in `sentMessages`;
 * - `$batch` with up to 20 requests, `dependsOn` (424 after a failed dependency), per-request
 *   throttling;
 * - faults: 429/503 with `Retry-After` after N requests or for one mailbox, failure of the
 *   k-th request, a connection killed in the middle of a `$batch` answer, `$batch` requests
 *   held (the first carried out with its answer held, later ones before being carried out);
 * - a log of requests by kind (`requests`, `countRequests`) for benchmarks.
 *
 * Not modelled: delegated (user) tokens and JWT access tokens (tokens are opaque), the
 * beta endpoint, `$orderby`/`$search` and `$filter` forms other than the extended-property
 * one (400 naming the form), calendar groups, group calendars, attachments, online
 * meetings, meeting responses, real rate limits (only injected throttling), delta
 * reporting an event that moved out of its window (the client sees nothing), `Location`
 * headers. `$batch` answers come in reverse order (the documentation allows any).
 *
 * Where the pages are silent, the stand-in chose, and says so here: `If-Match` on events
 * (412 with Exchange's `ErrorIrresolvableConflict`, the general OData rule); the texts of
 * `ErrorInvalidUser`, of the access-policy denial and of the delta option refusal
 * (`ErrorInvalidUrlQuery`) are Exchange Online's as commonly reported, not quoted from a
 * page; the 400 texts for a batch over 20, a changed `transactionId` and an unknown
 * `$filter` form are the stand-in's own; delta refuses `$top` (the pages steer page size to
 * `odata.maxpagesize`); a `Prefer: outlook.timezone` naming no zone is ignored (UTC).
 *
 * Pages followed (Microsoft Learn, Graph v1.0):
 * - event resource type: https://learn.microsoft.com/en-us/graph/api/resources/event?view=graph-rest-1.0
 * - List calendarView: https://learn.microsoft.com/en-us/graph/api/user-list-calendarview?view=graph-rest-1.0
 * - event: delta: https://learn.microsoft.com/en-us/graph/api/event-delta?view=graph-rest-1.0
 * - Get incremental changes to events in a calendar view: https://learn.microsoft.com/en-us/graph/delta-query-events
 * - Use delta query: https://learn.microsoft.com/en-us/graph/delta-query-overview
 * - Create event: https://learn.microsoft.com/en-us/graph/api/user-post-events?view=graph-rest-1.0
 * - Update event: https://learn.microsoft.com/en-us/graph/api/event-update?view=graph-rest-1.0
 * - Delete event: https://learn.microsoft.com/en-us/graph/api/event-delete?view=graph-rest-1.0
 * - JSON batching: https://learn.microsoft.com/en-us/graph/json-batching
 * - Throttling guidance: https://learn.microsoft.com/en-us/graph/throttling
 * - Service-specific throttling limits: https://learn.microsoft.com/en-us/graph/throttling-limits
 * - Error responses: https://learn.microsoft.com/en-us/graph/errors
 * - Paging: https://learn.microsoft.com/en-us/graph/paging
 * - singleValueLegacyExtendedProperty get: https://learn.microsoft.com/en-us/graph/api/singlevaluelegacyextendedproperty-get?view=graph-rest-1.0
 * - Get mailboxSettings: https://learn.microsoft.com/en-us/graph/api/user-get-mailboxsettings?view=graph-rest-1.0
 * - Client credentials flow: https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow
 * - Entra error codes: https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes
 * - Limiting application permissions to mailboxes: https://learn.microsoft.com/en-us/graph/auth-limit-mailbox-access
 * - Resolve authorization errors: https://learn.microsoft.com/en-us/graph/resolve-auth-errors
 *
 * @module
 */
import type { Event } from "@microsoft/microsoft-graph-types";
import type { RequestKind, RequestRecord } from "./context.ts";
import {
  type AccessPolicy,
  type AppPermission,
  type AppRegistration,
  Directory,
} from "./directory.ts";
import { readEventBody, timesOf } from "./event_body.ts";
import type { BatchHold, FailureOptions, ThrottleOptions } from "./faults.ts";
import { GraphServer } from "./server.ts";
import { type Mailbox, type SentMessage, Store, type StoredEvent } from "./store.ts";
import { instantOf } from "./zones.ts";

export type {
  AccessPolicy,
  AppPermission,
  BatchHold,
  FailureOptions,
  RequestKind,
  RequestRecord,
  SentMessage,
  StoredEvent,
  ThrottleOptions,
};

/** How to start the stand-in. */
export interface FakeGraphOptions {
  /** The tenant id (a GUID); default a fixed one. */
  tenantId?: string;
  /** The tenant's domains, which also name it at the token endpoint; default `contoso.com`. */
  domains?: string[];
  /** The stand-in's clock at start (epoch ms); default the real time. */
  nowMs?: number;
}

/** An app registration as a test sets it up. */
export interface AppOptions {
  clientId?: string;
  /** A client secret value; default a generated one (set `certificate` for assertions only). */
  secret?: string;
  /** The public key of an uploaded certificate (RSASSA-PKCS1-v1_5, SHA-256). */
  certificate?: CryptoKey;
  permissions: AppPermission[];
  accessPolicy?: AccessPolicy;
}

/** The credentials of a registered app. */
export interface FakeApp {
  clientId: string;
  secret: string;
}

/** A test's handle on one mailbox. */
export interface FakeMailbox {
  upn: string;
  /** The user's object id, which names the mailbox in paths as well as the UPN. */
  userId: string;
  /** The default calendar's id. */
  calendarId: string;
  /** Adds a calendar; returns its id. */
  addCalendar(name: string): string;
  /** Stores an event as if created by its owner, without meeting messages; returns its id. */
  addEvent(event: Event, calendarId?: string): string;
  /** Changes one occurrence of a series (it becomes an exception). */
  changeOccurrence(seriesId: string, originalStart: string, changes: Event): void;
  /** Deletes one occurrence of a series (`originalStart` an ISO instant). */
  deleteOccurrence(seriesId: string, originalStart: string): void;
  /** The stored events (singles and series masters, not expanded). */
  events(): readonly StoredEvent[];
  /** Sets `mailboxSettings.timeZone` (Windows or IANA name). */
  setTimeZone(name: string): void;
}

/** The running stand-in. */
export interface FakeGraph extends AsyncDisposable {
  /** `http://127.0.0.1:PORT` (the login authority and Graph host in one). */
  origin: string;
  /** `http://127.0.0.1:PORT/v1.0` */
  graphUrl: string;
  tenantId: string;
  /** The token endpoint of the tenant (or of `tenant`, a domain or id). */
  tokenUrl(tenant?: string): string;
  addApp(options: AppOptions): FakeApp;
  /** Replaces an app's access policy (null removes it). */
  setAccessPolicy(clientId: string, policy: AccessPolicy | null): void;
  addMailbox(upn: string, options?: { timeZone?: string }): FakeMailbox;
  /** Every request, oldest first (a `$batch` and each request inside it). */
  readonly requests: readonly RequestRecord[];
  /** Requests by kind. */
  countRequests(): Partial<Record<RequestKind, number>>;
  resetRequests(): void;
  /** Meeting messages Exchange would have sent. */
  readonly sentMessages: readonly SentMessage[];
  throttle(options: ThrottleOptions): void;
  failRequest(k: number, failure: FailureOptions): void;
  killNextBatch(): void;
  /**
   * Holds `$batch` requests (only those with a request to `mailbox`, when given): the first
   * is carried out and its answer held, later ones wait before they are carried out, until
   * `release()`.
   */
  holdBatches(mailbox?: string): BatchHold;
  /** Moves the stand-in's clock (token expiry) forward. */
  advanceClock(seconds: number): void;
  /** Makes every delta token issued so far answer 410 Gone. */
  expireDeltaTokens(): void;
  close(): Promise<void>;
}

function mailboxHandle(mailbox: Mailbox, userId: string): FakeMailbox {
  const series = (id: string) => {
    const event = [...mailbox.events.values()].find((e) => e.id === id);
    if (!event?.fields.recurrence) throw new Error(`no series ${id} in ${mailbox.upn}`);
    return event;
  };
  return {
    upn: mailbox.upn,
    userId,
    calendarId: mailbox.defaultCalendar.id,
    addCalendar: (name) => mailbox.addCalendar(name),
    addEvent(event, calendarId = mailbox.defaultCalendar.id) {
      const { fields, extended } = readEventBody(event as Record<string, unknown>);
      const { startMs, endMs } = timesOf(fields);
      const stored = mailbox.insert(calendarId, fields, extended ?? [], startMs, endMs);
      if (fields.transactionId) mailbox.transactions.set(fields.transactionId, stored.serial);
      return stored.id;
    },
    changeOccurrence(seriesId, originalStart, changes) {
      const event = series(seriesId);
      const start = Date.parse(originalStart);
      const { fields } = readEventBody(changes as Record<string, unknown>);
      const startMs = fields.start ? instantOf(fields.start) : start;
      const endMs = fields.end ? instantOf(fields.end) : startMs + event.endMs - event.startMs;
      const exception = { fields, startMs, endMs, changeKey: "", modifiedMs: 0, seq: 0 };
      event.exceptions.set(start, exception);
      mailbox.touch(exception);
    },
    deleteOccurrence: (seriesId, originalStart) =>
      mailbox.removeOccurrence(series(seriesId), Date.parse(originalStart)),
    events: () => [...mailbox.events.values()],
    setTimeZone: (name) => void (mailbox.timeZone = name),
  };
}

/** Starts the stand-in on a free loopback port. */
export function startFakeGraph(options: FakeGraphOptions = {}): Promise<FakeGraph> {
  let offsetMs = (options.nowMs ?? Date.now()) - Date.now();
  const now = () => Date.now() + offsetMs;
  const tenantId = options.tenantId ?? "9188040d-6c67-4c5b-b112-36a304b66dad";
  const directory = new Directory(tenantId, options.domains ?? ["contoso.com"]);
  const store = new Store(now);
  const server = new GraphServer(directory, store, now);
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, server.handle);
  const origin = `http://127.0.0.1:${http.addr.port}`;
  server.origin = origin;
  let closing: Promise<void> | null = null;
  const close = () => closing ??= http.shutdown();
  let apps = 0;
  return Promise.resolve({
    origin,
    graphUrl: `${origin}/v1.0`,
    tenantId,
    tokenUrl: (tenant = tenantId) => `${origin}/${tenant}/oauth2/v2.0/token`,
    addApp(app) {
      apps++;
      const registration: AppRegistration = {
        clientId: app.clientId ?? `00000000-0000-4000-8000-${String(apps).padStart(12, "0")}`,
        secrets: [app.secret ?? `secret~${crypto.randomUUID()}`],
        certificates: app.certificate ? [app.certificate] : [],
        permissions: app.permissions,
        accessPolicy: app.accessPolicy ?? null,
      };
      directory.apps.set(registration.clientId, registration);
      return { clientId: registration.clientId, secret: registration.secrets[0] };
    },
    setAccessPolicy(clientId, policy) {
      directory.apps.get(clientId)!.accessPolicy = policy;
    },
    addMailbox(upn, mailboxOptions = {}) {
      const userId = directory.addUser(upn);
      return mailboxHandle(store.mailbox(upn, mailboxOptions.timeZone ?? "UTC"), userId);
    },
    get requests() {
      return server.requests;
    },
    countRequests() {
      const counts: Partial<Record<RequestKind, number>> = {};
      for (const r of server.requests) counts[r.kind] = (counts[r.kind] ?? 0) + 1;
      return counts;
    },
    resetRequests: () => void (server.requests.length = 0),
    get sentMessages() {
      return store.sent;
    },
    throttle: (throttle) => server.faults.throttle(throttle),
    failRequest: (k, failure) => server.faults.failRequest(k, failure),
    killNextBatch: () => server.faults.killNextBatch(),
    holdBatches: (mailbox) => server.faults.holdBatches(mailbox),
    advanceClock: (seconds) => void (offsetMs += seconds * 1000),
    expireDeltaTokens: () => void server.deltaGeneration++,
    close,
    [Symbol.asyncDispose]: close,
  });
}
