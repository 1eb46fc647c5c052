/**
 * A mailbox's settings and calendars: "Get user mailbox settings"
 * (https://learn.microsoft.com/en-us/graph/api/user-get-mailboxsettings?view=graph-rest-1.0),
 * whose `timeZone` is whatever the user chose, a Windows or an IANA name; "List calendars"
 * (https://learn.microsoft.com/en-us/graph/api/user-list-calendars?view=graph-rest-1.0) and
 * "Get calendar" (https://learn.microsoft.com/en-us/graph/api/calendar-get?view=graph-rest-1.0).
 *
 * @module
 */
import type { Calendar, MailboxSettings } from "@microsoft/microsoft-graph-types";
import {
  calendarOf,
  contextUrl,
  type GraphAnswer,
  type GraphContext,
  json,
  mailboxFor,
  READ,
} from "../context.ts";
import type { Mailbox, StoredCalendar } from "../store.ts";

function calendarBody(mailbox: Mailbox, calendar: StoredCalendar): Calendar {
  return {
    id: calendar.id,
    name: calendar.name,
    color: "auto",
    hexColor: "",
    isDefaultCalendar: calendar.isDefault,
    changeKey: "",
    canShare: true,
    canViewPrivateItems: true,
    canEdit: true,
    allowedOnlineMeetingProviders: ["teamsForBusiness"],
    defaultOnlineMeetingProvider: "teamsForBusiness",
    isTallyingResponses: true,
    isRemovable: !calendar.isDefault,
    owner: { name: mailbox.upn, address: mailbox.upn },
  };
}

/** `GET /users/{upn}/mailboxSettings` and `/mailboxSettings/timeZone` */
export function getMailboxSettings(
  ctx: GraphContext,
  upn: string,
  property: string | null,
): GraphAnswer {
  ctx.record.kind = "mailboxSettings";
  const mailbox = mailboxFor(ctx, upn, ["MailboxSettings.Read", "MailboxSettings.ReadWrite"]);
  if (property?.toLowerCase() === "timezone") {
    return json(200, {
      "@odata.context": contextUrl(ctx, upn, "mailboxSettings/timeZone"),
      value: mailbox.timeZone,
    });
  }
  const settings: MailboxSettings = {
    timeZone: mailbox.timeZone,
    dateFormat: "yyyy-MM-dd",
    timeFormat: "HH:mm",
    delegateMeetingMessageDeliveryOptions: "sendToDelegateOnly",
    userPurpose: "user",
    language: { locale: "en-US", displayName: "English (United States)" },
    workingHours: {
      daysOfWeek: ["monday", "tuesday", "wednesday", "thursday", "friday"],
      startTime: "08:00:00.0000000",
      endTime: "17:00:00.0000000",
      timeZone: { name: mailbox.timeZone },
    },
  };
  return json(200, { "@odata.context": contextUrl(ctx, upn, "mailboxSettings"), ...settings });
}

/** `GET /users/{upn}/calendars` */
export function listCalendars(ctx: GraphContext, upn: string): GraphAnswer {
  ctx.record.kind = "listCalendars";
  const mailbox = mailboxFor(ctx, upn, READ);
  return json(200, {
    "@odata.context": contextUrl(ctx, upn, "calendars"),
    value: mailbox.calendars.map((c) => calendarBody(mailbox, c)),
  });
}

/** `GET /users/{upn}/calendar` and `/calendars/{id}` */
export function getCalendar(ctx: GraphContext, upn: string, id: string | null): GraphAnswer {
  ctx.record.kind = "getCalendar";
  const mailbox = mailboxFor(ctx, upn, READ);
  return json(200, {
    "@odata.context": contextUrl(ctx, upn, "calendars/$entity"),
    ...calendarBody(mailbox, calendarOf(mailbox, id)),
  });
}
