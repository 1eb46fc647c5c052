/**
 * Why reading Outlook failed, in words a Windows user can act on: each code the script
 * reports (and the agent's own: PowerShell missing, no answer in time, unreadable output)
 * becomes a message that says what to change.
 *
 * @module
 */
import type { z } from "zod";
import type { OutlookCalendar, OutlookFailure } from "./output.ts";

/** The codes of {@linkcode OutlookError}: the script's, then the agent's own. */
export type OutlookErrorCode =
  | z.output<typeof OutlookFailure>["error"]["code"]
  | "powershell_not_found"
  | "script_missing"
  | "bad_output";

/** A failure to read Outlook; `message` tells the user what to do. */
export class OutlookError extends Error {
  /** Creates the error; `calendars` lists what exists when a calendar was not found. */
  constructor(
    readonly code: OutlookErrorCode,
    message: string,
    readonly calendars: OutlookCalendar[] = [],
  ) {
    super(message);
    this.name = "OutlookError";
  }
}

/** What was asked of Outlook, to name it in messages. */
export interface OutlookRequest {
  /** The configured `calendar_name`; empty for the default calendar. */
  calendarName: string;
  /** The configured `owner`, or null. */
  owner: string | null;
  /** The configured `timeout_seconds`. */
  timeoutSeconds: number;
}

/** One line per calendar: its path (what `calendar_name` takes), name and owner. */
function describeCalendars(calendars: OutlookCalendar[]): string {
  return calendars
    .map((c) => {
      const who = c.owner === "" ? c.store : `${c.store}, ${c.owner}`;
      return `  ${c.path}  ("${c.name}", ${who}${c.is_default ? ", default" : ""})`;
    })
    .join("\n");
}

/** The message of an {@linkcode OutlookError} for a code the script reported. */
export function failureMessage(
  failure: z.output<typeof OutlookFailure>["error"],
  request: OutlookRequest,
): string {
  const said = withHResult(failure.message.trim(), failure.hresult);
  switch (failure.code) {
    case "outlook_not_installed":
      return "Outlook is not installed for this Windows user, or not the classic Outlook the " +
        "agent needs. Run the agent as the Windows user whose Outlook profile holds the " +
        `calendar, and open Outlook once as that user. The Outlook script reported: ${said}`;
    case "calendar_not_found": {
      const asked = request.calendarName === ""
        ? "the default calendar"
        : `"${request.calendarName}"`;
      const whose = request.owner === null ? "" : ` of ${request.owner}`;
      const listed = failure.calendars === undefined || failure.calendars.length === 0
        ? ""
        : `\nCalendars that exist (set calendar_name to a path below; in JSON write each \\ ` +
          `as \\\\):\n${describeCalendars(failure.calendars)}`;
      return `Outlook has no calendar ${asked}${whose}: ${said}${listed}\n` +
        'Run "agent list-calendars" on this PC to see every calendar with its exact path.';
    }
    case "access_denied":
      return "Outlook's security guard blocked the agent's programmatic access. Allow it in " +
        "Outlook under File > Options > Trust Center > Trust Center Settings > Programmatic " +
        "Access (Outlook run as administrator); when the choice is greyed out, group policy " +
        'sets it and an administrator must change it. A source with privacy "busy" or ' +
        `"title" never reads what the guard protects. The Outlook script reported: ${said}`;
    case "permission_denied": {
      const whose = request.owner === null ? "" : ` of ${request.owner}`;
      const asked = request.calendarName === "" ? "the calendar" : `"${request.calendarName}"`;
      return `Outlook may not open ${asked}${whose} for this Windows user: a permission is ` +
        "missing in Exchange or on the folder, not a setting of Outlook's security guard. " +
        `The Outlook script reported: ${said}`;
    }
    case "timeout":
      return timeoutMessage(request.timeoutSeconds, said);
    case "failed":
      return `the Outlook script failed: ${said}`;
  }
}

/** `message` ending with the HRESULT behind it, unless it names it already. */
function withHResult(message: string, hresult: string | null): string {
  if (hresult === null || message.toUpperCase().includes(hresult.slice(2))) return message;
  return `${message} (HRESULT ${hresult})`;
}

/**
 * The message when Outlook gave no answer in time; `said` is the script's own account,
 * empty when the agent stopped it.
 */
export function timeoutMessage(timeoutSeconds: number, said = ""): string {
  return `Outlook did not answer within ${timeoutSeconds} s (timeout_seconds)` +
    (said === "" ? "" : `: ${said}`) +
    ". Outlook may be waiting on a dialog (a security prompt, a profile choice, a " +
    "password): open Outlook on this PC and answer it, or raise timeout_seconds for a " +
    "very large calendar.";
}
