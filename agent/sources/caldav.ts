/**
 * CalDAV source: the events of one calendar collection (mailcow/SOGo, Nextcloud,
 * Radicale, …) that touch the sync window, expanded by calsync's own ICS parser.
 *
 * The server only selects objects (calendar-query with a time-range); recurring series
 * are expanded here, as for ICS files, because servers differ in how they expand and
 * some do not at all.
 *
 * Config: `{"type": "caldav", "name": "Team", "url": "https://…/Calendar/personal/",
 * "username": "…", "password": "…"}`, optional `timeout_seconds` (default 60). The URL
 * may also be the server's, when the user has exactly one calendar. Times written
 * without a zone are read in the machine's zone, as ICS sources do by default.
 *
 * @module
 */
import { timeoutSeconds } from "../source_settings.ts";
import { z } from "zod";
import { CalDavClient } from "../../shared/caldav/client.ts";
import { parseIcsDetailed } from "../../shared/ics/mod.ts";
import { type Occurrence, occurrenceKey } from "../../shared/model.ts";
import { displayUrl } from "../http.ts";
import { locatedWarning, type ReadWarning, readWarning } from "../../shared/warnings.ts";
import type { SourceReading, SourceType } from "./mod.ts";

const URL_HINT = "expected an http(s) URL such as https://mail.example.com/SOGo/dav/USER/" +
  "Calendar/personal/";

const DAY_MS = 86_400_000;

function isHttpUrl(value: string): boolean {
  try {
    return ["http:", "https:"].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

/** The keys of a `caldav` source. */
export const CalDavSettings = z.object({
  url: z.string({ error: URL_HINT }).refine(isHttpUrl, { error: URL_HINT }),
  username: z.string({ error: "expected the CalDAV user name as a string" }),
  password: z.string({ error: "expected the CalDAV password as a string" }),
  timeout_seconds: timeoutSeconds(60),
});

/** Validated settings of a `caldav` source. */
export type CalDavSettings = z.output<typeof CalDavSettings>;

/** Reads a CalDAV calendar collection. */
export const calDavSource: SourceType<CalDavSettings> = {
  type: "caldav",
  settings: CalDavSettings,
  describe: (s) => displayUrl(s.url),
  async read(s, context): Promise<SourceReading> {
    const client = await CalDavClient.open({
      url: s.url,
      username: s.username,
      password: s.password,
      fetch: context.fetch,
      timeoutMs: s.timeout_seconds * 1000,
    });
    // Servers place floating times and dates in a zone of their choosing; a day's margin
    // keeps such events at the edges, and the parser below cuts to the exact window.
    const objects = await client.listObjects({
      start: new Date(Date.parse(context.window.start) - DAY_MS).toISOString(),
      end: new Date(Date.parse(context.window.end) + DAY_MS).toISOString(),
    });
    const floatingZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    const encoder = new TextEncoder();
    const byKey = new Map<string, Occurrence>();
    const warnings: ReadWarning[] = [];
    for (const object of objects) {
      // One object at a time: its VTIMEZONEs apply to it alone, and a broken one is
      // skipped with a warning instead of failing the whole calendar.
      try {
        const reading = parseIcsDetailed(encoder.encode(object.data), context.window, {
          floatingZone,
        });
        warnings.push(...reading.warnings.map((w) => locatedWarning(object.href, w)));
        for (const occurrence of reading.occurrences) {
          const key = occurrenceKey(occurrence);
          if (!byKey.has(key)) byKey.set(key, occurrence);
        }
      } catch (error) {
        warnings.push(
          readWarning("event-skipped", `${object.href}: skipped: ${(error as Error).message}`),
        );
      }
    }
    return { occurrences: [...byKey.values()], warnings };
  },
};
