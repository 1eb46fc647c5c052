/**
 * How calsync writes an occurrence as an Exchange appointment, and the marker that says
 * an appointment is calsync's.
 *
 * The marker is two named extended properties in calsync's own property set,
 * {@link CALSYNC_PROPERTY_SET} (a GUID made once for calsync; never change it, or every
 * item written before looks foreign): `CalsyncKey`, the occurrence key, and
 * `CalsyncHash`, its content hash. An item is calsync's only when both are present.
 *
 * Every item is a single appointment, never a meeting: attendees are not written as
 * attendees (Exchange would make it a meeting and could mail them) but listed in the
 * body under the description, with the organizer, so the information stays visible.
 *
 * All-day events are written as Exchange stores them: `IsAllDayEvent` with start and end
 * at midnight in the appointment's time zone, which is the event's zone (UTC when it has
 * none, or one Windows does not know). Outlook and the agent's Exchange source read the
 * dates back in that zone, so they never shift.
 *
 * @module
 */
import { ews } from "./library.ts";
import type { Occurrence } from "../model.ts";
import { zonedToUtc } from "../timezones.ts";
import { ewsZone } from "./zones.ts";
import { describedWithPeople } from "../inert_copy.ts";

/** calsync's MAPI property set: the namespace of the marker's named properties. */
export const CALSYNC_PROPERTY_SET = "9c7db95a-d0a7-4a78-9d5d-af0c6db8e46d";

const propertySet = new ews.Guid(CALSYNC_PROPERTY_SET);

/** The occurrence key of an item calsync wrote. */
export const KEY_PROPERTY = new ews.ExtendedPropertyDefinition(
  propertySet,
  "CalsyncKey",
  ews.MapiPropertyType.String,
);

/** The content hash of an item calsync wrote. */
export const HASH_PROPERTY = new ews.ExtendedPropertyDefinition(
  propertySet,
  "CalsyncHash",
  ews.MapiPropertyType.String,
);

/** The marker of an item calsync wrote. */
export interface Marker {
  key: string;
  hash: string;
}

/** The marker of a loaded item, or null when it lacks either property (foreign). */
export function readMarker(item: ews.Item): Marker | null {
  const value = (definition: ews.ExtendedPropertyDefinition): string | null => {
    const out: ews.IOutParam<string> = { outValue: null as unknown as string };
    return item.ExtendedProperties?.TryGetValue(definition, out) && typeof out.outValue === "string"
      ? out.outValue
      : null;
  };
  const key = value(KEY_PROPERTY);
  const hash = value(HASH_PROPERTY);
  return key === null || hash === null ? null : { key, hash };
}

const FREE_BUSY: Record<Occurrence["show_as"], ews.LegacyFreeBusyStatus> = {
  free: ews.LegacyFreeBusyStatus.Free,
  tentative: ews.LegacyFreeBusyStatus.Tentative,
  busy: ews.LegacyFreeBusyStatus.Busy,
  oof: ews.LegacyFreeBusyStatus.OOF,
  elsewhere: ews.LegacyFreeBusyStatus.WorkingElsewhere,
};

const SENSITIVITY: Record<Occurrence["sensitivity"], ews.Sensitivity> = {
  normal: ews.Sensitivity.Normal,
  private: ews.Sensitivity.Private,
  confidential: ews.Sensitivity.Confidential,
};

/** Midnight starting `date` (`YYYY-MM-DD`) in `zone`. */
function midnight(date: string, zone: string): ews.DateTime {
  const [year, month, day] = date.split("-").map(Number);
  const instant = zonedToUtc({ year, month, day, hour: 0, minute: 0, second: 0 }, zone);
  return new ews.DateTime(instant.getTime());
}

/**
 * Sets every field calsync writes on `appointment` from `event`, with `marker`. An empty
 * value is written as a deletion (null) when `clearEmpty`, for updates of an existing
 * item; a new item simply leaves it out.
 */
export function writeAppointment(
  appointment: ews.Appointment,
  event: Occurrence,
  marker: Marker,
  clearEmpty: boolean,
): void {
  const zone = ewsZone(event.timezone);
  appointment.Subject = event.title;
  if (event.location !== "") appointment.Location = event.location;
  else if (clearEmpty) appointment.Location = null as unknown as string;
  const body = describedWithPeople(event);
  if (body !== "" || clearEmpty) appointment.Body = new ews.MessageBody(ews.BodyType.Text, body);
  appointment.StartTimeZone = zone.exchange;
  appointment.EndTimeZone = zone.exchange;
  appointment.IsAllDayEvent = event.all_day;
  if (event.all_day) {
    appointment.Start = midnight(event.start, zone.iana);
    appointment.End = midnight(event.end, zone.iana);
  } else {
    appointment.Start = new ews.DateTime(Date.parse(event.start));
    appointment.End = new ews.DateTime(Date.parse(event.end));
  }
  appointment.LegacyFreeBusyStatus = FREE_BUSY[event.show_as];
  appointment.Sensitivity = SENSITIVITY[event.sensitivity];
  if (event.categories.length > 0) {
    appointment.Categories = new ews.StringList(event.categories);
  } else if (clearEmpty) {
    appointment.Categories = null as unknown as ews.StringList;
  }
  appointment.SetExtendedProperty(KEY_PROPERTY, marker.key);
  appointment.SetExtendedProperty(HASH_PROPERTY, marker.hash);
}
