/**
 * The one door to `ews-javascript-api`: every EWS module imports the library from here,
 * so the three fixes below are in place before any request is written.
 *
 * 1. The library writes extended properties with Node's `util.isNullOrUndefined`, which
 *    Node 23 removed and Deno's `node:util` does not have; without it every request that
 *    carries an extended property throws. The fix adds that one function back.
 * 2. Its XML writer puts text and attribute values into the request verbatim: a title
 *    such as "R&D <review>" makes the request malformed, and a crafted one could add
 *    elements of its own. The fix escapes every value the writer is given (all of its
 *    callers hand it plain values, never markup) and drops the control characters XML
 *    1.0 cannot carry.
 * 3. Its table of Windows zones holds display names already escaped ("Eastern Time
 *    (US &amp; Canada)"), which fix 2 would escape a second time: Exchange would read
 *    "&amp;" as part of the name. The fix turns them back into plain text once.
 *
 * @module
 */
import nodeUtil from "node:util";
import * as ews from "ews-javascript-api";
import { TimeZoneMappingData } from "ews-javascript-api/js/tzmapping.js";

const util = nodeUtil as unknown as { isNullOrUndefined?: (value: unknown) => boolean };
util.isNullOrUndefined ??= (value) => value === null || value === undefined;

// A Windows zone's entry is [IANA names, display name, standard name, daylight name, …];
// an IANA name's entry is the Windows name it maps to.
for (const entry of Object.values(TimeZoneMappingData as Record<string, unknown>)) {
  if (!Array.isArray(entry)) continue;
  for (const i of [1, 2, 3]) {
    if (typeof entry[i] === "string") entry[i] = entry[i].replaceAll("&amp;", "&");
  }
}

/** Characters XML 1.0 does not allow at all (tab, line feed and return are allowed). */
// deno-lint-ignore no-control-regex
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

/** `value` escaped for element text and for attribute values in double quotes. */
function escapeXml(value: string): string {
  return value.replace(FORBIDDEN, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

type Writer = {
  WriteValue(value: unknown, name: unknown): void;
  WriteAttributeString(...args: unknown[]): void;
};
const writer = ews.EwsServiceXmlWriter.prototype as unknown as Writer;
const writeValue = writer.WriteValue;
const writeAttribute = writer.WriteAttributeString;
writer.WriteValue = function (this: Writer, value, name) {
  writeValue.call(this, typeof value === "string" ? escapeXml(value) : value, name);
};
// The value is the last argument, with or without a namespace prefix before the name.
writer.WriteAttributeString = function (this: Writer, ...args) {
  const last = args.length - 1;
  if (typeof args[last] === "string") args[last] = escapeXml(args[last] as string);
  writeAttribute.apply(this, args);
};

export { ews };
