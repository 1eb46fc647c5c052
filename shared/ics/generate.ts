/**
 * Occurrences out as an iCalendar (RFC 5545) VCALENDAR: one VEVENT per occurrence, with
 * UTC times (or dates for all-day events), built with ts-ics.
 *
 * ts-ics leaves some values as they are that RFC 5545 wants escaped or quoted (UID,
 * CATEGORIES items, PRODID, X-WR-CALNAME, CN parameters), writes CR and other control
 * characters from text unchanged (a CR ends the line for most readers), and folds lines
 * every 75 UTF-16 code units (continuations then exceed 75 octets, and non-ASCII text
 * far more): those values are prepared here and the output is folded again by octets.
 *
 * @module
 */
import {
  generateIcsCalendar,
  type IcsAttendeePartStatusType,
  type IcsDateObject,
  type IcsEvent,
  type IcsEventStatusType,
} from "ts-ics";
import type { Occurrence } from "../model.ts";
import { VERSION } from "../version.ts";
import { NO_TIMEZONE, TIMEZONE_PROPERTY } from "./event.ts";

/** Options for {@link generateIcs}. */
export interface GenerateIcsOptions {
  /** Shown by clients as the calendar's name (X-WR-CALNAME). */
  calendarName?: string;
  /** PRODID of the calendar; default `-//calsync//calsync <version>//EN`. */
  prodId?: string;
  /**
   * DTSTAMP: one instant for occurrences without `last_modified` (default now), or, per
   * occurrence, when the writer last changed it, which then wins over `last_modified`.
   */
  stamp?: Date | ((occurrence: Occurrence) => Date);
  /**
   * Non-standard properties to add to an occurrence's VEVENT, as name (`X-…`) and text
   * value, which is escaped here; such as a marker that says who wrote the event.
   */
  extraProperties?: (occurrence: Occurrence) => Record<string, string>;
}

interface NonStandard {
  busyStatus: string;
  timezone: string;
}

const NON_STANDARD = {
  busyStatus: { name: "X-MICROSOFT-CDO-BUSYSTATUS", generate: (value: string) => ({ value }) },
  timezone: {
    name: TIMEZONE_PROPERTY,
    generate: (value: string | undefined) => (value === undefined ? null : { value }),
  },
} as const;

const BUSY_STATUS: Record<Occurrence["show_as"], string> = {
  free: "FREE",
  tentative: "TENTATIVE",
  busy: "BUSY",
  oof: "OOF",
  elsewhere: "WORKINGELSEWHERE",
};
const CLASS = { normal: "PUBLIC", private: "PRIVATE", confidential: "CONFIDENTIAL" } as const;
const ROLE: Record<Occurrence["attendees"][number]["role"], string> = {
  chair: "CHAIR",
  required: "REQ-PARTICIPANT",
  optional: "OPT-PARTICIPANT",
  "non-participant": "NON-PARTICIPANT",
};

/** Text as RFC 5545 TEXT: line breaks become `\n`; `\`, `;` and `,` are escaped. */
function escapeText(text: string): string {
  return cleanText(text).replace(/[\\;,\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
}

/**
 * Text that TEXT escaping can carry: CRLF and lone CR become LF, the one line break it
 * knows, and other control characters, which RFC 5545 does not allow, are dropped.
 */
function cleanText(text: string): string {
  return text.replace(/\r\n?/g, "\n").replace(
    /\p{Cc}/gu,
    (c) => (c === "\t" || c === "\n" ? c : ""),
  );
}

/** A quoted parameter value, with RFC 6868 escapes for what quotes cannot hold. */
function quoteParam(value: string): string {
  const escaped = cleanText(value).replace(
    /[\^"\n]/g,
    (c) => (c === "^" ? "^^" : c === '"' ? "^'" : "^n"),
  );
  return `"${escaped}"`;
}

/** An address for a MAILTO value, which cannot hold control characters or spaces. */
function cleanAddress(email: string): string {
  return email.replace(/[\p{Cc}\s]/gu, "");
}

function dateObject(value: string): IcsDateObject {
  return value.length === 10
    ? { date: new Date(`${value}T00:00:00Z`), type: "DATE" }
    : { date: new Date(value) };
}

type Stamp = NonNullable<GenerateIcsOptions["stamp"]>;

function stampOf(o: Occurrence, stamp: Stamp): Date {
  if (typeof stamp === "function") return stamp(o);
  return o.last_modified ? new Date(o.last_modified) : stamp;
}

/** The zone a parser would assume from the times alone: "UTC" for UTC times, none for dates. */
function impliedZone(o: Occurrence): string | null {
  return o.all_day ? null : "UTC";
}

function toIcsEvent(o: Occurrence, stamp: Stamp): IcsEvent<NonStandard> {
  const nonStandard: Partial<NonStandard> = { busyStatus: BUSY_STATUS[o.show_as] };
  const categories = o.categories.filter((c) => c.trim() !== "");
  if (o.timezone !== impliedZone(o)) {
    nonStandard.timezone = o.timezone === null ? NO_TIMEZONE : escapeText(o.timezone);
  }
  return {
    uid: escapeText(o.uid),
    stamp: { date: stampOf(o, stamp) },
    start: dateObject(o.start),
    end: dateObject(o.end),
    recurrenceId: o.recurrence_id ? { value: dateObject(o.recurrence_id) } : undefined,
    summary: cleanText(o.title),
    location: o.location ? cleanText(o.location) : undefined,
    description: o.description ? cleanText(o.description) : undefined,
    status: o.status.toUpperCase() as IcsEventStatusType,
    timeTransparent: o.show_as === "free" ? "TRANSPARENT" : "OPAQUE",
    class: CLASS[o.sensitivity],
    categories: categories.length > 0 ? categories.map(escapeText) : undefined,
    organizer: o.organizer
      ? {
        email: cleanAddress(o.organizer.email),
        name: o.organizer.name ? quoteParam(o.organizer.name) : undefined,
      }
      : undefined,
    attendees: o.attendees.length > 0
      ? o.attendees.map((a) => ({
        email: cleanAddress(a.email),
        name: a.name ? quoteParam(a.name) : undefined,
        role: ROLE[a.role],
        partstat: a.status.toUpperCase() as IcsAttendeePartStatusType,
      }))
      : undefined,
    lastModified: o.last_modified ? { date: new Date(o.last_modified) } : undefined,
    nonStandard,
  };
}

const X_NAME = /^X-[A-Z0-9-]+$/i;

/** The content lines of `properties`; a name that is not an X- name is a mistake. */
function extraLines(properties: Record<string, string>): string[] {
  return Object.entries(properties).map(([name, value]) => {
    if (!X_NAME.test(name)) {
      throw new RangeError(`extra property "${name}" is no X- name such as X-EXAMPLE-KEY`);
    }
    return `${name.toUpperCase()}:${escapeText(value)}`;
  });
}

/** UTF-8 length of one code point. */
function octets(char: string): number {
  const code = char.codePointAt(0)!;
  return code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
}

/** Folds a content line into lines of at most 75 octets, never inside a character. */
function fold(line: string): string {
  const lines: string[] = [];
  let current = "";
  let size = 0;
  for (const char of line) {
    const n = octets(char);
    if (size + n > 75) {
      lines.push(current);
      current = " ";
      size = 1;
    }
    current += char;
    size += n;
  }
  lines.push(current);
  return lines.join("\r\n");
}

/**
 * A VCALENDAR with one VEVENT per occurrence: UTC DTSTART/DTEND (VALUE=DATE for all-day
 * events), RECURRENCE-ID when set, every field of the occurrence and any extra properties
 * asked for. The original zone of a timed occurrence travels in X-CALSYNC-TIMEZONE, so
 * that `parseIcs` gives back exactly the occurrences that went in.
 */
export function generateIcs(occurrences: Occurrence[], options: GenerateIcsOptions = {}): string {
  const stamp = options.stamp ?? new Date();
  const text = generateIcsCalendar<NonStandard>({
    version: "2.0",
    prodId: escapeText(options.prodId ?? `-//calsync//calsync ${VERSION}//EN`),
    name: options.calendarName === undefined ? undefined : escapeText(options.calendarName),
    events: occurrences.map((o) => toIcsEvent(o, stamp)),
  }, { nonStandard: NON_STANDARD });
  // ts-ics always writes SUMMARY; an empty one goes, as readers that refuse empty
  // properties drop the whole event for it.
  const lines = text.replace(/\r\n[ \t]/g, "").split("\r\n")
    .filter((line) => line !== "" && line !== "SUMMARY:");
  const extra = options.extraProperties;
  // ts-ics writes the VEVENTs in the order given, so the n-th END:VEVENT closes the n-th.
  let index = 0;
  const complete = extra === undefined
    ? lines
    : lines.flatMap((line) =>
      line === "END:VEVENT" ? [...extraLines(extra(occurrences[index++])), line] : [line]
    );
  return complete.map(fold).join("\r\n") + "\r\n";
}
