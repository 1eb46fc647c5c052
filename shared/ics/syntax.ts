/**
 * The content syntax of RFC 5545 §3.1: unfolding, content lines with parameters, and the
 * BEGIN/END tree of components. Values stay raw text here; their types are decoded later.
 *
 * @module
 */

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
}

/** A component such as VEVENT, with its properties and nested components. */
export interface Component {
  /** Component name in upper case. */
  name: string;
  /** 1-based line number of its BEGIN line. */
  line: number;
  properties: ContentLine[];
  components: Component[];
  /** Lines inside this component that are not valid content lines. */
  problems: string[];
}

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
/** RFC 5545 names, plus "." and "_" that some producers put into X- names. */
const NAME = /^[A-Za-z0-9._-]+$/;
const decoder = new TextDecoder();

/** A logical line (folds removed) and the number of its first physical line. */
interface LogicalLine {
  text: string;
  line: number;
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
    const text = decoder.decode(chunks.length === 1 ? chunks[0] : concat(chunks));
    if (text.trim() !== "") lines.push({ text, line: startLine });
    chunks = [];
  };
  while (pos < bytes.length) {
    let end = pos;
    while (end < bytes.length && bytes[end] !== LF && bytes[end] !== CR) end++;
    const continues = (bytes[pos] === SPACE || bytes[pos] === TAB) && chunks.length > 0;
    if (continues) {
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
  while (text[pos] === ";") {
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
      if (text[pos] === '"') {
        const close = text.indexOf('"', pos + 1);
        if (close < 0) {
          throw new Error(`line ${line}: ${name} has an unclosed quote in ${paramName}`);
        }
        values.push(decodeParamValue(text.slice(pos + 1, close)));
        pos = close + 1;
      } else {
        const match = /^[^";:,]*/.exec(text.slice(pos))![0];
        values.push(decodeParamValue(match));
        pos += match.length;
      }
    } while (text[pos] === ",");
    params.set(paramName.toUpperCase(), values);
  }
  if (text[pos] !== ":") {
    throw new Error(`line ${line}: ${name} has no ":" before its value`);
  }
  return { name: name.toUpperCase(), params, value: text.slice(pos + 1), line };
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
  for (const logical of lines) {
    let property: ContentLine;
    try {
      property = parseContentLine(logical);
    } catch (error) {
      const message = (error as Error).message;
      if (stack.length === 0) throw new IcsError(message);
      stack[stack.length - 1].problems.push(message);
      continue;
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
      if (current) current.components.push(component);
      else if (component.name === "VCALENDAR") calendars.push(component);
      else throw new IcsError(`line ${property.line}: BEGIN:${component.name} outside VCALENDAR`);
      stack.push(component);
    } else if (property.name === "END") {
      const name = property.value.trim().toUpperCase();
      if (!current || current.name !== name) {
        const open = current
          ? `BEGIN:${current.name} at line ${current.line}`
          : "no open component";
        throw new IcsError(`line ${property.line}: END:${name} does not match ${open}`);
      }
      stack.pop();
    } else if (current) {
      current.properties.push(property);
    } else {
      throw new IcsError(`line ${property.line}: ${property.name} outside VCALENDAR`);
    }
  }
  if (stack.length > 0) {
    const open = stack[stack.length - 1];
    throw new IcsError(
      `line ${open.line}: BEGIN:${open.name} is never closed; the data looks truncated`,
    );
  }
  return calendars;
}
