/**
 * What every Graph handler gets (the request, the caller's grant, the tenant and the
 * mailboxes) and gives back (status, headers, JSON body): a plain answer so that `$batch`
 * can embed it as one of its responses.
 *
 * @module
 */
import type { AppPermission, Directory, TokenGrant } from "./directory.ts";
import { badRequest, itemNotFound, malformedId } from "./errors.ts";
import type { Mailbox, Store, StoredCalendar } from "./store.ts";

/** The kinds of request the counter distinguishes. */
export type RequestKind =
  | "token"
  | "calendarView"
  | "delta"
  | "listEvents"
  | "createEvent"
  | "getEvent"
  | "updateEvent"
  | "deleteEvent"
  | "listCalendars"
  | "getCalendar"
  | "mailboxSettings"
  | "batch"
  | "unknown";

/** One Graph request as the log keeps it (a `$batch` and each request inside it). */
export interface RequestRecord {
  kind: RequestKind;
  method: string;
  /** The path after `/v1.0`, with its query. */
  url: string;
  /** The mailbox addressed (lower case), null when none. */
  mailbox: string | null;
  /** The id of the enclosing `$batch` request in the log, null outside a batch. */
  batch: number | null;
  /** The answer's status. */
  status: number;
}

/** One request to a Graph handler (a top-level request or one inside `$batch`). */
export interface GraphRequest {
  method: string;
  url: URL;
  headers: Headers;
  /** The parsed JSON body; undefined when none. */
  body: unknown;
}

/** A handler's answer. */
export interface GraphAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/** The state a handler works with. */
export interface GraphContext {
  request: GraphRequest;
  grant: TokenGrant;
  directory: Directory;
  store: Store;
  /** `http://127.0.0.1:PORT`, for links (`@odata.nextLink`…). */
  origin: string;
  record: RequestRecord;
}

/** A JSON answer. */
export const json = (status: number, body: unknown, headers: Record<string, string> = {}) => ({
  status,
  body,
  headers: {
    "content-type": "application/json; odata.metadata=minimal; charset=utf-8",
    ...headers,
  },
});

/** The mailbox of `upn` once Graph's checks pass (user, permission, access policy). */
export function mailboxFor(ctx: GraphContext, upn: string, anyOf: AppPermission[]): Mailbox {
  const user = ctx.directory.authorize(ctx.grant, upn, anyOf);
  ctx.record.mailbox = user;
  return ctx.store.mailbox(user);
}

/** Read access to calendars. */
export const READ: AppPermission[] = ["Calendars.Read", "Calendars.ReadWrite"];
/** Write access to calendars. */
export const WRITE: AppPermission[] = ["Calendars.ReadWrite"];

/** The calendar a path names: null for the default one, else its id. */
export function calendarOf(mailbox: Mailbox, id: string | null): StoredCalendar {
  if (id === null) return mailbox.defaultCalendar;
  if (!id.startsWith("AAMk")) throw malformedId();
  const calendar = mailbox.calendars.find((c) => c.id === id);
  if (!calendar) throw itemNotFound();
  return calendar;
}

/** The `@odata.context` of a collection under a user. */
export function contextUrl(ctx: GraphContext, upn: string, tail: string): string {
  return `${ctx.origin}/v1.0/$metadata#users('${encodeURIComponent(upn)}')/${tail}`;
}

/** The JSON object body of a create or update; 400 when it is not one. */
export function objectBody(ctx: GraphContext): Record<string, unknown> {
  const body = ctx.request.body;
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw badRequest("Empty Payload. JSON content expected.", "BadRequest");
  }
  return body as Record<string, unknown>;
}
