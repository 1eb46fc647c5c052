/**
 * iCalendar text in, calsync occurrences out: parses every VCALENDAR, resolves the zones
 * its times are written in, expands series inside a window and validates the result.
 *
 * @module
 */
import { Occurrence, TimeWindow } from "../model.ts";
import { toMillis } from "../time.ts";
import { resolveZone, zoneOffset } from "../timezones.ts";
import { type EventData, readEvent } from "./event.ts";
import { expandEvents } from "./expand.ts";
import { type Component, parseComponents } from "./syntax.ts";
import { unescapeText, type Zone, type ZoneLookup } from "./values.ts";
import { vtimezoneOffsets } from "./vtimezone.ts";
import { type ReadWarning, readWarning } from "../warnings.ts";

/** Options for {@link parseIcs}. */
export interface ParseIcsOptions {
  /** IANA (or Windows) zone for times without zone ("floating" times). Default "UTC". */
  floatingZone?: string;
}

/** Occurrences plus what had to be skipped or ignored, in readable sentences. */
export interface ParseIcsResult {
  occurrences: Occurrence[];
  warnings: ReadWarning[];
}

const UTC: Zone = { name: "UTC", offsetAt: () => 0 };

function ianaZone(name: string): Zone {
  return name === "UTC" ? UTC : { name, offsetAt: (t) => zoneOffset(name, t) };
}

/**
 * Zones of one VCALENDAR. A TZID is looked up as an IANA or Windows name first, because
 * a database zone knows every year's rules, and only then in the file's own VTIMEZONEs.
 */
function zoneLookup(calendar: Component, floating: Zone): ZoneLookup {
  const definitions = new Map<string, Component>();
  for (const c of calendar.components) {
    const tzid = c.name === "VTIMEZONE" && c.properties.find((p) => p.name === "TZID");
    if (tzid) definitions.set(unescapeText(tzid.value).trim(), c);
  }
  const zones = new Map<string, Zone>();
  return (tzid, utc) => {
    if (utc) return UTC;
    if (tzid === null) return floating;
    let zone = zones.get(tzid);
    if (!zone) {
      const iana = resolveZone(tzid);
      const definition = definitions.get(tzid.trim());
      if (iana) zone = ianaZone(iana);
      else if (definition) zone = { name: null, offsetAt: vtimezoneOffsets(definition) };
      else throw new Error(`TZID "${tzid}" is no known time zone and has no VTIMEZONE in the file`);
      zones.set(tzid, zone);
    }
    return zone;
  };
}

function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compare(a: Occurrence, b: Occurrence): number {
  return toMillis(a.start) - toMillis(b.start) || byText(a.uid, b.uid) ||
    byText(a.recurrence_id ?? "", b.recurrence_id ?? "");
}

/**
 * Like {@link parseIcs}, and also returns warnings: one per VEVENT that was skipped
 * (naming its line, UID and the problem) and per ignored malformed line.
 */
export function parseIcsDetailed(
  source: string | Uint8Array,
  window: TimeWindow,
  options: ParseIcsOptions = {},
): ParseIcsResult {
  const range = TimeWindow.parse(window);
  const floatingName = resolveZone(options.floatingZone ?? "UTC");
  if (!floatingName) {
    throw new RangeError(`floatingZone "${options.floatingZone}" is no known time zone`);
  }
  const floating = ianaZone(floatingName);
  const warnings: ReadWarning[] = [];
  const occurrences: Occurrence[] = [];
  for (const calendar of parseComponents(source)) {
    warnings.push(...calendar.problems.map((p) => readWarning("malformed-line", p)));
    const lookup = zoneLookup(calendar, floating);
    const events: EventData[] = [];
    for (const component of calendar.components) {
      if (component.name !== "VEVENT") {
        warnings.push(...component.problems.map((p) => readWarning("malformed-line", p)));
        continue;
      }
      try {
        events.push(readEvent(component, lookup));
      } catch (error) {
        const uid = component.properties.find((p) => p.name === "UID")?.value.trim();
        const which = uid ? ` (UID ${uid})` : "";
        warnings.push(readWarning(
          "event-skipped",
          `VEVENT at line ${component.line}${which} skipped: ${(error as Error).message}`,
          component.line,
        ));
      }
    }
    for (const occurrence of expandEvents(events, range, warnings)) {
      const checked = Occurrence.safeParse(occurrence);
      if (checked.success) occurrences.push(checked.data);
      else {
        warnings.push(readWarning(
          "event-skipped",
          `occurrence ${occurrence.uid} ${occurrence.recurrence_id ?? ""} skipped: ${
            checked.error.issues[0].message
          }`,
        ));
      }
    }
  }
  return { occurrences: occurrences.sort(compare), warnings };
}

/**
 * Every occurrence in iCalendar data (RFC 5545) that overlaps `window`, sorted by start
 * then UID. Series are expanded on the wall clock of their zone; overrides, cancelled
 * occurrences and RDATEs are included and EXDATEs left out. Give bytes rather than a
 * string when the data may fold lines inside a UTF-8 character.
 *
 * Throws `IcsError` when the input is not iCalendar or is truncated; a VEVENT that cannot
 * be read is skipped (see {@link parseIcsDetailed} for the reasons).
 */
export function parseIcs(
  source: string | Uint8Array,
  window: TimeWindow,
  options: ParseIcsOptions = {},
): Occurrence[] {
  return parseIcsDetailed(source, window, options).occurrences;
}
