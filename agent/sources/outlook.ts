/**
 * Outlook source: one calendar of the classic Outlook for Windows of the user the agent
 * runs as, read through COM by the PowerShell script embedded in the agent.
 *
 * Config: `{"type": "outlook", "name": "Main Calendar", "calendar_name": "Calendar"}`.
 * `calendar_name` is a calendar's display name or its folder path
 * (`\\john@corp.example\Calendar\Team`); empty or absent means the default calendar.
 * Optional: `owner` (whose shared calendar to open, by name or address),
 * `include_body` (default false: descriptions are not read), `read_attendees` (default
 * true) and `timeout_seconds` (default 120). `agent list-calendars` prints every calendar
 * with its exact path.
 *
 * Outlook expands series itself (`IncludeRecurrences`), so the script returns every
 * occurrence and exception in the window. Organizer, attendees and body are what
 * Outlook's security guard protects: a source with privacy `busy` or `title` (whose
 * copies never show them) or `read_attendees: false` does not read them, so it never
 * meets the guard's prompt. A calendar found by name is opened by its ids from then on,
 * and searched for again only when they no longer lead to it.
 *
 * @module
 */
import { IncludeBody, timeoutSeconds } from "../source_settings.ts";
import { z } from "zod";
import type { Occurrence } from "../../shared/model.ts";
import { outlookOccurrence } from "../outlook/occurrence.ts";
import { type FolderIds, readOutlook, type ScriptOptions } from "../outlook/run_script.ts";
import { SourceSettings } from "../../shared/protocol.ts";
import { type ReadWarning, readWarning } from "../../shared/warnings.ts";
import type { SourceReading, SourceType } from "./mod.ts";

/** The keys of an `outlook` source. */
export const OutlookSettings = z.object({
  calendar_name: z
    .string({ error: 'expected a calendar name or path such as "Calendar"' })
    .nullable()
    .default("")
    .transform((name) => (name ?? "").trim()),
  owner: z
    .string({ error: "expected the name or address of the calendar's owner" })
    .min(1, { error: "must not be empty; remove it to read your own calendars" })
    .nullable()
    .default(null),
  include_body: IncludeBody,
  read_attendees: z.boolean({ error: "expected true or false" }).default(true),
  /** The source's privacy (validated with the other shared keys); it decides what is read. */
  privacy: SourceSettings.shape.privacy.catch("full"),
  timeout_seconds: timeoutSeconds(120),
});

/** Validated settings of an `outlook` source. */
export type OutlookSettings = z.output<typeof OutlookSettings>;

/**
 * The Outlook source type; `options` reach the PowerShell process (tests put a stand-in
 * first on its `PATH`).
 */
export function outlookSourceType(options: ScriptOptions = {}): SourceType<OutlookSettings> {
  // Per calendar_name and owner: where the last read found that calendar.
  const resolved = new Map<string, FolderIds>();
  return {
    type: "outlook",
    settings: OutlookSettings,
    describe: (s) =>
      (s.calendar_name === "" ? "Outlook default calendar" : `Outlook "${s.calendar_name}"`) +
      (s.owner === null ? "" : ` of ${s.owner}`),
    async read(s, context): Promise<SourceReading> {
      const lookup = JSON.stringify([s.calendar_name, s.owner]);
      const readProtected = s.privacy === "full" && s.read_attendees;
      const { calendar, items } = await readOutlook({
        calendarName: s.calendar_name,
        owner: s.owner,
        timeoutSeconds: s.timeout_seconds,
        startUtc: context.window.start,
        endUtc: context.window.end,
        includeBody: s.include_body && readProtected,
        readProtected,
        remembered: resolved.get(lookup) ?? null,
      }, options);
      if (calendar.entry_id !== "" && calendar.store_id !== "") {
        resolved.set(lookup, { entryId: calendar.entry_id, storeId: calendar.store_id });
      }
      // Outlook dates all-day items in the PC's zone when they carry none of their own.
      const fallbackZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
      const occurrences: Occurrence[] = [];
      const warnings: ReadWarning[] = [];
      for (const item of items) {
        try {
          occurrences.push(
            outlookOccurrence(item, { includeBody: s.include_body && readProtected, fallbackZone }),
          );
        } catch (error) {
          const message = error instanceof z.ZodError
            ? error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")
            : (error as Error).message;
          warnings.push(
            readWarning(
              "event-skipped",
              `"${item.subject}" at ${item.start_utc} skipped: ${message}`,
            ),
          );
        }
      }
      return { occurrences, warnings };
    },
  };
}

/** Reads a calendar of the local Outlook. */
export const outlookSource: SourceType<OutlookSettings> = outlookSourceType();
