/**
 * The collections: "List calendarView"
 * (https://learn.microsoft.com/en-us/graph/api/user-list-calendarview?view=graph-rest-1.0),
 * occurrences, exceptions and single instances overlapping `startDateTime`…`endDateTime`
 * (an ISO 8601 value without offset read as UTC), and "List events"
 * (https://learn.microsoft.com/en-us/graph/api/user-list-events?view=graph-rest-1.0),
 * single instances and series masters. Both page server-side: 10 events a page unless
 * `$top` or `Prefer: odata.maxpagesize` says otherwise, the rest behind `@odata.nextLink`
 * ("Paging Microsoft Graph data in your app", https://learn.microsoft.com/en-us/graph/paging).
 *
 * @module
 */
import {
  calendarOf,
  contextUrl,
  type GraphAnswer,
  type GraphContext,
  json,
  mailboxFor,
  READ,
} from "../context.ts";
import { badRequest } from "../errors.ts";
import { calendarView, eventInstance, type Instance } from "../instances.ts";
import {
  type EventFilter,
  parseFilter,
  parseTop,
  preferenceApplied,
  preferences,
  shapeOf,
} from "../query.ts";
import { shapeEvent } from "../shape.ts";
import { parseQueryInstant } from "../zones.ts";

/** The page size of Outlook collections without `$top` or `odata.maxpagesize`. */
export const DEFAULT_PAGE_SIZE = 10;

const WINDOW_REQUIRED = "This request requires a time window specified by the query string " +
  "parameters StartDateTime and EndDateTime.";

/** The window of a calendar view or delta request; 400 when missing or unreadable. */
export function windowOf(url: URL): { fromMs: number; toMs: number } {
  const start = url.searchParams.get("startDateTime") ?? url.searchParams.get("startdatetime");
  const end = url.searchParams.get("endDateTime") ?? url.searchParams.get("enddatetime");
  if (start === null || end === null) throw badRequest(WINDOW_REQUIRED, "ErrorInvalidParameter");
  const fromMs = parseQueryInstant(start);
  const toMs = parseQueryInstant(end);
  if (fromMs === null || toMs === null) {
    throw badRequest(
      `The value '${fromMs === null ? start : end}' of parameter ` +
        `'${fromMs === null ? "StartDateTime" : "EndDateTime"}' is invalid.`,
      "ErrorInvalidParameter",
    );
  }
  return { fromMs, toMs };
}

function page(
  ctx: GraphContext,
  upn: string,
  tail: string,
  instances: Instance[],
  filter: EventFilter | null,
): GraphAnswer {
  const url = ctx.request.url;
  const prefs = preferences(ctx.request.headers);
  const shape = shapeOf(url, prefs);
  const top = parseTop(url.searchParams.get("$top"));
  const skip = Number(url.searchParams.get("$skip") ?? "0");
  if (!Number.isInteger(skip) || skip < 0) {
    throw badRequest(`Invalid value '${url.searchParams.get("$skip")}' for $skip.`, "BadRequest");
  }
  const size = top ?? prefs.maxPageSize ?? DEFAULT_PAGE_SIZE;
  const matching = filter ? instances.filter((i) => filter(i.event)) : instances;
  const body: Record<string, unknown> = {
    "@odata.context": contextUrl(ctx, upn, tail),
    value: matching.slice(skip, skip + size).map((i) => shapeEvent(i, shape)),
  };
  if (skip + size < matching.length) {
    const next = new URL(`${ctx.origin}${url.pathname}${url.search}`);
    next.searchParams.set("$top", String(size));
    next.searchParams.set("$skip", String(skip + size));
    body["@odata.nextLink"] = next.toString();
  }
  const applied = preferenceApplied(prefs, top === null);
  return json(200, body, applied ? { "preference-applied": applied } : {});
}

/** `GET /users/{upn}/calendar(s/{id})/calendarView?startDateTime&endDateTime` */
export function listCalendarView(
  ctx: GraphContext,
  upn: string,
  calendarId: string | null,
): GraphAnswer {
  ctx.record.kind = "calendarView";
  const mailbox = mailboxFor(ctx, upn, READ);
  const calendar = calendarOf(mailbox, calendarId);
  const { fromMs, toMs } = windowOf(ctx.request.url);
  const filter = parseFilter(ctx.request.url.searchParams.get("$filter"));
  return page(ctx, upn, "calendarView", calendarView(mailbox, calendar.id, fromMs, toMs), filter);
}

/**
 * `GET /users/{upn}/events`, `/calendar/events` (the default calendar's only: "List events"
 * of a calendar, https://learn.microsoft.com/en-us/graph/api/calendar-list-events?view=graph-rest-1.0)
 * and `/calendars/{id}/events`: single instances and series masters.
 */
export function listEvents(
  ctx: GraphContext,
  upn: string,
  calendarId: string | null,
  defaultCalendar = false,
): GraphAnswer {
  ctx.record.kind = "listEvents";
  const mailbox = mailboxFor(ctx, upn, READ);
  const calendar = calendarId === null && !defaultCalendar ? null : calendarOf(mailbox, calendarId);
  const filter = parseFilter(ctx.request.url.searchParams.get("$filter"));
  const events = [...mailbox.events.values()]
    .filter((event) => calendar === null || event.calendarId === calendar.id)
    .sort((a, b) => a.createdMs - b.createdMs || a.serial - b.serial)
    .map(eventInstance);
  return page(ctx, upn, "events", events, filter);
}
