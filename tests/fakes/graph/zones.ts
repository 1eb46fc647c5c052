/**
 * Time zones as Graph takes and gives them: `dateTimeTimeZone` values whose `timeZone` is a
 * Windows name ("W. Europe Standard Time") or an IANA name ("Europe/Berlin"), and the
 * wall-clock arithmetic behind them (through `Temporal`). Written apart from the project's
 * own zone code on purpose: a stand-in that shared it would agree with its bugs.
 *
 * @module
 */
import type { DateTimeTimeZone } from "@microsoft/microsoft-graph-types";
import { findIana, IANA_ALIAS_MAP } from "windows-iana";

/** Thrown for a zone name Graph would not know. */
export class UnknownZone extends Error {}

const ianaNames = new Set(IANA_ALIAS_MAP.flatMap((entry) => entry.alias as readonly string[]));

/** The IANA zone of a Windows or IANA name, or null when Graph would not know the name. */
export function ianaOf(name: string): string | null {
  if (name === "UTC" || name === "Etc/UTC" || name === "Coordinated Universal Time") return "UTC";
  if (ianaNames.has(name)) return name;
  return findIana(name)?.[0] ?? null;
}

function zoneOrThrow(name: string): string {
  const iana = ianaOf(name);
  if (iana === null) throw new UnknownZone(name);
  return iana;
}

/**
 * The instant (epoch ms) a `dateTimeTimeZone` names. A wall time that does not exist (the
 * hour skipped at a DST change) moves forward, as Exchange does.
 */
export function instantOf(value: DateTimeTimeZone): number {
  const wall = Temporal.PlainDateTime.from(value.dateTime!.replace(/Z$/, "").slice(0, 23));
  const zone = zoneOrThrow(value.timeZone ?? "UTC");
  return wall.toZonedDateTime(zone, { disambiguation: "compatible" }).epochMilliseconds;
}

/** The wall clock of an instant in a zone (Windows or IANA name). */
export function wallClock(epochMs: number, zoneName: string): Temporal.PlainDateTime {
  return Temporal.Instant.fromEpochMilliseconds(epochMs).toZonedDateTimeISO(
    zoneOrThrow(zoneName),
  ).toPlainDateTime();
}

/** The instant of a wall clock in a zone. */
export function instantOfWall(wall: Temporal.PlainDateTime, zoneName: string): number {
  return wall.toZonedDateTime(zoneOrThrow(zoneName), { disambiguation: "compatible" })
    .epochMilliseconds;
}

/**
 * An instant as Graph writes a `dateTimeTimeZone` in a zone: seven fractional digits and
 * the zone name as the client spelt it.
 */
export function dateTimeTimeZone(epochMs: number, zoneName: string): DateTimeTimeZone {
  const wall = wallClock(epochMs, zoneName);
  const text = wall.toString({ smallestUnit: "millisecond" });
  return { dateTime: `${text}0000`, timeZone: zoneName };
}

/**
 * An ISO 8601 query value (`startDateTime`…): with an offset or `Z` as given, without one
 * as UTC. Null when it does not parse.
 */
export function parseQueryInstant(text: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/.test(text)) {
    return null;
  }
  const zoned = /(Z|[+-]\d{2}:?\d{2})$/.test(text) ? text : `${text}Z`;
  const ms = Date.parse(zoned.length === 11 ? `${text}T00:00:00Z` : zoned);
  return Number.isNaN(ms) ? null : ms;
}
