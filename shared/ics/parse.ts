/**
 * iCalendar text in, calsync occurrences out: parses every VCALENDAR, resolves the zones
 * its times are written in, expands series inside a window and validates the result.
 *
 * @module
 */
import { Occurrence, TimeWindow } from "../model.ts";
import { toMillis } from "../time.ts";
import { resolveZone, zoneOffset } from "../timezones.ts";
import { guessZone } from "../zone_guess.ts";
import { type EventData, readEvent, type Warn } from "./event.ts";
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
 * a database zone knows every year's rules, then in the file's own VTIMEZONEs, then as a
 * Windows display name or an offset (with a warning); a TZID that means nothing is read
 * as floating, with a warning, so that its events are kept at about the right time.
 */
function zoneLookup(calendar: Component, floating: Zone, warnings: ReadWarning[]): ZoneLookup {
  const definitions = new Map<string, Component>();
  for (const c of calendar.components) {
    const tzid = c.name === "VTIMEZONE" && c.properties.find((p) => p.name === "TZID");
    if (tzid) definitions.set(unescapeText(tzid.value).trim(), c);
  }
  const zones = new Map<string, Zone>();
  const find = (tzid: string): Zone => {
    const iana = resolveZone(tzid);
    if (iana) return ianaZone(iana);
    const definition = definitions.get(tzid.trim());
    if (definition) {
      return { name: guessZone(tzid)?.iana ?? null, offsetAt: vtimezoneOffsets(definition) };
    }
    const guess = guessZone(tzid);
    if (guess) {
      const zone = guess.iana ? ianaZone(guess.iana) : null;
      warnings.push(readWarning(
        "timezone-guessed",
        `TZID "${tzid}" has no VTIMEZONE; read as ${
          guess.iana ?? "a fixed offset"
        } from its ${guess.how}`,
      ));
      return zone ?? { name: null, offsetAt: () => guess.offsetMs };
    }
    warnings.push(readWarning(
      "timezone-unknown",
      `TZID "${tzid}" is no known time zone and has no VTIMEZONE; its times are read as ` +
        `floating (${floating.name})`,
    ));
    return floating;
  };
  return (tzid, utc) => {
    if (utc) return UTC;
    if (tzid === null) return floating;
    let zone = zones.get(tzid);
    if (!zone) {
      zone = find(tzid);
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

/** Every problem recorded in a component and the components inside it. */
function problemsWithin(component: Component): ReadWarning[] {
  return [...component.problems, ...component.components.flatMap(problemsWithin)];
}

/**
 * The zone of floating times: the calendar's own X-WR-TIMEZONE (what Google and Apple
 * write into exports) when it names a zone, else the caller's.
 */
function floatingZoneOf(calendar: Component, fallback: Zone): Zone {
  const declared = calendar.properties.find((p) => p.name === "X-WR-TIMEZONE");
  const iana = declared && resolveZone(unescapeText(declared.value));
  return iana ? ianaZone(iana) : fallback;
}

/**
 * Like {@link parseIcs}, and also returns warnings: one per repair (a derived UID, a
 * guessed zone, a left-out line or value, an older duplicate) and per skipped VEVENT,
 * naming its line.
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
  const warnings: ReadWarning[] = [];
  const warn: Warn = (reason, message, line) => warnings.push(readWarning(reason, message, line));
  const occurrences: Occurrence[] = [];
  // Events of all VCALENDARs expand together: concatenated exports repeat UIDs across
  // calendars, and the newest revision must win there too.
  const events: EventData[] = [];
  for (const calendar of parseComponents(source)) {
    warnings.push(...calendar.problems);
    const lookup = zoneLookup(calendar, floatingZoneOf(calendar, ianaZone(floatingName)), warnings);
    for (const component of calendar.components) {
      warnings.push(...problemsWithin(component));
      if (component.name !== "VEVENT") continue;
      try {
        events.push(readEvent(component, lookup, warn));
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
