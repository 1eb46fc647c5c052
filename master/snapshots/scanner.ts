/**
 * Splitting a snapshot body into its parts as its bytes arrive: each member of the top
 * object, and each element of its `events` array, is cut out and handed to the native
 * `JSON.parse`. Only the body's outline (braces, brackets, commas, keys) is read here, by
 * byte; what lies inside a part is left to `JSON.parse`, which validates it. Streaming
 * JSON parsers tokenise every value in JavaScript: about five times slower, and the
 * garbage they make per token was a large part of what a big upload grew the heap by.
 *
 * @module
 */
import { malformedJson } from "../http/body.ts";
import { HttpError } from "../http/errors.ts";

/** What a `SnapshotScanner` hands on as it reads. */
export type ScannerHandlers = {
  /** A member of the top object other than an `events` array, parsed. */
  member(key: string, value: unknown): void;
  /** The next element of the `events` array, parsed; `index` counts from 0. */
  event(value: unknown, index: number): void;
  /** The whole body, parsed, when it is JSON but not an object. */
  other(value: unknown): void;
};

// Where in the body's outline the scanner stands.
const START = 0;
const KEY_OR_CLOSE = 1;
const KEY = 2;
const COLON = 3;
const VALUE = 4;
const PART = 5;
const AFTER_MEMBER = 6;
const NEXT_KEY = 7;
const ELEMENT_OR_CLOSE = 8;
const ELEMENT = 9;
const AFTER_ELEMENT = 10;
const DONE = 11;
const OTHER = 12;
const BOM_SECOND = 13;
const BOM_THIRD = 14;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON_BYTE = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/** Shows a byte of the outline in an error message. */
function shown(b: number): string {
  return b >= 0x21 && b <= 0x7e ? `'${String.fromCharCode(b)}'` : `byte 0x${b.toString(16)}`;
}

/**
 * Reads a snapshot body chunk by chunk; see the module documentation. `write` and `end`
 * throw a 400 `malformed_json` `HttpError` for a body that is not JSON, naming where.
 */
export class SnapshotScanner {
  #handlers: ScannerHandlers;
  #decoder = new TextDecoder("utf-8", { fatal: true });
  #state = START;
  /** Bytes of the body read before the current chunk. */
  #offset = 0;
  /** The part being cut out: chunks of it from earlier writes. */
  #pending: Uint8Array[] = [];
  #depth = 0;
  #inString = false;
  #escaped = false;
  /** The key of the member being read. */
  #key = "";
  #inEvents = false;
  #sawEvents = false;
  #events = 0;

  constructor(handlers: ScannerHandlers) {
    this.#handlers = handlers;
  }

  /** Whether the body held an `events` array, whose elements went to `event`. */
  get sawEvents(): boolean {
    return this.#sawEvents;
  }

  /** Reads the next bytes of the body. */
  write(bytes: Uint8Array): void {
    let partStart = this.#state === PART || this.#state === KEY || this.#state === OTHER ? 0 : -1;
    const n = bytes.length;
    for (let i = 0; i < n; i++) {
      const b = bytes[i];
      switch (this.#state) {
        case PART: {
          i = this.#scanPart(bytes, i);
          if (i === n) break;
          this.#endPart(bytes, partStart, i);
          partStart = -1;
          this.#state = this.#inEvents ? AFTER_ELEMENT : AFTER_MEMBER;
          i--; // the byte that ended the part belongs to the outline
          break;
        }
        case KEY: {
          i = this.#scanString(bytes, i);
          if (i === n) break;
          this.#key = this.#parse(this.#take(bytes, partStart, i + 1), "a key") as string;
          partStart = -1;
          this.#state = COLON;
          break;
        }
        case OTHER:
          i = n;
          break;
        default: {
          if (isSpace(b)) continue;
          const next = this.#outline(b, this.#offset + i);
          if (next === KEY) {
            partStart = i;
            this.#escaped = false;
          } else if (next === PART || next === OTHER) {
            partStart = i;
            this.#depth = 0;
            this.#inString = false;
            this.#escaped = false;
            i--; // the part's first byte is scanned as part of it
          }
          this.#state = next;
        }
      }
    }
    if (partStart >= 0) this.#pending.push(bytes.subarray(partStart));
    this.#offset += n;
  }

  /** Ends the body: throws if its JSON is incomplete. */
  end(): void {
    if (this.#state === OTHER) {
      this.#state = DONE;
      this.#handlers.other(this.#parse(this.#take(new Uint8Array(), 0, 0), "the body"));
      return;
    }
    if (this.#state !== DONE) throw malformedJson("the body ends before its JSON does");
  }

  /** The state after outline byte `b` at body offset `at`, or throws. */
  #outline(b: number, at: number): number {
    const unexpected = (expected: string) =>
      malformedJson(`unexpected ${shown(b)} at byte ${at}; expected ${expected}`);
    switch (this.#state) {
      case START:
        if (b === OPEN_BRACE) return KEY_OR_CLOSE;
        // A byte order mark, which decoders drop, may open the body.
        if (at === 0 && b === 0xef) return BOM_SECOND;
        return OTHER;
      case BOM_SECOND:
        if (b === 0xbb) return BOM_THIRD;
        throw malformedJson("the body is not UTF-8 text");
      case BOM_THIRD:
        if (b === 0xbf) return START;
        throw malformedJson("the body is not UTF-8 text");
      case KEY_OR_CLOSE:
        if (b === CLOSE_BRACE) return DONE;
        if (b === QUOTE) return KEY;
        throw unexpected("a key or '}'");
      case NEXT_KEY:
        if (b === QUOTE) return KEY;
        throw unexpected("a key");
      case COLON:
        if (b === COLON_BYTE) return VALUE;
        throw unexpected("':'");
      case VALUE:
        if (this.#key === "events" && b === OPEN_BRACKET) {
          if (this.#sawEvents) {
            throw new HttpError(400, "invalid_field", "events: given twice; send one array");
          }
          this.#sawEvents = true;
          this.#inEvents = true;
          return ELEMENT_OR_CLOSE;
        }
        return PART;
      case AFTER_MEMBER:
        if (b === COMMA) return NEXT_KEY;
        if (b === CLOSE_BRACE) return DONE;
        throw unexpected("',' or '}'");
      case ELEMENT_OR_CLOSE:
        if (b === CLOSE_BRACKET) return this.#leaveEvents();
        return PART;
      case ELEMENT:
        if (b === CLOSE_BRACKET) throw unexpected("an event");
        return PART;
      case AFTER_ELEMENT:
        if (b === COMMA) return ELEMENT;
        if (b === CLOSE_BRACKET) return this.#leaveEvents();
        throw unexpected("',' or ']'");
      default:
        throw malformedJson(`unexpected ${shown(b)} at byte ${at} after the end of the JSON`);
    }
  }

  #leaveEvents(): number {
    this.#inEvents = false;
    return AFTER_MEMBER;
  }

  /**
   * Scans a part from `i`: returns the index of the byte that ends it (a comma, closing
   * bracket or space outside strings and nesting), or `bytes.length` if it goes on.
   */
  #scanPart(bytes: Uint8Array, i: number): number {
    const n = bytes.length;
    let depth = this.#depth;
    let inString = this.#inString;
    let escaped = this.#escaped;
    for (; i < n; i++) {
      const b = bytes[i];
      if (inString) {
        if (escaped) escaped = false;
        else if (b === BACKSLASH) escaped = true;
        else if (b === QUOTE) inString = false;
      } else if (b === QUOTE) inString = true;
      else if (b === OPEN_BRACE || b === OPEN_BRACKET) depth++;
      else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
        if (depth === 0) break;
        depth--;
      } else if (depth === 0 && (b === COMMA || isSpace(b))) break;
    }
    this.#depth = depth;
    this.#inString = inString;
    this.#escaped = escaped;
    return i;
  }

  /**
   * Scans a key from `i`, past its opening quote: the index of its closing quote, or
   * `bytes.length` if it goes on.
   */
  #scanString(bytes: Uint8Array, i: number): number {
    const n = bytes.length;
    let escaped = this.#escaped;
    for (; i < n; i++) {
      const b = bytes[i];
      if (escaped) escaped = false;
      else if (b === BACKSLASH) escaped = true;
      else if (b === QUOTE) break;
    }
    this.#escaped = escaped;
    return i;
  }

  /** Hands on the part that ends before `end` in `bytes`. */
  #endPart(bytes: Uint8Array, start: number, end: number): void {
    const text = this.#take(bytes, start, end);
    if (this.#inEvents) {
      const index = this.#events++;
      this.#handlers.event(this.#parse(text, `events[${index}]`), index);
    } else {
      this.#handlers.member(this.#key, this.#parse(text, this.#key));
    }
  }

  /** The text of the part: its pending chunks and `bytes[start..end)`. */
  #take(bytes: Uint8Array, start: number, end: number): string {
    const last = bytes.subarray(start, end);
    let whole = last;
    if (this.#pending.length > 0) {
      this.#pending.push(last);
      whole = new Uint8Array(this.#pending.reduce((sum, p) => sum + p.length, 0));
      let at = 0;
      for (const p of this.#pending) {
        whole.set(p, at);
        at += p.length;
      }
      this.#pending = [];
    }
    try {
      return this.#decoder.decode(whole);
    } catch {
      throw malformedJson("the body is not UTF-8 text");
    }
  }

  /** `JSON.parse` of a part, `what` naming it in the error. */
  #parse(text: string, what: string): unknown {
    try {
      return JSON.parse(text);
    } catch (err) {
      const detail = err instanceof SyntaxError ? err.message : String(err);
      throw malformedJson(`${what}: ${detail}`);
    }
  }
}

/**
 * Hands the parts of a body already parsed whole to `handlers`, as a `SnapshotScanner`
 * would have; answers whether it held an `events` array. For a small body one native
 * `JSON.parse` is cheaper than cutting it into parts.
 */
export function scanParsed(body: unknown, handlers: ScannerHandlers): boolean {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    handlers.other(body);
    return false;
  }
  let sawEvents = false;
  for (const [key, value] of Object.entries(body)) {
    if (key === "events" && Array.isArray(value)) {
      sawEvents = true;
      value.forEach((event, index) => handlers.event(event, index));
    } else handlers.member(key, value);
  }
  return sawEvents;
}
