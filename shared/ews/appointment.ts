/**
 * How calsync writes an occurrence as an Exchange appointment, and the marker that says
 * an appointment is calsync's.
 *
 * The marker is two named extended properties in calsync's own property set,
 * {@link CALSYNC_PROPERTY_SET} (a GUID made once for calsync; never change it, or every
 * item written before looks foreign): `CalsyncId`, a digest of the occurrence key of
 * fixed length ({@link markerOf}), and `CalsyncHash`, the content hash. An item is
 * calsync's only when both are present. The digest, not the key, because FindItem returns
 * at most 255 characters of a string property and keys (a UID of up to 1,024 characters
 * and a recurrence id) are longer: a cut key matches nothing, and the item would be
 * written again on every reconcile.
 *
 * Versions before 0.2 wrote the whole key as `CalsyncKey`; {@link readMarker} still
 * recognises those items (the caller reads a possibly cut key again with GetItem), and
 * {@link writeAppointment} replaces that property by the digest the next time the item
 * is written.
 *
 * Every item is a single appointment, never a meeting: attendees are not written as
 * attendees (Exchange would make it a meeting and could mail them) but listed in the
 * body under the description, with the organizer, so the information stays visible.
 *
 * All-day events are written as Exchange stores them: `IsAllDayEvent` with start and end
 * at midnight in the appointment's time zone, which is the destination mailbox's zone
 * (UTC when Windows does not know it). Outlook and the agent's Exchange source read the
 * dates back in that zone, so they never shift. Timed events keep their own zone.
 *
 * @module
 */
import { ews } from "./library.ts";
import type { Occurrence } from "../model.ts";
import { zonedToUtc } from "../timezones.ts";
import { ewsZone } from "./zones.ts";
import { describedWithPeople } from "../inert_copy.ts";
import { CALSYNC_PROPERTY_SET, markerOf } from "../marker.ts";

export { CALSYNC_PROPERTY_SET, markerOf };

const propertySet = new ews.Guid(CALSYNC_PROPERTY_SET);

/** The digest of the occurrence key of an item calsync wrote ({@link markerOf}). */
export const ID_PROPERTY = new ews.ExtendedPropertyDefinition(
  propertySet,
  "CalsyncId",
  ews.MapiPropertyType.String,
);

/** The whole occurrence key, as versions before 0.2 wrote it: read, never written. */
export const LEGACY_KEY_PROPERTY = new ews.ExtendedPropertyDefinition(
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

/** Longest string FindItem returns of a property; longer values arrive cut to this. */
export const FIND_ITEM_STRING_LIMIT = 255;

/** The marker an item carries. */
export type Marker =
  /** Written by this version: the digest of the key, and the content hash. */
  | { format: "current"; id: string; hash: string }
  /**
   * Written before 0.2: the whole key, which FindItem may have cut
   * ({@link FIND_ITEM_STRING_LIMIT}), and the content hash.
   */
  | { format: "legacy"; key: string; hash: string };

/** The marker of a loaded item, or null when it has none (foreign). */
export function readMarker(item: ews.Item): Marker | null {
  const value = (definition: ews.ExtendedPropertyDefinition): string | null => {
    const out: ews.IOutParam<string> = { outValue: null as unknown as string };
    return item.ExtendedProperties?.TryGetValue(definition, out) && typeof out.outValue === "string"
      ? out.outValue
      : null;
  };
  const hash = value(HASH_PROPERTY);
  if (hash === null) return null;
  const id = value(ID_PROPERTY);
  if (id !== null) return { format: "current", id, hash };
  const key = value(LEGACY_KEY_PROPERTY);
  return key === null ? null : { format: "legacy", key, hash };
}

/** Whether a legacy key read by FindItem may have been cut, so GetItem must read it. */
export function mayBeCut(marker: Marker): boolean {
  return marker.format === "legacy" && marker.key.length >= FIND_ITEM_STRING_LIMIT;
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

/** What the marker of a written item says: the occurrence key and the content hash. */
export interface MarkerValues {
  key: string;
  hash: string;
}

/** How {@link writeAppointment} writes. */
export interface WriteOptions {
  /** Write empty values as deletions (null), for updates of an existing item. */
  clearEmpty: boolean;
  /** IANA zone of the destination mailbox, whose midnights bound all-day items. */
  allDayZone: string;
}

/**
 * Sets every field calsync writes on `appointment` from `event`, with the marker of
 * `marker`. An empty value is written as a deletion (null) when `clearEmpty`, for updates
 * of an existing item; a new item simply leaves it out. The reminder is always off:
 * Exchange gives a new item the mailbox's default reminder otherwise, and the mailbox's
 * owner would be reminded of every copy (and, after a first sync, of every past one).
 */
export function writeAppointment(
  appointment: ews.Appointment,
  event: Occurrence,
  marker: MarkerValues,
  { clearEmpty, allDayZone }: WriteOptions,
): void {
  // Exchange fixes an all-day item's midnights in its start zone, so that zone must be
  // the one the mailbox's owner sees, not the zone the event came with.
  const zone = ewsZone(event.all_day ? allDayZone : event.timezone);
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
  appointment.IsReminderSet = false;
  appointment.LegacyFreeBusyStatus = FREE_BUSY[event.show_as];
  appointment.Sensitivity = SENSITIVITY[event.sensitivity];
  if (event.categories.length > 0) {
    appointment.Categories = new ews.StringList(event.categories);
  } else if (clearEmpty) {
    appointment.Categories = null as unknown as ews.StringList;
  }
  appointment.SetExtendedProperty(ID_PROPERTY, markerOf(marker.key));
  appointment.SetExtendedProperty(HASH_PROPERTY, marker.hash);
  if (clearEmpty) appointment.RemoveExtendedProperty(LEGACY_KEY_PROPERTY);
}
