/**
 * UTC offsets from a VTIMEZONE component (RFC 5545 §3.6.5), for TZIDs that no time zone
 * database knows, such as Outlook's "(UTC+01:00) Amsterdam, Berlin, Bern, Rome, …".
 *
 * ts-ics can read VTIMEZONEs, but it expands their rules with the host's local-time Date
 * methods and looks offsets up at the wall time instead of the instant, which gives wrong
 * results near DST changes; the offsets are therefore computed here.
 *
 * @module
 */
import type { OffsetAt } from "../timezones.ts";
import type { Component, ContentLine } from "./syntax.ts";
import { expandRule, parseRecurrenceRule, type RecurrenceRule } from "./rrule.ts";
import { parseMoment, parseMomentList } from "./values.ts";

/** One STANDARD or DAYLIGHT observance: from its onsets on, `offsetTo` is in force. */
interface Observance {
  start: number;
  offsetFrom: number;
  offsetTo: number;
  rule: RecurrenceRule | null;
  dates: number[];
}

interface Onset {
  at: number;
  offset: number;
}

const UTC = { name: "UTC", offsetAt: () => 0 };

function offset(property: ContentLine | undefined, name: string, where: string): number {
  const m = /^([+-])(\d{2})(\d{2})(\d{2})?$/.exec(property?.value.trim() ?? "");
  if (!m) throw new Error(`${where}: ${name} must be an offset such as +0100`);
  const ms = ((+m[2] * 60 + +m[3]) * 60 + +(m[4] ?? 0)) * 1000;
  return m[1] === "-" ? -ms : ms;
}

function observance(component: Component, tzid: string): Observance {
  const where = `VTIMEZONE "${tzid}" ${component.name} at line ${component.line}`;
  const find = (name: string) => component.properties.find((p) => p.name === name);
  const dtstart = find("DTSTART");
  if (!dtstart) throw new Error(`${where}: DTSTART is missing`);
  const rrule = find("RRULE");
  return {
    start: parseMoment(dtstart.value, dtstart.params, "DTSTART", () => UTC).wall,
    offsetFrom: offset(find("TZOFFSETFROM"), "TZOFFSETFROM", where),
    offsetTo: offset(find("TZOFFSETTO"), "TZOFFSETTO", where),
    rule: rrule ? parseRecurrenceRule(rrule.value) : null,
    dates: component.properties.filter((p) => p.name === "RDATE").flatMap((p) =>
      parseMomentList(p.value, p.params, "RDATE", () => UTC)
    ).map((m) => m.wall),
  };
}

/** Every onset up to `endWall`, as instants; onsets are wall times in the old offset. */
function onsetsUntil(observances: Observance[], endWall: number): Onset[] {
  const onsets: Onset[] = [];
  for (const o of observances) {
    const fixed = { name: null, offsetAt: () => o.offsetFrom };
    const walls = [o.start, ...o.dates].filter((w) => w <= endWall);
    if (o.rule) walls.push(...expandRule(o.rule, { wall: o.start, zone: fixed }, o.start, endWall));
    for (const wall of walls) onsets.push({ at: wall - o.offsetFrom, offset: o.offsetTo });
  }
  return onsets.sort((a, b) => a.at - b.at);
}

/**
 * The offsets a VTIMEZONE describes. Throws a message naming the line when it has no
 * observance or one that cannot be read.
 */
export function vtimezoneOffsets(component: Component): OffsetAt {
  const tzid = component.properties.find((p) => p.name === "TZID")?.value ?? "";
  const observances = component.components
    .filter((c) => c.name === "STANDARD" || c.name === "DAYLIGHT")
    .map((c) => observance(c, tzid));
  if (observances.length === 0) {
    throw new Error(`VTIMEZONE "${tzid}" at line ${component.line} has no STANDARD or DAYLIGHT`);
  }
  const earliest = observances.reduce((a, b) => (a.start <= b.start ? a : b));
  const byYear = new Map<number, { carried: number; onsets: Onset[] }>();
  return (utcMillis) => {
    const year = new Date(utcMillis).getUTCFullYear();
    let cached = byYear.get(year);
    if (!cached) {
      // Keep the onsets near this year and the offset carried in from before them.
      const from = Date.UTC(year - 1, 0, 1);
      const all = onsetsUntil(observances, Date.UTC(year + 2, 0, 1));
      const before = all.filter((o) => o.at < from);
      cached = {
        carried: before.length > 0 ? before[before.length - 1].offset : earliest.offsetFrom,
        onsets: all.slice(before.length),
      };
      byYear.set(year, cached);
    }
    let result = cached.carried;
    for (const onset of cached.onsets) {
      if (onset.at > utcMillis) break;
      result = onset.offset;
    }
    return result;
  };
}
