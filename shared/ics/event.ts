/**
 * Reading one VEVENT into calsync terms: its timing (start, span, recurrence parts) and
 * the details every occurrence of it carries (title, status, attendees, …).
 *
 * @module
 */
import { convertIcsAttendee, convertIcsOrganizer } from "ts-ics";
import type { Occurrence } from "../model.ts";
import { toInstant } from "../time.ts";
import type { Component, ContentLine } from "./syntax.ts";
import { parseRecurrenceRule, type RecurrenceRule } from "./rrule.ts";
import {
  type Duration,
  instantOf,
  type Moment,
  parseDuration,
  parseMoment,
  parseMomentList,
  splitTextList,
  unescapeText,
  type ZoneLookup,
} from "./values.ts";

/** The fields an occurrence takes from its VEVENT, as opposed to from its timing. */
export type Details = Omit<
  Occurrence,
  "uid" | "recurrence_id" | "all_day" | "start" | "end" | "timezone"
>;

/** An extra start from RDATE; a PERIOD value brings its own length. */
export interface ExtraDate {
  start: Moment;
  span: Duration | null;
}

/** A VEVENT as calsync needs it. */
export interface EventData {
  line: number;
  uid: string;
  start: Moment;
  /** How long each occurrence lasts (see `values.addDuration`). */
  span: Duration;
  rule: RecurrenceRule | null;
  rdates: ExtraDate[];
  exdates: Moment[];
  recurrenceId: Moment | null;
  /** The zone name reported on occurrences. */
  timezone: string | null;
  details: Details;
}

/** Name of the property in which calsync records an occurrence's original zone. */
export const TIMEZONE_PROPERTY = "X-CALSYNC-TIMEZONE";

const DAY_MS = 86_400_000;

const STATUS: Record<string, Details["status"]> = {
  CONFIRMED: "confirmed",
  TENTATIVE: "tentative",
  CANCELLED: "cancelled",
};
const BUSY_STATUS: Record<string, Details["show_as"]> = {
  FREE: "free",
  TENTATIVE: "tentative",
  BUSY: "busy",
  OOF: "oof",
  WORKINGELSEWHERE: "elsewhere",
};
const SENSITIVITY: Record<string, Details["sensitivity"]> = {
  PUBLIC: "normal",
  PRIVATE: "private",
  CONFIDENTIAL: "confidential",
};
const ROLE: Record<string, Details["attendees"][number]["role"]> = {
  "CHAIR": "chair",
  "REQ-PARTICIPANT": "required",
  "OPT-PARTICIPANT": "optional",
  "NON-PARTICIPANT": "non-participant",
};
const PARTSTAT: Record<string, Details["attendees"][number]["status"]> = {
  "NEEDS-ACTION": "needs-action",
  "ACCEPTED": "accepted",
  "DECLINED": "declined",
  "TENTATIVE": "tentative",
  "DELEGATED": "delegated",
};

/** Cuts text to the model's limit without splitting a surrogate pair. */
function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const end = /[\uD800-\uDBFF]/.test(text[max - 1]) ? max - 1 : max;
  return text.slice(0, end);
}

/** ts-ics reads parameters as one string each; multi-valued ones are joined back. */
function lineForTsIcs(p: ContentLine) {
  const options: Record<string, string> = {};
  for (const [name, values] of p.params) options[name] = values.join(",");
  return { value: p.value.trim(), options };
}

function keyword(p: ContentLine | undefined): string {
  return p?.value.trim().toUpperCase() ?? "";
}

function person({ name, email }: { name?: string; email: string }) {
  return { name: clip(name ?? "", 512), email: clip(email, 512) };
}

/** LAST-MODIFIED as an instant. A malformed one is dropped, not the whole event for it. */
function readLastModified(p: ContentLine | undefined, lookup: ZoneLookup): string | null {
  if (!p) return null;
  try {
    return toInstant(new Date(instantOf(parseMoment(p.value, p.params, "LAST-MODIFIED", lookup))));
  } catch {
    return null;
  }
}

function readDetails(
  one: (name: string) => ContentLine | undefined,
  all: (name: string) => ContentLine[],
  lookup: ZoneLookup,
): Details {
  const text = (name: string, max: number) => {
    const p = one(name);
    return p ? clip(unescapeText(p.value), max) : "";
  };
  const organizer = one("ORGANIZER");
  const busy = BUSY_STATUS[keyword(one("X-MICROSOFT-CDO-BUSYSTATUS"))];
  const sensitivity = one("CLASS");
  return {
    title: text("SUMMARY", 4096),
    location: text("LOCATION", 4096),
    description: text("DESCRIPTION", 262_144),
    status: STATUS[keyword(one("STATUS"))] ?? "confirmed",
    show_as: busy ?? (keyword(one("TRANSP")) === "TRANSPARENT" ? "free" : "busy"),
    // RFC 5545 §3.8.1.3: an unknown CLASS must be treated like PRIVATE.
    sensitivity: sensitivity ? SENSITIVITY[keyword(sensitivity)] ?? "private" : "normal",
    categories: all("CATEGORIES")
      .flatMap((p) => splitTextList(p.value))
      .map((c) => clip(c.trim(), 256))
      .filter((c) => c !== "")
      .slice(0, 64),
    organizer: organizer ? person(convertIcsOrganizer(undefined, lineForTsIcs(organizer))) : null,
    attendees: all("ATTENDEE").slice(0, 2000).map((p) => {
      const a = convertIcsAttendee(undefined, lineForTsIcs(p));
      return {
        ...person(a),
        role: ROLE[a.role?.toUpperCase() ?? ""] ?? "required",
        status: PARTSTAT[a.partstat?.toUpperCase() ?? ""] ?? "needs-action",
      };
    }),
    // An ICS file does not say whose calendar it is, so nor whose answer PARTSTAT is.
    response_status: null,
    last_modified: readLastModified(one("LAST-MODIFIED"), lookup),
  };
}

function periodOrDate(text: string, p: ContentLine, lookup: ZoneLookup): ExtraDate {
  const [startText, endText] = text.split("/");
  const start = parseMoment(startText, p.params, "RDATE", lookup);
  if (endText === undefined) return { start, span: null };
  if (/^[+-]?P/i.test(endText)) return { start, span: parseDuration(endText, "RDATE") };
  const end = parseMoment(endText, p.params, "RDATE", lookup);
  return { start, span: { days: 0, exactMs: Math.max(0, instantOf(end) - instantOf(start)) } };
}

/** The length of each occurrence, from DTEND, DURATION or the RFC 5545 defaults. */
function readSpan(
  start: Moment,
  one: (name: string) => ContentLine | undefined,
  lookup: ZoneLookup,
): Duration {
  const dtend = one("DTEND");
  const duration = one("DURATION");
  if (dtend) {
    const end = parseMoment(dtend.value, dtend.params, "DTEND", lookup);
    if ((end.zone === null) !== (start.zone === null)) {
      throw new Error(`DTEND must be a ${start.zone ? "date-time" : "date"} like DTSTART`);
    }
    if (start.zone === null) {
      // A zero-length all-day event is invalid; producers that write one mean one day.
      return { days: Math.max(1, Math.round((end.wall - start.wall) / DAY_MS)), exactMs: 0 };
    }
    const ms = instantOf(end) - instantOf(start);
    if (ms < 0) throw new Error(`DTEND "${dtend.value}" is before DTSTART`);
    return { days: 0, exactMs: ms };
  }
  if (duration) {
    const span = parseDuration(duration.value, "DURATION");
    return start.zone ? span : { days: span.days + Math.ceil(span.exactMs / DAY_MS), exactMs: 0 };
  }
  return { days: start.zone ? 0 : 1, exactMs: 0 };
}

/**
 * Reads a VEVENT; throws a message saying what is wrong when it cannot be used (no UID,
 * no DTSTART, a malformed date, an unknown TZID, a broken RRULE, …).
 */
export function readEvent(component: Component, lookup: ZoneLookup): EventData {
  if (component.problems.length > 0) throw new Error(component.problems[0]);
  const one = (name: string) => component.properties.find((p) => p.name === name);
  const all = (name: string) => component.properties.filter((p) => p.name === name);
  const uid = unescapeText(one("UID")?.value.trim() ?? "");
  if (uid === "") throw new Error("UID is missing");
  if (uid.length > 1024) throw new Error("UID is longer than 1024 characters");
  const dtstart = one("DTSTART");
  if (!dtstart) throw new Error("DTSTART is missing");
  const start = parseMoment(dtstart.value, dtstart.params, "DTSTART", lookup);
  const rrule = one("RRULE");
  const recurrenceId = one("RECURRENCE-ID");
  const recordedZone = one(TIMEZONE_PROPERTY);
  const timezone = recordedZone && !dtstart.params.has("TZID")
    ? clip(unescapeText(recordedZone.value.trim()), 128) || null
    : start.zone?.name ?? null;
  return {
    line: component.line,
    uid,
    start,
    span: readSpan(start, one, lookup),
    rule: rrule ? parseRecurrenceRule(rrule.value) : null,
    rdates: all("RDATE").flatMap((p) =>
      p.value.split(",").filter((v) => v.trim() !== "").map((v) => periodOrDate(v, p, lookup))
    ),
    exdates: all("EXDATE").flatMap((p) => parseMomentList(p.value, p.params, "EXDATE", lookup)),
    recurrenceId: recurrenceId
      ? parseMoment(recurrenceId.value, recurrenceId.params, "RECURRENCE-ID", lookup)
      : null,
    timezone,
    details: readDetails(one, all, lookup),
  };
}
