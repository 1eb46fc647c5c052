/**
 * Reading one VEVENT into calsync terms: its timing (start, span, recurrence parts) and
 * the details every occurrence of it carries (title, status, attendees, …).
 *
 * A VEVENT is given up only when it cannot be placed in time (no or unreadable DTSTART or
 * RECURRENCE-ID). Everything else that is wrong is mended as the major clients read it,
 * and reported through a {@link Warn} callback: a missing UID is derived from the event's
 * content, a broken RRULE or EXDATE is left out, an end before the start becomes a
 * zero-length event.
 *
 * @module
 */
import { convertIcsAttendee, convertIcsOrganizer } from "ts-ics";
import type { Occurrence } from "../model.ts";
import { sha256Hex } from "../hash.ts";
import { toInstant } from "../time.ts";
import type { WarningReason } from "../warnings.ts";
import type { Component, ContentLine } from "./syntax.ts";
import { parseRecurrenceRule, type RecurrenceRule } from "./rrule.ts";
import {
  type Duration,
  instantOf,
  type Moment,
  parseDuration,
  parseMoment,
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
  /** Every RRULE: more than one means their union (RFC 5545 §3.8.5.3). */
  rules: RecurrenceRule[];
  rdates: ExtraDate[];
  exdates: Moment[];
  recurrenceId: Moment | null;
  /** `RANGE=THISANDFUTURE` on the RECURRENCE-ID: the change applies to later ones too. */
  thisAndFuture: boolean;
  /** SEQUENCE, 0 when absent: the higher revision of an event wins. */
  sequence: number;
  /** LAST-MODIFIED, else DTSTAMP, as milliseconds; breaks SEQUENCE ties. */
  revisedAt: number;
  /** The zone name reported on occurrences. */
  timezone: string | null;
  details: Details;
}

/** Receives each repair of a VEVENT: why, a sentence, and the line. */
export type Warn = (reason: WarningReason, message: string, line: number) => void;

/** Name of the property in which calsync records an occurrence's original zone. */
export const TIMEZONE_PROPERTY = "X-CALSYNC-TIMEZONE";

/**
 * The value of {@link TIMEZONE_PROPERTY} for a timed occurrence whose zone has no IANA
 * name: no zone is called that, and libical refuses the empty value once written instead.
 */
export const NO_TIMEZONE = "none";

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

/** The zone X-CALSYNC-TIMEZONE records; null for {@link NO_TIMEZONE} or, as older feeds wrote it, empty. */
function recordedZoneName(value: string): string | null {
  const name = clip(unescapeText(value.trim()), 128);
  return name === "" || name === NO_TIMEZONE ? null : name;
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

/**
 * A stamp (LAST-MODIFIED, DTSTAMP) as an instant. A malformed one is dropped, not the
 * whole event for it: stamps only order revisions.
 */
function readStamp(p: ContentLine | undefined, lookup: ZoneLookup): string | null {
  if (!p) return null;
  try {
    return toInstant(new Date(instantOf(parseMoment(p.value, p.params, p.name, lookup))));
  } catch {
    return null;
  }
}

function readDetails(
  one: (name: string) => ContentLine | undefined,
  all: (name: string) => ContentLine[],
  lookup: ZoneLookup,
  warn: Warn,
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
    organizer: organizer
      ? attempt(
        organizer,
        warn,
        () => person(convertIcsOrganizer(undefined, lineForTsIcs(organizer))),
      )
      : null,
    attendees: all("ATTENDEE").slice(0, 2000).flatMap((p) => {
      const attendee = attempt(p, warn, () => {
        const a = convertIcsAttendee(undefined, lineForTsIcs(p));
        return {
          ...person(a),
          role: ROLE[a.role?.toUpperCase() ?? ""] ?? "required",
          status: PARTSTAT[a.partstat?.toUpperCase() ?? ""] ?? "needs-action",
        };
      });
      return attendee ? [attendee] : [];
    }),
    // An ICS file does not say whose calendar it is, so nor whose answer PARTSTAT is.
    response_status: null,
    last_modified: readStamp(one("LAST-MODIFIED"), lookup),
  };
}

/** Runs a property reader; a failure leaves the property out with a warning. */
function attempt<T>(p: ContentLine, warn: Warn, read: () => T): T | null {
  try {
    return read();
  } catch (error) {
    warn(
      "malformed-value",
      `line ${p.line}: ${p.name} left out: ${(error as Error).message}`,
      p.line,
    );
    return null;
  }
}

function periodOrDate(text: string, p: ContentLine, lookup: ZoneLookup): ExtraDate {
  const [startText, endText] = text.split("/");
  const start = parseMoment(startText, p.params, "RDATE", lookup);
  if (endText === undefined) return { start, span: null };
  if (/^[+-]?P/i.test(endText)) return { start, span: parseDuration(endText, "RDATE") };
  const end = parseMoment(endText, p.params, "RDATE", lookup);
  if (start.zone === null) {
    // A PERIOD of dates (`20260401/20260403`): the days between, at least one.
    return {
      start,
      span: { days: Math.max(1, Math.round((end.wall - start.wall) / DAY_MS)), exactMs: 0 },
    };
  }
  return { start, span: { days: 0, exactMs: Math.max(0, instantOf(end) - instantOf(start)) } };
}

/** The default length of RFC 5545 §3.6.1: one day for a date, none for a date-time. */
function defaultSpan(start: Moment): Duration {
  return { days: start.zone ? 0 : 1, exactMs: 0 };
}

/**
 * The length of each occurrence, from DTEND, DURATION or the RFC 5545 defaults. Ends that
 * disagree with the start are read as the major clients read them: a DATE-TIME end of an
 * all-day start counts to the day it falls on, a DATE end of a timed start to that day's
 * midnight, and an end before the start makes a zero-length event (one day when all-day).
 */
function readSpan(
  start: Moment,
  one: (name: string) => ContentLine | undefined,
  lookup: ZoneLookup,
  warn: Warn,
): Duration {
  const dtend = one("DTEND");
  const duration = one("DURATION");
  if (dtend) {
    const end = attempt(dtend, warn, () => parseMoment(dtend.value, dtend.params, "DTEND", lookup));
    if (end) return spanTo(start, end, dtend, warn);
  }
  if (duration) {
    const span = attempt(duration, warn, () => parseDuration(duration.value, "DURATION"));
    if (span?.negative) {
      warn(
        "timing-repaired",
        `line ${duration.line}: DURATION "${duration.value.trim()}" is negative; read as no length`,
        duration.line,
      );
      return defaultSpan(start);
    }
    if (span) {
      return start.zone
        ? { days: span.days, exactMs: span.exactMs }
        : { days: Math.max(1, span.days + Math.ceil(span.exactMs / DAY_MS)), exactMs: 0 };
    }
  }
  return defaultSpan(start);
}

function spanTo(start: Moment, end: Moment, dtend: ContentLine, warn: Warn): Duration {
  const repaired = (how: string) =>
    warn("timing-repaired", `line ${dtend.line}: DTEND "${dtend.value.trim()}" ${how}`, dtend.line);
  if (start.zone === null) {
    let days = (end.wall - start.wall) / DAY_MS;
    if (end.zone !== null) {
      days = Math.ceil(days);
      repaired("is a date-time while DTSTART is a date; the event runs to the day it names");
    }
    if (days < 1) {
      // Zero-length all-day events are common (DTEND = DTSTART) and mean one day.
      if (days < 0) repaired("is before DTSTART; read as a one-day event");
      return { days: 1, exactMs: 0 };
    }
    return { days: Math.round(days), exactMs: 0 };
  }
  const endInstant = end.zone === null
    ? instantOf({ wall: end.wall, zone: start.zone })
    : instantOf(end);
  if (end.zone === null) repaired("is a date while DTSTART is a date-time; read as its midnight");
  const ms = endInstant - instantOf(start);
  if (ms < 0) {
    repaired("is before DTSTART; read as a zero-length event");
    return { days: 0, exactMs: 0 };
  }
  return { days: 0, exactMs: ms };
}

/** A stable UID for an event without one: the same content gives the same UID. */
function syntheticUid(component: Component): string {
  const parts = ["DTSTART", "DTEND", "DURATION", "SUMMARY", "LOCATION", "RRULE", "RECURRENCE-ID"]
    .map((name) => {
      const p = component.properties.find((q) => q.name === name);
      return p ? `${name};${p.params.get("TZID")?.join(",") ?? ""}:${p.value.trim()}` : "";
    });
  return `calsync-${sha256Hex(parts.join("\n")).slice(0, 32)}`;
}

function readRules(all: (name: string) => ContentLine[], warn: Warn): RecurrenceRule[] {
  return all("RRULE").flatMap((p) => {
    if (p.value.trim() === "") {
      warn(
        "malformed-value",
        `line ${p.line}: empty RRULE ignored; the event does not repeat`,
        p.line,
      );
      return [];
    }
    const rule = attempt(p, warn, () => parseRecurrenceRule(p.value));
    return rule ? [rule] : [];
  });
}

function readDates<T>(
  lines: ContentLine[],
  warn: Warn,
  read: (value: string, p: ContentLine) => T,
): T[] {
  return lines.flatMap((p) =>
    p.value.split(",").filter((v) => v.trim() !== "").flatMap((v) => {
      const value = attempt(p, warn, () => read(v, p));
      return value === null ? [] : [value];
    })
  );
}

/**
 * Reads a VEVENT; throws a message saying what is wrong when it cannot be placed in time
 * (no DTSTART, an unreadable DTSTART or RECURRENCE-ID). Repairs go to `warn`.
 */
export function readEvent(component: Component, lookup: ZoneLookup, warn: Warn): EventData {
  const one = (name: string) => component.properties.find((p) => p.name === name);
  const all = (name: string) => component.properties.filter((p) => p.name === name);
  let uid = unescapeText(one("UID")?.value.trim() ?? "");
  if (uid === "") {
    uid = syntheticUid(component);
    warn(
      "missing-uid",
      `VEVENT at line ${component.line} has no UID; using ${uid}, derived from its content`,
      component.line,
    );
  } else if (uid.length > 1024) {
    const long = uid;
    uid = `calsync-${sha256Hex(long).slice(0, 32)}`;
    warn(
      "malformed-value",
      `VEVENT at line ${component.line}: UID of ${long.length} characters replaced by ${uid}`,
      component.line,
    );
  }
  const dtstart = one("DTSTART");
  if (!dtstart) throw new Error("DTSTART is missing");
  const start = parseMoment(dtstart.value, dtstart.params, "DTSTART", lookup);
  const recurrenceId = one("RECURRENCE-ID");
  const recordedZone = one(TIMEZONE_PROPERTY);
  const timezone = recordedZone && !dtstart.params.has("TZID")
    ? recordedZoneName(recordedZone.value)
    : start.zone?.name ?? null;
  const sequence = Number.parseInt(one("SEQUENCE")?.value.trim() ?? "0", 10);
  const details = readDetails(one, all, lookup, warn);
  const revised = details.last_modified ?? readStamp(one("DTSTAMP"), lookup);
  return {
    line: component.line,
    uid,
    start,
    span: readSpan(start, one, lookup, warn),
    rules: readRules(all, warn),
    rdates: readDates(all("RDATE"), warn, (v, p) => periodOrDate(v, p, lookup)),
    exdates: readDates(all("EXDATE"), warn, (v, p) => parseMoment(v, p.params, "EXDATE", lookup)),
    recurrenceId: recurrenceId
      ? parseMoment(recurrenceId.value, recurrenceId.params, "RECURRENCE-ID", lookup)
      : null,
    thisAndFuture: recurrenceId?.params.get("RANGE")?.[0]?.toUpperCase() === "THISANDFUTURE",
    sequence: Number.isFinite(sequence) ? sequence : 0,
    revisedAt: revised === null ? -Infinity : Date.parse(revised),
    timezone,
    details,
  };
}
