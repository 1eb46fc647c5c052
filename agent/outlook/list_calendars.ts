/**
 * `agent list-calendars`: every calendar of the local Outlook with the exact name or path
 * to write as `calendar_name`, ending with a source to paste into the config. Needs no
 * config and no master; with a config, it marks the calendars its sources read.
 *
 * @module
 */
import { type AgentConfig, ConfigError, loadConfig } from "../config.ts";
import type { OutlookSettings } from "../sources/outlook.ts";
import { OutlookError } from "./errors.ts";
import type { OutlookCalendar } from "./output.ts";
import { listOutlookCalendars, type ScriptOptions } from "./run_script.ts";

/** Listing all folders of every store can take a while with large archives. */
const TIMEOUT_SECONDS = 120;

/** What the command works with. */
export interface ListCalendarsOptions {
  /** The config file; a missing one is fine. */
  configPath: string;
  /** The platform (`Deno.build.os`); only Windows has Outlook's COM objects. */
  os: typeof Deno.build.os;
  /** How to start PowerShell. */
  script: ScriptOptions;
  /** Prints to standard output. */
  stdout: (text: string) => void;
  /** Prints to standard error. */
  stderr: (text: string) => void;
}

/** Whether a source's `calendar_name` (and owner) picks `calendar`. */
function reads(settings: OutlookSettings, calendar: OutlookCalendar): boolean {
  if ((settings.owner !== null) !== calendar.shared) return false;
  if (settings.owner !== null && settings.owner.toLowerCase() !== calendar.owner.toLowerCase()) {
    return false;
  }
  const name = settings.calendar_name.toLowerCase();
  if (name === "") return calendar.shared ? calendar.shared_default : calendar.is_default;
  return name === calendar.path.toLowerCase() || name === calendar.name.toLowerCase();
}

/** The source that reads `calendar`, as it goes into `calendar_sources`. */
function sourceFor(calendar: OutlookCalendar): Record<string, string> {
  if (!calendar.shared) {
    return { type: "outlook", name: calendar.name, calendar_name: calendar.path };
  }
  // A colleague's default calendar is asked for by its owner alone; another of their
  // calendars by its name below the owner's calendar.
  return calendar.shared_default
    ? { type: "outlook", name: calendar.owner, owner: calendar.owner }
    : {
      type: "outlook",
      name: `${calendar.name} (${calendar.owner})`,
      owner: calendar.owner,
      calendar_name: calendar.name,
    };
}

/** A source as one line of JSON. */
function oneLine(source: Record<string, string>): string {
  return `  ${JSON.stringify(source, null, 1).replace(/\n */g, " ")}`;
}

/** The ids of the config's Outlook sources that read `calendar`. */
function readers(config: AgentConfig | null, calendar: OutlookCalendar): string[] {
  return (config?.calendar_sources ?? [])
    .filter((s) => s.type === "outlook" && reads(s.settings as OutlookSettings, calendar))
    .map((s) => s.id);
}

/** `rows` as columns padded to their widest cell, the first row the header. */
function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows
    .map((row) =>
      row.map((cell, i) => i === row.length - 1 ? cell : cell.padEnd(widths[i])).join("  ")
        .trimEnd()
    )
    .join("\n");
}

/** The listing: the table, the sources that use each calendar, and a config example. */
function formatCalendars(calendars: OutlookCalendar[], config: AgentConfig | null): string {
  if (calendars.length === 0) {
    return "Outlook has no calendar folders for this Windows user (is a profile set up?).";
  }
  const header = ["", "NAME", "PATH", "STORE (OWNER)", "ITEMS"];
  const rows = calendars.map((c) => [
    c.is_default ? "*" : "",
    c.name,
    c.path,
    c.shared ? `shared by ${c.owner}` : c.owner === "" ? c.store : `${c.store} (${c.owner})`,
    String(c.item_count),
  ]);
  if (config !== null) {
    header.push("USED BY");
    calendars.forEach((c, i) => rows[i].push(readers(config, c).join(", ")));
  }
  const own = calendars.filter((c) => !c.shared);
  const shared = calendars.filter((c) => c.shared);
  const count = new Map<string, number>();
  for (const c of own) {
    count.set(c.name.toLowerCase(), (count.get(c.name.toLowerCase()) ?? 0) + 1);
  }
  const repeated = [...new Set(own.map((c) => c.name))]
    .filter((name) => (count.get(name.toLowerCase()) ?? 0) > 1);
  const example = own.find((c) => !c.is_default) ?? own[0];
  return [
    "Outlook calendars of this Windows user (* = the default calendar):",
    "",
    table([header, ...rows]),
    "",
    'Set "calendar_name" to a PATH, or to a NAME no other calendar has; leave it out for',
    "the default calendar. In the JSON config, write each \\ as \\\\.",
    ...(repeated.length === 0 ? [] : [
      `More than one calendar is named ${repeated.map((n) => `"${n}"`).join(", ")}: ` +
      "give the path.",
    ]),
    "",
    ...(example === undefined
      ? []
      : ['For example, in "calendar_sources":', oneLine(sourceFor(example))]),
    ...(shared.length === 0 ? [] : [
      "",
      'A calendar shared by a colleague is read with "owner", their name or address:',
      ...shared.map((c) => oneLine(sourceFor(c))),
    ]),
  ].join("\n");
}

/** The config when there is one and it is valid; a broken one is reported on stderr. */
async function optionalConfig(options: ListCalendarsOptions): Promise<AgentConfig | null> {
  try {
    await Deno.stat(options.configPath);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
  try {
    return await loadConfig(options.configPath);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    options.stderr(`(the calendars in use are not marked: ${error.message})`);
    return null;
  }
}

/** Runs the command; returns the exit code (0 listed, 1 failed). */
export async function listCalendars(options: ListCalendarsOptions): Promise<number> {
  if (options.os !== "windows") {
    options.stderr(
      "list-calendars reads Outlook, which is available only on Windows; this agent runs on " +
        `${options.os}. Use it on the Windows PC whose Outlook holds the calendars.`,
    );
    return 1;
  }
  const config = await optionalConfig(options);
  let calendars: OutlookCalendar[];
  try {
    calendars = await listOutlookCalendars(TIMEOUT_SECONDS, options.script);
  } catch (error) {
    if (!(error instanceof OutlookError)) throw error;
    options.stderr(error.message);
    return 1;
  }
  options.stdout(formatCalendars(calendars, config));
  return 0;
}
