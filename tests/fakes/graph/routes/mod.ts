/**
 * Which handler a Graph path goes to. Path keywords match case-insensitively as Graph's do;
 * `/users/{upn}/calendarView` and `/users/{upn}/events` address the default calendar.
 *
 * @module
 */
import type { GraphAnswer, GraphContext } from "../context.ts";
import { GraphError } from "../errors.ts";
import { calendarViewDelta } from "./delta.ts";
import { createEvent, deleteEvent, getEvent, updateEvent } from "./events.ts";
import { listCalendarView, listEvents } from "./lists.ts";
import { getCalendar, getMailboxSettings, listCalendars } from "./mailbox.ts";

/** The mailbox a path addresses (lower case), null when none. */
export function mailboxOfPath(pathname: string): string | null {
  const match = pathname.match(/^\/v1\.0\/users\/([^/]+)/i);
  return match ? decodeURIComponent(match[1]).replace(/^'(.*)'$/, "$1").toLowerCase() : null;
}

const noRoute = (ctx: GraphContext) =>
  new GraphError(
    400,
    "BadRequest",
    `Resource not found for the segment '${ctx.request.url.pathname.split("/").pop()}'.`,
  );

/** Answers one Graph request (not `$batch`); `generation` is the delta token generation. */
export function route(ctx: GraphContext, generation: number): GraphAnswer {
  const method = ctx.request.method;
  const parts = ctx.request.url.pathname.split("/").slice(2).map(decodeURIComponent);
  if (parts[0]?.toLowerCase() !== "users" || !parts[1]) throw noRoute(ctx);
  const upn = parts[1].replace(/^'(.*)'$/, "$1");
  let rest = parts.slice(2);
  const head = rest[0]?.toLowerCase();
  if (head === "mailboxsettings" && method === "GET") {
    return getMailboxSettings(ctx, upn, rest[1] ?? null);
  }
  if (head === "calendars" && rest.length === 1 && method === "GET") return listCalendars(ctx, upn);
  let calendarId: string | null = null;
  if (head === "calendar") rest = rest.slice(1);
  else if (head === "calendars" && rest[1]) {
    calendarId = rest[1];
    rest = rest.slice(2);
  }
  // An event's id names it in the whole mailbox, under any calendar or none.
  if (rest[0]?.toLowerCase() === "events" && rest.length === 2) {
    if (method === "GET") return getEvent(ctx, upn, rest[1]);
    if (method === "PATCH") return updateEvent(ctx, upn, rest[1]);
    if (method === "DELETE") return deleteEvent(ctx, upn, rest[1]);
  }
  const tail = rest.map((p) => p.toLowerCase()).join("/");
  if (tail === "" && head !== undefined && head.startsWith("calendar") && method === "GET") {
    return getCalendar(ctx, upn, calendarId);
  }
  if (tail === "calendarview" && method === "GET") return listCalendarView(ctx, upn, calendarId);
  if (tail === "calendarview/delta" && method === "GET") {
    return calendarViewDelta(ctx, upn, calendarId, generation);
  }
  if (tail === "events" && method === "GET") {
    return listEvents(ctx, upn, calendarId, head === "calendar");
  }
  if (tail === "events" && method === "POST") return createEvent(ctx, upn, calendarId);
  if (tail === "events" || tail.startsWith("events/") || tail.startsWith("calendarview")) {
    throw new GraphError(405, "BadRequest", `The ${method} method is not allowed here.`);
  }
  throw noRoute(ctx);
}
