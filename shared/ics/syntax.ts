/**
 * The content syntax of RFC 5545 §3.1: unfolding, content lines with parameters, and the
 * BEGIN/END tree of components. Values stay raw text here; their types are decoded later.
 *
 * Real files break the syntax in small ways: a line that lost its fold, a quote inside a
 * parameter value, an END that closes the wrong component, junk after END:VCALENDAR. As
 * the major clients do, such a line is left out (or the structure mended) with a problem
 * recorded, and the rest is kept; only data that is not iCalendar at all, or that is cut
 * off before its VCALENDAR ends, is refused, because a truncated download read as whole
 * would remove the events it lost from every destination.
 *
 * @module
 */

import { type ReadWarning, readWarning } from "../warnings.ts";

/** Raised when the input is not iCalendar at all, or its structure cannot be trusted. */
export class IcsError extends Error {
  /** @param message what is wrong, naming the line. */
  constructor(message: string) {
    super(message);
    this.name = "IcsError";
  }
}

/** One property: `NAME;PARAM=value:VALUE`, with the line number where it starts. */
export interface ContentLine {
  /** Property name in upper case. */
  name: string;
  /** Parameter values by upper-case parameter name, quotes removed, RFC 6868 decoded. */
  params: Map<string, string[]>;
  /** The raw value text after the first unquoted colon. */
  value: string;
  /** 1-based line number in the source. */
  line: number;
  /** What had to be left out of the line to read it, if anything. */
  repair?: string;
}

/** A component such as VEVENT, with its properties and nested components. */
export interface Component {
  /** Component name in upper case. */
  name: string;
  /** 1-based line number of its BEGIN line. */
  line: number;
  properties: ContentLine[];
  components: Component[];
  /** Lines inside this component that were left out or mended, as warnings. */
  problems: ReadWarning[];
}

/** Components that sit directly in a VCALENDAR and never inside one another. */
const TOP_LEVEL = new Set(["VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY", "VTIMEZONE"]);
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
/** RFC 5545 names, plus "." and "_" that some producers put into X- names. */
const NAME = /^[A-Za-z0-9._-]+$/;
const utf8 = new TextDecoder("utf-8", { fatal: true });
const windows1252 = new TextDecoder("windows-1252");

/** A logical line (folds removed) and the number of its first physical line. */
interface LogicalLine {
  text: string;
  line: number;
  /** The bytes were no UTF-8 and were read as Windows-1252, as old Outlook exports need. */
  legacy: boolean;
}

/**
 * Splits the source into logical lines. Unfolding works on bytes, before decoding, so a
 * UTF-8 character that a producer split across a fold is joined again intact.
 */
function unfold(bytes: Uint8Array): LogicalLine[] {
  const lines: LogicalLine[] = [];
  let chunks: Uint8Array[] = [];
  let startLine = 1;
  let physical = 1;
  let pos = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const flush = () => {
    if (chunks.length === 0) return;
    const bytes = chunks.length === 1 ? chunks[0] : concat(chunks);
    let text: string;
    let legacy = false;
    try {
      text = utf8.decode(bytes);
    } catch {
      text = windows1252.decode(bytes);
      legacy = true;
    }
    if (text.trim() !== "") lines.push({ text, line: startLine, legacy });
    chunks = [];
  };
  while (pos < bytes.length) {
    let end = pos;
    while (end < bytes.length && bytes[end] !== LF && bytes[end] !== CR) end++;
    const continues = (bytes[pos] === SPACE || bytes[pos] === TAB) && chunks.length > 0;
    if (end === pos) {
      // A blank line is nothing, not the end of a logical line: old Mozilla files put
      // one between a name and its folded value, and python-icalendar reads them so.
    } else if (continues) {
      chunks.push(bytes.subarray(pos + 1, end));
    } else {
      flush();
      startLine = physical;
      chunks.push(bytes.subarray(pos, end));
    }
    pos = end;
    if (bytes[pos] === CR) pos++;
    if (bytes[pos] === LF) pos++;
    physical++;
  }
  flush();
  return lines;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** RFC 6868 parameter value escapes: ^n newline, ^' double quote, ^^ caret. */
function decodeParamValue(value: string): string {
  return value.replace(/\^(n|N|'|\^)/g, (_, c: string) => c === "'" ? '"' : c === "^" ? "^" : "\n");
}

/** Parses one logical line; throws a message naming the line when it is malformed. */
function parseContentLine({ text, line }: LogicalLine): ContentLine {
  const nameEnd = text.search(/[;:]/);
  const name = nameEnd < 0 ? text : text.slice(0, nameEnd);
  if (nameEnd < 0 || !NAME.test(name)) {
    throw new Error(`line ${line}: expected NAME:value, found "${preview(text)}"`);
  }
  const params = new Map<string, string[]>();
  let pos = nameEnd;
  const dropped: string[] = [];
  while (text[pos] === ";") {
    const delimiter = text.slice(pos + 1).search(/[;:=]/) + pos + 1;
    if (delimiter > pos && text[delimiter] !== "=" && NAME.test(text.slice(pos + 1, delimiter))) {
      // A parameter without value (`ATTENDEE;RSVP:mailto:…`) carries nothing: skip it.
      dropped.push(text.slice(pos + 1, delimiter));
      pos = delimiter;
      continue;
    }
    const eq = text.indexOf("=", pos);
    const paramName = eq < 0 ? "" : text.slice(pos + 1, eq);
    if (!NAME.test(paramName)) {
      throw new Error(
        `line ${line}: ${name} has a malformed parameter near "${preview(text.slice(pos))}"`,
      );
    }
    const values: string[] = [];
    pos = eq;
    do {
      pos++;
      const close = text[pos] === '"' ? text.indexOf('"', pos + 1) : -1;
      if (close > 0 && /^[;:,]/.test(text[close + 1] ?? "")) {
        values.push(decodeParamValue(text.slice(pos + 1, close)));
        pos = close + 1;
      } else {
        // Unquoted, or a quote that does not end the value (`CN=John "Jack" Doe`): like
        // the major parsers, read up to the next delimiter and keep the quotes as text.
        let match = /^[^;:,]*/.exec(text.slice(pos))![0];
        // Exchange writes display names as TZIDs, sometimes unquoted:
        // `TZID=(UTC-05:00) Eastern Time (US & Canada):2026…`. An open parenthesis
        // holds the value together up to its close, colons and commas included.
        while (count(match, "(") > count(match, ")") && pos + match.length < text.length) {
          const rest = text.slice(pos + match.length);
          const closing = /^[^)]*\)[^;:,]*/.exec(rest);
          if (!closing) break;
          match += closing[0];
        }
        values.push(decodeParamValue(match));
        pos += match.length;
      }
    } while (text[pos] === ",");
    params.set(paramName.toUpperCase(), values);
  }
  if (text[pos] !== ":") {
    throw new Error(`line ${line}: ${name} has no ":" before its value`);
  }
  const property = { name: name.toUpperCase(), params, value: text.slice(pos + 1), line };
  return dropped.length === 0 ? property : {
    ...property,
    repair: `line ${line}: ${name} parameter ${dropped.join(", ")} has no value; left out`,
  };
}

function count(text: string, char: string): number {
  return text.split(char).length - 1;
}

function preview(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/**
 * Parses iCalendar source into its top-level VCALENDAR components. A malformed line is
 * recorded as a problem of the component that holds it; input that does not start with
 * BEGIN:VCALENDAR, or whose BEGIN/END lines do not pair up, raises {@link IcsError}.
 */
export function parseComponents(source: string | Uint8Array): Component[] {
  const bytes = typeof source === "string" ? new TextEncoder().encode(source) : source;
  const lines = unfold(bytes);
  if (lines.length === 0) throw new IcsError("the input is empty, expected BEGIN:VCALENDAR");
  const first = lines[0];
  if (first.text.trim().toUpperCase() !== "BEGIN:VCALENDAR") {
    throw new IcsError(
      `line ${first.line}: expected BEGIN:VCALENDAR, found "${
        preview(first.text)
      }"; this is not iCalendar data`,
    );
  }
  const calendars: Component[] = [];
  const stack: Component[] = [];
  const problem = (message: string, line: number, reason: ReadWarning["reason"]) => {
    const holder = stack[stack.length - 1] ?? calendars[calendars.length - 1];
    holder.problems.push(readWarning(reason, message, line));
  };
  const legacy = lines.filter((l) => l.legacy);
  for (const logical of lines) {
    if (stack.length === 0 && calendars.length > 0) {
      // After END:VCALENDAR only another VCALENDAR counts; anything else is junk that
      // mail gateways and web servers append, and is ignored.
      if (!/^BEGIN:VCALENDAR\s*$/i.test(logical.text.trim())) {
        problem(
          `line ${logical.line}: "${preview(logical.text)}" after END:VCALENDAR ignored`,
          logical.line,
          "trailing-data",
        );
        continue;
      }
    }
    let property: ContentLine;
    try {
      property = parseContentLine(logical);
    } catch (error) {
      const message = (error as Error).message;
      if (stack.length === 0) throw new IcsError(message);
      problem(`${message}; line left out`, logical.line, "malformed-line");
      continue;
    }
    if (property.repair && stack.length > 0) {
      problem(property.repair, property.line, "malformed-value");
    }
    const current = stack[stack.length - 1];
    if (property.name === "BEGIN") {
      const component: Component = {
        name: property.value.trim().toUpperCase(),
        line: property.line,
        properties: [],
        components: [],
        problems: [],
      };
      const unclosed = TOP_LEVEL.has(component.name)
        ? stack.findLastIndex((c) => TOP_LEVEL.has(c.name))
        : -1;
      if (unclosed >= 0) {
        // Calendar components never nest: a BEGIN:VEVENT inside a VEVENT means the first
        // lost its END. Close it here, or the second event would be hidden inside it.
        const open = stack[unclosed];
        problem(
          `line ${property.line}: BEGIN:${component.name} inside BEGIN:${open.name} at line ` +
            `${open.line}; that one is taken as ended here`,
          property.line,
          "malformed-line",
        );
        stack.length = unclosed;
      }
      const parent = stack[stack.length - 1];
      if (parent) parent.components.push(component);
      else if (component.name === "VCALENDAR") calendars.push(component);
      else throw new IcsError(`line ${property.line}: BEGIN:${component.name} outside VCALENDAR`);
      stack.push(component);
    } else if (property.name === "END") {
      const name = property.value.trim().toUpperCase();
      const open = stack.findLastIndex((c) => c.name === name);
      if (open < 0) {
        const inside = current ? `BEGIN:${current.name} at line ${current.line}` : "nothing";
        problem(
          `line ${property.line}: END:${name} closes nothing (open: ${inside}); line left out`,
          property.line,
          "malformed-line",
        );
        continue;
      }
      if (open < stack.length - 1) {
        // An END that skips open components (a VALARM never closed): close them too, as
        // libical does, rather than let the rest of the file nest inside them.
        const unclosed = stack.slice(open + 1).map((c) => `BEGIN:${c.name} at line ${c.line}`);
        problem(
          `line ${property.line}: END:${name} also closes ${unclosed.join(", ")}`,
          property.line,
          "malformed-line",
        );
      }
      stack.length = open;
    } else if (current) {
      current.properties.push(property);
    } else {
      throw new IcsError(`line ${property.line}: ${property.name} outside VCALENDAR`);
    }
  }
  if (legacy.length > 0) {
    calendars[0].problems.push(readWarning(
      "malformed-value",
      `${legacy.length} line(s) are not UTF-8 (first: line ${legacy[0].line}); read as ` +
        "Windows-1252, as older Outlook and Windows tools write them",
      legacy[0].line,
    ));
  }
  if (stack.length === 1) {
    // Every component inside was closed: only END:VCALENDAR is missing, which hand-made
    // feeds forget. A download cut off mid-way would leave an inner component open.
    problem(
      `BEGIN:VCALENDAR at line ${stack[0].line} is never closed; read as if it were`,
      stack[0].line,
      "malformed-line",
    );
  } else if (stack.length > 0) {
    const open = stack[stack.length - 1];
    throw new IcsError(
      `line ${open.line}: BEGIN:${open.name} is never closed; the data looks truncated`,
    );
  }
  return calendars;
}
