/**
 * One event: "Create event"
 * (https://learn.microsoft.com/en-us/graph/api/user-post-events?view=graph-rest-1.0) with
 * `transactionId` (a second create with the same id returns the event the first made, as
 * the event resource's `transactionId` describes), "Get event"
 * (https://learn.microsoft.com/en-us/graph/api/event-get?view=graph-rest-1.0), "Update
 * event" (https://learn.microsoft.com/en-us/graph/api/event-update?view=graph-rest-1.0; an
 * occurrence changed on its own becomes an `exception`) and "Delete event"
 * (https://learn.microsoft.com/en-us/graph/api/event-delete?view=graph-rest-1.0; an
 * occurrence's id deletes that occurrence only). Attendees get the meeting messages
 * Exchange sends: an invitation on create, an update when the meeting changes, a
 * cancellation on delete; they are recorded, never delivered.
 *
 * `If-Match` is not described by the event pages; the errors page lists 412 for "a
 * precondition provided in the request (such as an if-match header)" that does not hold
 * (https://learn.microsoft.com/en-us/graph/errors), so a stale `@odata.etag` in `If-Match`
 * answers 412 with Exchange's change-key conflict code, the general OData behaviour.
 *
 * @module
 */
import type { Event } from "@microsoft/microsoft-graph-types";
import {
  calendarOf,
  type GraphAnswer,
  type GraphContext,
  json,
  mailboxFor,
  objectBody,
  READ,
  WRITE,
} from "../context.ts";
import { badRequest, GraphError, itemNotFound } from "../errors.ts";
import { decodeId } from "../ids.ts";
import { eventInstance, type Instance, instanceOf } from "../instances.ts";
import { preferenceApplied, preferences, shapeOf } from "../query.ts";
import { shapeEvent } from "../shape.ts";
import type { Mailbox, SentMessage, StoredEvent } from "../store.ts";
import { readEventBody, timesOf } from "../event_body.ts";
import { dateTimeTimeZone } from "../zones.ts";

/** Changes that make Exchange send attendees an updated meeting request. */
const MEETING_FIELDS: (keyof Event)[] = [
  "subject",
  "body",
  "start",
  "end",
  "isAllDay",
  "location",
  "locations",
  "attendees",
  "recurrence",
];

function answer(ctx: GraphContext, status: number, instance: Instance): GraphAnswer {
  const prefs = preferences(ctx.request.headers);
  const applied = preferenceApplied(prefs, false);
  return json(status, shapeEvent(instance, shapeOf(ctx.request.url, prefs)), {
    etag: `W/"${instance.changeKey}"`,
    ...(applied ? { "preference-applied": applied } : {}),
  });
}

function notify(
  ctx: GraphContext,
  event: StoredEvent,
  id: string,
  kind: SentMessage["kind"],
  fields: Event = event.fields,
) {
  const recipients = (fields.attendees ?? []).map((a) => a.emailAddress?.address ?? "");
  if (recipients.length > 0) {
    ctx.store.sent.push({ mailbox: event.mailbox, eventId: id, kind, recipients });
  }
}

function found(mailbox: Mailbox, id: string): Instance {
  const instance = instanceOf(mailbox, decodeId(id));
  if (!instance) throw itemNotFound();
  return instance;
}

function checkIfMatch(ctx: GraphContext, instance: Instance): void {
  const wanted = ctx.request.headers.get("if-match");
  if (wanted === null || wanted.trim() === "*") return;
  const tags = wanted.split(",").map((tag) => tag.trim().replace(/^W\//, ""));
  if (!tags.includes(`"${instance.changeKey}"`)) {
    throw new GraphError(
      412,
      "ErrorIrresolvableConflict",
      "The send or update operation could not be performed because the change key passed in " +
        "the request does not match the current change key for the item.",
    );
  }
}

/** `POST /users/{upn}/calendar(s/{id})/events` */
export function createEvent(
  ctx: GraphContext,
  upn: string,
  calendarId: string | null,
): GraphAnswer {
  ctx.record.kind = "createEvent";
  const mailbox = mailboxFor(ctx, upn, WRITE);
  const calendar = calendarOf(mailbox, calendarId);
  const { fields, extended } = readEventBody(objectBody(ctx));
  const transactionId = fields.transactionId;
  if (transactionId) {
    const existing = mailbox.events.get(mailbox.transactions.get(transactionId) ?? -1);
    if (existing) return answer(ctx, 201, eventInstance(existing));
  }
  const { startMs, endMs } = timesOf(fields);
  const event = mailbox.insert(calendar.id, fields, extended ?? [], startMs, endMs);
  if (transactionId) mailbox.transactions.set(transactionId, event.serial);
  notify(ctx, event, event.id, "invitation");
  return answer(ctx, 201, eventInstance(event));
}

/** `GET /users/{upn}/events/{id}` */
export function getEvent(ctx: GraphContext, upn: string, id: string): GraphAnswer {
  ctx.record.kind = "getEvent";
  const mailbox = mailboxFor(ctx, upn, READ);
  return answer(ctx, 200, found(mailbox, id));
}

/** `PATCH /users/{upn}/events/{id}` */
export function updateEvent(ctx: GraphContext, upn: string, id: string): GraphAnswer {
  ctx.record.kind = "updateEvent";
  const mailbox = mailboxFor(ctx, upn, WRITE);
  const instance = found(mailbox, id);
  checkIfMatch(ctx, instance);
  const { fields, extended } = readEventBody(objectBody(ctx));
  const event = instance.event;
  if ("transactionId" in fields && fields.transactionId !== event.fields.transactionId) {
    throw badRequest("transactionId cannot be changed once the event is created.");
  }
  const meetingChange = MEETING_FIELDS.some((name) => name in fields);
  if (extended) {
    const others = event.extended.filter((p) =>
      !extended.some((q) => q.id!.toLowerCase() === p.id!.toLowerCase())
    );
    event.extended = [...others, ...extended];
  }
  if (instance.originalStartMs === null) {
    const merged = { ...event.fields, ...fields };
    const times = timesOf(merged);
    if ("recurrence" in fields || "start" in fields) {
      // A new pattern or start rebuilds the series, as Exchange does: its exceptions go.
      event.exceptions.clear();
      event.deletedOccurrences.clear();
    }
    event.fields = merged;
    event.startMs = times.startMs;
    event.endMs = times.endMs;
    mailbox.touch(event);
  } else {
    if ("recurrence" in fields) {
      throw badRequest("An occurrence cannot carry a recurrence; update the series master.");
    }
    const start = instance.originalStartMs;
    const previous = event.exceptions.get(start);
    const changed = { ...(previous?.fields ?? {}), ...fields };
    // What the PATCH leaves out keeps the occurrence's own times, not the series' first.
    const zone = event.fields.start?.timeZone ?? "UTC";
    const times = timesOf({
      ...instance.fields,
      ...fields,
      start: fields.start ?? dateTimeTimeZone(instance.startMs, zone),
      end: fields.end ?? dateTimeTimeZone(instance.endMs, zone),
    });
    const exception = previous ??
      { fields: changed, changeKey: "", modifiedMs: 0, seq: 0, ...times };
    Object.assign(exception, { fields: changed, ...times });
    event.exceptions.set(start, exception);
    mailbox.touch(exception);
  }
  const after = instanceOf(mailbox, decodeId(id))!;
  if (meetingChange) notify(ctx, event, after.id, "update", after.fields);
  return answer(ctx, 200, after);
}

/** `DELETE /users/{upn}/events/{id}` */
export function deleteEvent(ctx: GraphContext, upn: string, id: string): GraphAnswer {
  ctx.record.kind = "deleteEvent";
  const mailbox = mailboxFor(ctx, upn, WRITE);
  const instance = found(mailbox, id);
  checkIfMatch(ctx, instance);
  if (instance.originalStartMs === null) mailbox.remove(instance.event);
  else mailbox.removeOccurrence(instance.event, instance.originalStartMs);
  notify(ctx, instance.event, instance.id, "cancellation", instance.fields);
  return { status: 204 };
}
