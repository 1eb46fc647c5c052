/**
 * An independent expander for corpus tests: reads iCalendar text with ical.js (Mozilla's
 * parser, the one Thunderbird uses) and lists the occurrences inside a window in the key
 * form calsync's reader produces, so that the two can be compared key by key.
 *
 * What this helper adds around ical.js, and nothing more:
 *
 * - **Zones without VTIMEZONE.** ical.js knows only the VTIMEZONEs of the file (and UTC);
 *   a TZID it cannot resolve is read as floating. For every TZID that no VTIMEZONE of the
 *   file defines and that `Intl` knows as an IANA zone (`Europe/Berlin`), a VTIMEZONE is
 *   generated from `Intl`'s offsets (one STANDARD/DAYLIGHT block per transition between
 *   1970 and 2040) and registered with `ICAL.TimezoneService` for the time of the call.
 *   Nothing else is mapped: Windows names and Exchange display names such as
 *   `(UTC-05:00) Eastern Time (US & Canada)` stay unknown to ical.js, as they are to it
 *   in Thunderbird, and their times are read as floating.
 * - **Floating times** (no TZID, no `Z`, or a TZID ical.js does not know) are read on the
 *   wall clock of `floatingZone` (default UTC), converted with `Intl`. `X-WR-TIMEZONE` is
 *   not looked at: RFC 5545 gives floating times the viewer's zone.
 * - **Several revisions of one event** (the same UID, or the same UID and RECURRENCE-ID,
 *   more than once) resolve as RFC 5546 §2.1.5 says: the highest SEQUENCE wins, then the
 *   latest DTSTAMP, then the later one in the file. ical.js itself would relate the last
 *   override it meets and expand every master.
 * - **Overrides** are related to their master with `ICAL.Event#relateException` (through
 *   the `exceptions` option); an override whose master is missing is one occurrence with
 *   its RECURRENCE-ID as `recurrence_id`.
 * - **Cancelled** occurrences (STATUS:CANCELLED) are kept, as calsync keeps them.
 *
 * A file ical.js refuses (`ICAL.parse` throws) yields no keys and the error message; a
 * VEVENT it cannot expand (a value it cannot decode, a rule it trips over) is left out
 * and its error listed, as Thunderbird leaves out an item it cannot read. The file's UIDs
 * are found by a plain scan of its unfolded lines, so they are known even then.
 *
 * @module
 */
import ICAL from "ical.js";

/** The fields of an occurrence that the corpus test compares. */
export interface ComparableKey {
  /** The UID, or null for a VEVENT without one (matched by start, end and title). */
  uid: string | null;
  recurrence_id: string | null;
  /** `2026-03-30T07:00:00Z` for timed occurrences, `2026-03-30` for all-day ones. */
  start: string;
  end: string;
  all_day: boolean;
  title: string;
}

/** What the reference made of one file. */
export interface ReferenceResult {
  keys: ComparableKey[];
  /** Every UID the file names, to tell calsync's derived UIDs from real ones. */
  uids: Set<string>;
  /** TZIDs for which a VTIMEZONE was generated from Intl. */
  generatedZones: string[];
  /** Why ical.js refused the file, or null. */
  error: string | null;
  /** VEVENTs ical.js could not expand: UID (or line) and message. */
  eventErrors: string[];
}

/** Options for {@link referenceExpand}. */
export interface ReferenceOptions {
  /** IANA zone of floating times; default "UTC". */
  floatingZone?: string;
  /** Longest series walked, a guard against endless rules. Default 100,000 steps. */
  maxSteps?: number;
}

type Time = InstanceType<typeof ICAL.Time>;
type Component = InstanceType<typeof ICAL.Component>;
type Event = InstanceType<typeof ICAL.Event>;

const offsetFormats = new Map<string, Intl.DateTimeFormat>();

/** Whether `Intl` knows `name` as an IANA zone (and it is not an offset or a display name). */
function isIanaZone(name: string): boolean {
  if (!/^(UTC|GMT|[A-Za-z_]+(\/[A-Za-z0-9_+-]+)+)$/.test(name)) return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** The UTC offset of `zone` at epoch milliseconds `t`, in minutes. */
function offsetMinutes(zone: string, t: number): number {
  let format = offsetFormats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "longOffset" });
    offsetFormats.set(zone, format);
  }
  const name = format.formatToParts(new Date(t)).find((p) => p.type === "timeZoneName")!.value;
  const m = /^GMT(?:([+-])(\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(name);
  if (!m) throw new Error(`unexpected offset "${name}" for ${zone}`);
  if (!m[1]) return 0;
  return (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

/** Epoch milliseconds of a wall-clock reading in `zone` (the earlier one in an overlap). */
function wallToUtc(zone: string, wall: number): number {
  const first = wall - offsetMinutes(zone, wall) * 60_000;
  return wall - offsetMinutes(zone, first) * 60_000;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

function offsetText(minutes: number): string {
  const sign = minutes < 0 ? "-" : "+";
  const a = Math.abs(minutes);
  return `${sign}${pad(Math.floor(a / 60))}${pad(a % 60)}`;
}

function wallText(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T` +
    `${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
}

/**
 * VTIMEZONE text for an IANA zone, from Intl: every offset change between 1970 and 2040
 * as its own STANDARD or DAYLIGHT block (DAYLIGHT when the new offset is the larger).
 */
export function vtimezoneFromIntl(zone: string): string {
  const from = Date.UTC(1970, 0, 1);
  const to = Date.UTC(2040, 0, 1);
  const day = 86_400_000;
  const lines = ["BEGIN:VTIMEZONE", `TZID:${zone}`];
  const first = offsetMinutes(zone, from);
  lines.push(
    "BEGIN:STANDARD",
    "DTSTART:19000101T000000",
    `TZOFFSETFROM:${offsetText(first)}`,
    `TZOFFSETTO:${offsetText(first)}`,
    "END:STANDARD",
  );
  let previous = first;
  for (let t = from; t < to; t += day) {
    const next = offsetMinutes(zone, t + day);
    if (next === previous) continue;
    // The change lies in (t, t + day]: find its minute.
    let lo = t, hi = t + day;
    while (hi - lo > 60_000) {
      const mid = lo + Math.floor((hi - lo) / 120_000) * 60_000;
      if (offsetMinutes(zone, mid) === previous) lo = mid;
      else hi = mid;
    }
    const kind = next > previous ? "DAYLIGHT" : "STANDARD";
    lines.push(
      `BEGIN:${kind}`,
      `DTSTART:${wallText(hi + previous * 60_000)}`,
      `TZOFFSETFROM:${offsetText(previous)}`,
      `TZOFFSETTO:${offsetText(next)}`,
      `END:${kind}`,
    );
    previous = next;
  }
  lines.push("END:VTIMEZONE");
  return lines.join("\r\n") + "\r\n";
}

function dateText(t: Time): string {
  return `${pad(t.year, 4)}-${pad(t.month)}-${pad(t.day)}`;
}

function instantText(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19) + "Z";
}

/** A Time as calsync writes it: a date, or the UTC instant (floating on `floatingZone`). */
function timeText(t: Time, floatingZone: string): string {
  if (t.isDate) return dateText(t);
  if (t.zone && t.zone.tzid === "floating") {
    const wall = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
    return instantText(wallToUtc(floatingZone, wall));
  }
  return instantText(t.toUnixTime() * 1000);
}

function millisOf(text: string): number {
  return Date.parse(text.length === 10 ? `${text}T00:00:00Z` : text);
}

function overlaps(key: ComparableKey, start: number, end: number): boolean {
  const s = millisOf(key.start);
  const e = Math.max(millisOf(key.end), s + 1);
  return s < end && e > start;
}

function sequenceOf(c: Component): number {
  const value = c.getFirstPropertyValue("sequence");
  return typeof value === "number" ? value : Number(value ?? 0) || 0;
}

function dtstampOf(c: Component): number {
  const value = c.getFirstPropertyValue("dtstamp") as Time | null;
  return value && typeof value === "object" ? value.toUnixTime() : 0;
}

/** The winning revision: highest SEQUENCE, then latest DTSTAMP, then the later in file. */
function newest(list: Component[]): Component {
  return list.reduce((best, c) => {
    const bySequence = sequenceOf(c) - sequenceOf(best);
    if (bySequence !== 0) return bySequence > 0 ? c : best;
    return dtstampOf(c) >= dtstampOf(best) ? c : best;
  });
}

function titleOf(c: Component): string {
  const value = c.getFirstPropertyValue("summary");
  return typeof value === "string" ? value : "";
}

/** Every TZID parameter used anywhere below `c`. */
function tzidsUsed(c: Component, into: Set<string>): Set<string> {
  for (const p of c.getAllProperties()) {
    const tzid = p.getParameter("tzid");
    if (typeof tzid === "string") into.add(tzid);
  }
  for (const sub of c.getAllSubcomponents()) tzidsUsed(sub, into);
  return into;
}

/**
 * Every UID value in the text, from its unfolded lines (a blank line before a folded
 * continuation, as some old Mozilla exports have, is read as part of the fold).
 */
function uidsIn(text: string): Set<string> {
  const unfolded = text.replace(/\r?\n(?:\r?\n)*[ \t]/g, "");
  const uids = new Set<string>();
  for (const m of unfolded.matchAll(/^UID(?:;[^:\r\n]*)?:(.*?)\r?$/gim)) {
    if (m[1].trim() !== "") uids.add(m[1].trim());
  }
  return uids;
}

/**
 * The occurrences of `text` that overlap the half-open `window`, as ical.js expands them
 * (see the module notes for what is added around it), sorted by start.
 */
export function referenceExpand(
  text: string,
  window: { start: string; end: string },
  options: ReferenceOptions = {},
): ReferenceResult {
  const floatingZone = options.floatingZone ?? "UTC";
  const maxSteps = options.maxSteps ?? 100_000;
  const from = Date.parse(window.start);
  const to = Date.parse(window.end);
  const result: ReferenceResult = {
    keys: [],
    uids: uidsIn(text),
    generatedZones: [],
    error: null,
    eventErrors: [],
  };
  let calendars: Component[];
  try {
    const jcal = ICAL.parse(text);
    const roots = Array.isArray(jcal[0]) ? jcal as unknown[] : [jcal];
    calendars = roots.map((r) => new ICAL.Component(r as unknown[]));
  } catch (error) {
    result.error = (error as Error).message;
    return result;
  }
  const registered: string[] = [];
  try {
    for (const calendar of calendars) {
      const defined = new Set(
        calendar.getAllSubcomponents("vtimezone").map((z) =>
          String(z.getFirstPropertyValue("tzid"))
        ),
      );
      for (const tzid of tzidsUsed(calendar, new Set())) {
        if (defined.has(tzid) || ICAL.TimezoneService.has(tzid) || !isIanaZone(tzid)) continue;
        const zone = new ICAL.Component(ICAL.parse(vtimezoneFromIntl(tzid)) as unknown[]);
        ICAL.TimezoneService.register(zone);
        registered.push(tzid);
      }
    }
    result.generatedZones = [...registered];
    for (const calendar of calendars) {
      expandCalendar(calendar, from, to, floatingZone, maxSteps, result);
    }
  } catch (error) {
    result.error = (error as Error).message;
  } finally {
    for (const tzid of registered) ICAL.TimezoneService.remove(tzid);
  }
  result.keys.sort((a, b) =>
    millisOf(a.start) - millisOf(b.start) || (keyText(a) < keyText(b) ? -1 : 1)
  );
  return result;
}

function expandCalendar(
  calendar: Component,
  from: number,
  to: number,
  floatingZone: string,
  maxSteps: number,
  result: ReferenceResult,
): void {
  const push = (key: ComparableKey) => {
    if (overlaps(key, from, to)) result.keys.push(key);
  };
  const single = (c: Component, uid: string | null, recurrenceId: string | null) => {
    const event = new ICAL.Event(c, { exceptions: [] });
    push({
      uid,
      recurrence_id: recurrenceId,
      start: timeText(event.startDate, floatingZone),
      end: timeText(event.endDate, floatingZone),
      all_day: event.startDate.isDate,
      title: titleOf(c),
    });
  };
  const byUid = new Map<string, { masters: Component[]; overrides: Map<string, Component[]> }>();
  const guarded = (what: string, run: () => void) => {
    const before = result.keys.length;
    try {
      run();
    } catch (error) {
      result.keys.length = before; // nothing half-expanded
      result.eventErrors.push(`${what}: ${(error as Error).message}`);
    }
  };
  for (const c of calendar.getAllSubcomponents("vevent")) {
    const uidValue = c.getFirstPropertyValue("uid");
    const uid = typeof uidValue === "string" && uidValue.trim() !== "" ? uidValue.trim() : null;
    if (uid === null) {
      if (c.hasProperty("recurrence-id")) continue; // an override of nothing nameable
      guarded(`VEVENT without UID (${titleOf(c)})`, () => expandSeries(c, [], null));
      continue;
    }
    guarded(`UID ${uid}`, () => {
      let group = byUid.get(uid);
      if (!group) byUid.set(uid, group = { masters: [], overrides: new Map() });
      if (c.hasProperty("recurrence-id")) {
        const id = (c.getFirstPropertyValue("recurrence-id") as Time).toString();
        const list = group.overrides.get(id) ?? [];
        list.push(c);
        group.overrides.set(id, list);
      } else group.masters.push(c);
    });
  }
  for (const [uid, group] of byUid) {
    guarded(`UID ${uid}`, () => {
      const overrides = [...group.overrides.values()].map(newest);
      if (group.masters.length === 0) {
        for (const o of overrides) {
          const rid = o.getFirstPropertyValue("recurrence-id") as Time;
          single(o, uid, timeText(rid, floatingZone));
        }
        return;
      }
      expandSeries(newest(group.masters), overrides, uid);
    });
  }

  function expandSeries(master: Component, overrides: Component[], uid: string | null): void {
    const event: Event = new ICAL.Event(master, { exceptions: overrides });
    if (!event.isRecurring()) {
      single(master, uid, null);
      return;
    }
    const iterator = event.iterator();
    for (let step = 0; step < maxSteps; step++) {
      const next = iterator.next();
      if (!next) break;
      const details = event.getOccurrenceDetails(next);
      const key: ComparableKey = {
        uid,
        recurrence_id: timeText(details.recurrenceId, floatingZone),
        start: timeText(details.startDate, floatingZone),
        end: timeText(details.endDate, floatingZone),
        all_day: details.startDate.isDate,
        title: titleOf(details.item.component),
      };
      // Overrides may move an occurrence before its original start: walk a year past.
      if (millisOf(timeText(next, floatingZone)) >= to + 86_400_000 * 366) break;
      push(key);
    }
  }
}

/** A key as one line of text, for messages and set membership. */
export function keyText(k: ComparableKey): string {
  return JSON.stringify([k.uid, k.recurrence_id, k.start, k.end, k.all_day, k.title]);
}
