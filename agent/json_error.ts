/**
 * Finds where a JSON text breaks, so a hand-edited config file gets an error with a
 * line, a column and a hint; `JSON.parse` messages name neither reliably.
 *
 * @module
 */

/** The first syntax error of a JSON text. */
export interface JsonSyntaxError {
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  column: number;
  /** What is wrong there, with a hint for the usual hand-editing slips. */
  message: string;
}

class Failure {
  constructor(readonly offset: number, readonly message: string) {}
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** Scans `text` as JSON and returns its first syntax error, or `null` if it is valid. */
export function findJsonSyntaxError(text: string): JsonSyntaxError | null {
  let i = 0;
  const fail = (message: string): never => {
    throw new Failure(i, message);
  };
  const found = () => (i >= text.length ? "end of file" : `'${text[i]}'`);
  const skipSpace = () => {
    while (i < text.length && " \t\n\r".includes(text[i])) i++;
  };

  const value = (): void => {
    skipSpace();
    const c = text[i];
    if (c === "{") return members("}", member);
    if (c === "[") return members("]", value);
    if (c === '"') return string();
    if (c === "-" || (c >= "0" && c <= "9")) return number();
    for (const word of ["true", "false", "null"]) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return;
      }
    }
    if (c === "'") fail(`unexpected ${found()}; strings need double quotes (")`);
    if (c === "/") fail(`unexpected ${found()}; JSON does not allow comments`);
    fail(`unexpected ${found()}; expected a value`);
  };

  const member = (): void => {
    skipSpace();
    if (text[i] !== '"') fail(`unexpected ${found()}; expected a key in double quotes`);
    string();
    skipSpace();
    if (text[i] !== ":") fail(`unexpected ${found()}; expected ':' after the key`);
    i++;
    value();
  };

  const members = (close: string, item: () => void): void => {
    i++;
    skipSpace();
    if (text[i] === close) {
      i++;
      return;
    }
    for (;;) {
      skipSpace();
      if (text[i] === close) fail(`unexpected '${close}'; remove the comma before it`);
      item();
      skipSpace();
      if (text[i] === close) {
        i++;
        return;
      }
      if (text[i] !== ",") fail(`unexpected ${found()}; expected ',' or '${close}'`);
      i++;
    }
  };

  const string = (): void => {
    i++;
    for (;;) {
      const c = text[i];
      if (c === undefined) fail('unexpected end of file inside a string; close it with "');
      if (c === '"') {
        i++;
        return;
      }
      if (c === "\\") {
        const escape = text[i + 1];
        if (escape !== undefined && '"\\/bfnrt'.includes(escape)) i += 2;
        else if (escape === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 6;
        else {
          fail(
            `invalid escape '\\${
              escape ?? ""
            }' in a string; write a backslash as \\\\ (or use / in paths)`,
          );
        }
      } else if (c < " ") {
        fail("line break or control character inside a string");
      } else i++;
    }
  };

  const number = (): void => {
    NUMBER.lastIndex = i;
    if (!NUMBER.test(text)) fail(`unexpected ${found()}; expected a number`);
    i = NUMBER.lastIndex;
  };

  try {
    value();
    skipSpace();
    if (i < text.length) fail(`unexpected ${found()} after the end of the JSON value`);
    return null;
  } catch (error) {
    if (!(error instanceof Failure)) throw error;
    const before = text.slice(0, error.offset);
    const line = before.split("\n").length;
    const column = error.offset - (before.lastIndexOf("\n") + 1) + 1;
    return { line, column, message: error.message };
  }
}
