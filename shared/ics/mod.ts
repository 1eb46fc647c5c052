/**
 * iCalendar (RFC 5545) for calsync: {@link parseIcs} reads a calendar into occurrences
 * inside a window, expanding recurring series; {@link generateIcs} writes occurrences as a
 * calendar that any client (and `parseIcs`) reads back.
 *
 * @example
 * ```ts
 * const window = { start: "2026-03-23T00:00:00Z", end: "2026-04-06T00:00:00Z" };
 * const occurrences = parseIcs(await Deno.readFile("calendar.ics"), window);
 * const feed = generateIcs(occurrences, { calendarName: "Team" });
 * ```
 *
 * @module
 */
export { generateIcs, type GenerateIcsOptions } from "./generate.ts";
export { parseIcs, parseIcsDetailed, type ParseIcsOptions, type ParseIcsResult } from "./parse.ts";
export { IcsError } from "./syntax.ts";
