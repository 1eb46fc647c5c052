/**
 * How calsync writes a consolidated occurrence as a Microsoft Graph `event` ("event
 * resource type", https://learn.microsoft.com/en-us/graph/api/resources/event?view=graph-rest-1.0).
 *
 * A copy is never a meeting: the body has no `attendees` (an event with attendees makes
 * Exchange mail invitations, updates and cancellations), so the organizer and attendees
 * are named in the body text instead (`describedWithPeople`). It never rings
 * (`isReminderOn: false`: Exchange gives a new event the mailbox's default reminder
 * otherwise), asks for no response, takes no new time proposals and is no online meeting.
 *
 * Timed events keep their own zone (its Windows name, which every Exchange knows; UTC when
 * Windows has none); all-day events are midnights in the destination mailbox's zone, so
 * Outlook shows them on their days.
 *
 * @module
 */
import type {
  DateTimeTimeZone,
  Event,
  FreeBusyStatus,
  Sensitivity,
} from "@microsoft/microsoft-graph-types";
import { findWindows } from "windows-iana";
import { createHash } from "node:crypto";
import type { Occurrence } from "../../../shared/model.ts";
import { describedWithPeople } from "../../../shared/inert_copy.ts";
import { isKnownZone, zoneOffset } from "../../../shared/timezones.ts";
import type { DestinationItem } from "../types.ts";
import { markerProperties } from "./marker.ts";

const SHOW_AS: Record<Occurrence["show_as"], FreeBusyStatus> = {
  free: "free",
  tentative: "tentative",
  busy: "busy",
  oof: "oof",
  elsewhere: "workingElsewhere",
};

const SENSITIVITY: Record<Occurrence["sensitivity"], Sensitivity> = {
  normal: "normal",
  private: "private",
  confidential: "confidential",
};

/**
 * The zone name Graph is given for an IANA zone: its Windows name, which Exchange Online
 * knows in every tenant, else "UTC".
 */
export function graphZoneName(iana: string | null): string {
  if (iana === null || iana === "UTC" || !isKnownZone(iana)) return "UTC";
  return findWindows(iana)[0] ?? "UTC";
}

/** An instant as a wall-clock `dateTimeTimeZone` in `iana` (named to Graph as Windows does). */
function zonedDateTime(instant: string, iana: string | null): DateTimeTimeZone {
  const zoneName = graphZoneName(iana);
  const ms = Date.parse(instant);
  const offset = zoneName === "UTC" ? 0 : zoneOffset(iana!, ms);
  return { dateTime: new Date(ms + offset).toISOString().slice(0, 19), timeZone: zoneName };
}

/** Midnight starting `date` (`YYYY-MM-DD`) in the zone Graph knows as `zoneName`. */
function midnight(date: string, zoneName: string): DateTimeTimeZone {
  return { dateTime: `${date}T00:00:00`, timeZone: zoneName };
}

/**
 * The fields of `item` as a Graph event, with the calsync marker; `allDayZone` is the
 * Graph zone name (Windows or IANA, as the mailbox names it) whose midnights bound all-day
 * items. Empty values are written too (an empty location, no categories), so that an
 * update clears what an earlier version of the occurrence had.
 */
export function eventBody(item: DestinationItem, allDayZone: string): Event {
  const event = item.event;
  return {
    subject: event.title,
    body: { contentType: "text", content: describedWithPeople(event) },
    start: event.all_day
      ? midnight(event.start, allDayZone)
      : zonedDateTime(event.start, event.timezone),
    end: event.all_day ? midnight(event.end, allDayZone) : zonedDateTime(event.end, event.timezone),
    isAllDay: event.all_day,
    location: { displayName: event.location },
    showAs: SHOW_AS[event.show_as],
    sensitivity: SENSITIVITY[event.sensitivity],
    categories: event.categories,
    isReminderOn: false,
    responseRequested: false,
    allowNewTimeProposals: false,
    isOnlineMeeting: false,
    singleValueExtendedProperties: markerProperties(item.key, item.hash),
  };
}

/**
 * The `transactionId` of a create: a digest of the calendar, the key and the content hash,
 * so a create retried after a lost answer or a crash returns the event the first made
 * instead of a second one (the event resource's `transactionId`: "a custom identifier
 * specified by a client app for the server to avoid redundant POST operations in case of
 * client retries to create the same event"). Exchange remembers the ids per mailbox, so
 * the calendar is part of it: two destinations writing one occurrence into two calendars
 * of a mailbox each get their own copy.
 */
export function transactionIdOf(
  calendar: string,
  item: Pick<DestinationItem, "key" | "hash">,
): string {
  const digest = createHash("sha256").update(`${calendar}\n${item.key}\n${item.hash}`);
  return `calsync-${digest.digest("base64url")}`;
}

/**
 * The body of a create into `calendar` (its Graph path): {@link eventBody} with its
 * {@link transactionIdOf}.
 */
export function createBody(item: DestinationItem, allDayZone: string, calendar: string): Event {
  return { ...eventBody(item, allDayZone), transactionId: transactionIdOf(calendar, item) };
}
