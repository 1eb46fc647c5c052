/**
 * Windows time zones as Exchange knows them, and the wall-clock arithmetic a calendar
 * server does with them (through `Temporal`). Kept apart from the project's own zone code
 * on purpose: a fake that shared it would agree with its bugs.
 *
 * @module
 */
import { WINDOWS_TO_IANA_MAP } from "windows-iana";

const ianaByWindows = new Map(
  WINDOWS_TO_IANA_MAP.filter((entry) => entry.territory === "001").map((entry) => [
    entry.windowsName as string,
    entry.iana[0] as string,
  ]),
);

/** Display names Exchange writes in `Name` and `TimeZone` for the zones tests use. */
const DISPLAY_NAMES: Record<string, string> = {
  "UTC": "(UTC) Coordinated Universal Time",
  "GMT Standard Time": "(UTC+00:00) Dublin, Edinburgh, Lisbon, London",
  "Greenwich Standard Time": "(UTC+00:00) Monrovia, Reykjavik",
  "W. Europe Standard Time": "(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna",
  "Central Europe Standard Time": "(UTC+01:00) Belgrade, Bratislava, Budapest, Ljubljana, Prague",
  "Romance Standard Time": "(UTC+01:00) Brussels, Copenhagen, Madrid, Paris",
  "Eastern Standard Time": "(UTC-05:00) Eastern Time (US & Canada)",
  "Central Standard Time": "(UTC-06:00) Central Time (US & Canada)",
  "Pacific Standard Time": "(UTC-08:00) Pacific Time (US & Canada)",
  "Tokyo Standard Time": "(UTC+09:00) Osaka, Sapporo, Tokyo",
};

/** The IANA zone of a Windows zone id, or null when Exchange would not know the id. */
export function ianaOf(windowsId: string): string | null {
  return ianaByWindows.get(windowsId) ?? null;
}

/** The display name Exchange writes for a Windows zone. */
export function displayNameOf(windowsId: string): string {
  return DISPLAY_NAMES[windowsId] ?? windowsId;
}

/** The wall-clock time of an instant (epoch ms) in a Windows zone. */
export function wallClock(instant: number, windowsId: string): Temporal.PlainDateTime {
  return Temporal.Instant.fromEpochMilliseconds(instant)
    .toZonedDateTimeISO(ianaOf(windowsId) ?? "UTC")
    .toPlainDateTime();
}

/**
 * The instant of a wall-clock time in a Windows zone. A time that a DST change skips moves
 * forward and a repeated one takes its first instance, as Exchange's recurrence engine does.
 */
export function instantOf(wall: Temporal.PlainDateTime, windowsId: string): number {
  return wall.toZonedDateTime(ianaOf(windowsId) ?? "UTC", { disambiguation: "compatible" })
    .epochMilliseconds;
}

/**
 * Reads an `xs:dateTime`: with `Z` or an offset it is an instant; without one it is a
 * wall-clock time in `windowsId` (the request's `TimeZoneContext`). Null when malformed.
 */
export function parseDateTime(value: string, windowsId: string): number | null {
  const trimmed = value.trim();
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/.test(trimmed)) {
    return null;
  }
  try {
    return /(Z|[+-]\d{2}:\d{2})$/.test(trimmed)
      ? Temporal.Instant.from(trimmed).epochMilliseconds
      : instantOf(Temporal.PlainDateTime.from(trimmed), windowsId);
  } catch {
    return null;
  }
}

/** An instant as Exchange writes it: UTC, whole seconds, `Z`. */
export function formatDateTime(instant: number): string {
  return new Date(instant).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** A yearly DST change as Windows writes it: the `Occurrence`th weekday of a month. */
export interface YearlyTransition {
  month: number;
  /** 0 = Sunday … 6 = Saturday. */
  weekday: number;
  /** 1 to 4, or -1 for the last one in the month. */
  occurrence: number;
  /** Minutes after local midnight, on the clock in force before the change. */
  timeOfDay: number;
}

/** The rule of a zone in a year: its standard offset and, with DST, the two changes. */
export interface ZoneRule {
  standardOffset: number;
  daylight: { offset: number; start: YearlyTransition; end: YearlyTransition } | null;
}

/**
 * Reads a zone's rule for a year from its transitions, which is how Exchange's registry
 * rules look (offsets in minutes east of UTC).
 */
export function zoneRule(windowsId: string, year: number): ZoneRule {
  const zone = ianaOf(windowsId) ?? "UTC";
  const first = Temporal.ZonedDateTime.from({ timeZone: zone, year, month: 1, day: 1 });
  const changes: Temporal.ZonedDateTime[] = [];
  for (
    let at = first.getTimeZoneTransition("next");
    at && at.year === year && changes.length < 2;
  ) {
    changes.push(at);
    at = at.getTimeZoneTransition("next");
  }
  const minutes = (zdt: Temporal.ZonedDateTime) => zdt.offsetNanoseconds / 60e9;
  if (changes.length < 2) return { standardOffset: minutes(first), daylight: null };
  const yearly = (change: Temporal.ZonedDateTime): YearlyTransition => {
    const before = change.subtract({ nanoseconds: 1 });
    const wall = Temporal.Instant.fromEpochNanoseconds(change.epochNanoseconds)
      .toZonedDateTimeISO("UTC").add({ minutes: minutes(before) });
    return {
      month: wall.month,
      weekday: wall.dayOfWeek % 7,
      occurrence: wall.day + 7 > wall.daysInMonth ? -1 : Math.ceil(wall.day / 7),
      timeOfDay: wall.hour * 60 + wall.minute,
    };
  };
  const [a, b] = changes;
  const toDaylight = minutes(a) > minutes(b) ? a : b;
  const toStandard = toDaylight === a ? b : a;
  return {
    standardOffset: minutes(toStandard),
    daylight: { offset: minutes(toDaylight), start: yearly(toDaylight), end: yearly(toStandard) },
  };
}
