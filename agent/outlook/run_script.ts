/**
 * Runs `agent/outlook.ps1`, the PowerShell script that reads Outlook through COM, and
 * checks what it prints against the contract in `output.ts`.
 *
 * The script is embedded in the executable (`deno compile --include agent/outlook.ps1`)
 * and read from beside this module, which works the same under `deno run`. PowerShell
 * runs scripts from files, so each run copies it to a temporary file first.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { z } from "zod";
import { formatPath } from "../../shared/json_path.ts";
import {
  decodeText,
  ProgramNotFoundError,
  type ProgramResult,
  ProgramTimeoutError,
  runProgram,
} from "../windows/program.ts";
import { POWERSHELL } from "../windows/powershell.ts";
import { failureMessage, OutlookError, type OutlookRequest, timeoutMessage } from "./errors.ts";
import {
  type OutlookCalendar,
  type OutlookFailure,
  type OutlookItem,
  OutlookListOutput,
  OutlookReadOutput,
} from "./output.ts";

/** Where the script lives; inside a compiled agent, in its embedded files. */
const SCRIPT_URL = new URL("../outlook.ps1", import.meta.url);

/** How much of unexpected output a message quotes. */
const QUOTED_CHARS = 200;

/** How to start the script. */
export interface ScriptOptions {
  /** Variables added to PowerShell's environment (tests point `PATH` at a stand-in). */
  env?: Record<string, string>;
}

/** A read of one calendar's occurrences in a window. */
export interface ReadRequest extends OutlookRequest {
  /** Start of the window, a UTC instant. */
  startUtc: string;
  /** End of the window, a UTC instant. */
  endUtc: string;
  /** Whether to read the bodies too. */
  includeBody: boolean;
  /**
   * Whether organizer, attendees and body may be read: the properties Outlook's security
   * guard protects. False for sources whose copies never show them.
   */
  readProtected: boolean;
  /** The folder an earlier read of the same calendar resolved to; null for a first read. */
  remembered: FolderIds | null;
}

/** Outlook's ids of a calendar folder, to open it again without searching. */
export interface FolderIds {
  /** The folder's EntryID. */
  entryId: string;
  /** Its store's StoreID. */
  storeId: string;
}

/** How the script divides `timeout_seconds`. */
export interface ScriptBudget {
  /** After this, the script's watchdog stops the hidden Outlook it started. */
  deadlineSeconds: number;
  /** At most this long a hidden Outlook the script started may fetch from the server. */
  syncSeconds: number;
}

/**
 * The script's share of `timeoutSeconds`. Its watchdog fires well before the agent stops
 * PowerShell, so that a hung Outlook is stopped and the failure still reported as JSON;
 * fetching from the server takes at most a third of what remains.
 */
export function scriptBudget(timeoutSeconds: number): ScriptBudget {
  const margin = Math.min(10, Math.max(2, Math.ceil(timeoutSeconds / 5)));
  const deadlineSeconds = Math.max(1, Math.floor(timeoutSeconds - margin));
  return { deadlineSeconds, syncSeconds: Math.min(30, Math.floor(deadlineSeconds / 3)) };
}

/** What a successful read gives. */
export interface ReadResult {
  /** The calendar that was read. */
  calendar: OutlookCalendar;
  /** Its occurrences overlapping the window, series expanded. */
  items: OutlookItem[];
}

/** A parameter of the script: its name without the dash, and its value (`true`: a switch). */
type ScriptParameter = [name: string, value: string | true];

/** `text` as a PowerShell single-quoted string literal. */
export function psLiteral(text: string): string {
  // PowerShell takes the typographic single quotes for quotes too, so each is doubled.
  return `'${text.replace(/['\u2018\u2019\u201A\u201B]/g, "$&$&")}'`;
}

/**
 * The command PowerShell runs: the script at `scriptPath` with `parameters`, splatted from a
 * hashtable. Going through `-EncodedCommand` rather than `-File` lets the console's encoding
 * be set first, so whatever PowerShell itself writes to standard error (a script blocked
 * by policy, a parse error) arrives in UTF-8 rather than in the console's OEM code page;
 * and no value can be lost or split on powershell.exe's command line.
 */
export function scriptCommand(scriptPath: string, parameters: ScriptParameter[]): string {
  const entries = parameters.map(([name, value]) =>
    `  ${name} = ${value === true ? "$true" : psLiteral(value)}`
  );
  return [
    "$ErrorActionPreference = 'Stop'",
    "[Console]::OutputEncoding = [System.Text.UTF8Encoding]::new($false)",
    "$parameters = @{",
    ...entries,
    "}",
    `& ${psLiteral(scriptPath)} @parameters`,
    "exit $LASTEXITCODE",
  ].join("\n");
}

/**
 * PowerShell's arguments: no profile (a user's profile may print or prompt), never
 * interactive, scripts allowed whatever the machine's execution policy says, and the
 * command as base64 of its UTF-16LE text.
 */
function powershellArgs(command: string): string[] {
  const encoded = Buffer.from(command, "utf16le").toString("base64");
  return [
    "-NoProfile",
    "-NonInteractive",
    "-ExecutionPolicy",
    "Bypass",
    "-EncodedCommand",
    encoded,
  ];
}

/** The script's parameters for a read. */
function readParameters(request: ReadRequest): ScriptParameter[] {
  const budget = scriptBudget(request.timeoutSeconds);
  const parameters: ScriptParameter[] = [["Mode", "read"]];
  // The default calendar is asked for by leaving -CalendarName out.
  if (request.calendarName !== "") parameters.push(["CalendarName", request.calendarName]);
  parameters.push(["StartUtc", request.startUtc], ["EndUtc", request.endUtc]);
  if (request.owner !== null) parameters.push(["Owner", request.owner]);
  if (request.includeBody) parameters.push(["IncludeBody", true]);
  if (!request.readProtected) parameters.push(["SkipGuarded", true]);
  if (request.remembered !== null && request.calendarName !== "") {
    parameters.push(
      ["EntryId", request.remembered.entryId],
      ["StoreId", request.remembered.storeId],
    );
  }
  parameters.push(
    ["DeadlineSeconds", String(budget.deadlineSeconds)],
    ["SyncSeconds", String(budget.syncSeconds)],
  );
  return parameters;
}

/** The embedded script's text, or an error saying the build lacks it. */
async function scriptText(): Promise<string> {
  try {
    return await Deno.readTextFile(SCRIPT_URL);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    throw new OutlookError(
      "script_missing",
      "this build of the agent lacks its Outlook script (agent/outlook.ps1); build it with " +
        "deno task compile:agent-windows, which embeds it",
    );
  }
}

/** Starts PowerShell on a temporary copy of the script with `parameters`. */
async function startScript(
  parameters: ScriptParameter[],
  request: OutlookRequest,
  options: ScriptOptions,
): Promise<ProgramResult> {
  const text = await scriptText();
  const path = await Deno.makeTempFile({ prefix: "calsync-outlook-", suffix: ".ps1" });
  try {
    // Windows PowerShell reads a script without a byte-order mark in the ANSI code page,
    // which would garble every non-ASCII character in it.
    await Deno.writeTextFile(path, "\uFEFF" + text.replace(/^\uFEFF/, ""));
    return await runProgram(POWERSHELL, powershellArgs(scriptCommand(path, parameters)), {
      timeoutMs: request.timeoutSeconds * 1000,
      env: options.env,
    });
  } catch (error) {
    if (error instanceof ProgramTimeoutError) {
      throw new OutlookError("timeout", timeoutMessage(request.timeoutSeconds));
    }
    if (error instanceof ProgramNotFoundError) {
      throw new OutlookError(
        "powershell_not_found",
        `cannot start ${POWERSHELL}: not found. Outlook sources need Windows with classic ` +
          "Outlook and Windows PowerShell.",
      );
    }
    throw error;
  } finally {
    await Deno.remove(path).catch(() => {});
  }
}

/** `text` cut to {@link QUOTED_CHARS} characters, for a message. */
function quote(text: string): string {
  const trimmed = text.trim();
  return trimmed.length <= QUOTED_CHARS ? trimmed : `${trimmed.slice(0, QUOTED_CHARS)}…`;
}

/** The exit code and standard error, as a message ends. */
function processDetails(result: ProgramResult): string {
  const stderr = quote(decodeText(result.stderr));
  return `exit code ${result.code}${stderr === "" ? "" : `; stderr: ${stderr}`}`;
}

/** The answer of a script run that failed. */
type Failure = z.output<typeof OutlookFailure>;

/**
 * The script's answer validated with `schema`. An error answer becomes an
 * {@linkcode OutlookError} with its message; no answer, or one that is not JSON or not
 * what the contract says, becomes a `bad_output` error quoting what came.
 */
function parseAnswer<T extends { ok: true }>(
  result: ProgramResult,
  schema: z.ZodType<T | Failure>,
  request: OutlookRequest,
): T {
  const stdout = decodeText(result.stdout).trim();
  if (stdout === "") {
    throw new OutlookError(
      "bad_output",
      `the Outlook script printed nothing (${processDetails(result)})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    throw new OutlookError(
      "bad_output",
      `the Outlook script printed something other than JSON (${processDetails(result)}): ` +
        quote(stdout),
    );
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new OutlookError(
      "bad_output",
      "the Outlook script's answer does not match what the agent expects, at " +
        `${formatPath(issue.path) || "the top level"}: ${issue.message} ` +
        `(${processDetails(result)})`,
    );
  }
  if (!parsed.data.ok) {
    const { error } = parsed.data as Failure;
    throw new OutlookError(error.code, failureMessage(error, request), error.calendars);
  }
  if (result.code !== 0) {
    throw new OutlookError(
      "bad_output",
      `the Outlook script answered but then failed (${processDetails(result)})`,
    );
  }
  return parsed.data as T;
}

/** Reads one calendar's occurrences in a window; throws {@linkcode OutlookError}. */
export async function readOutlook(
  request: ReadRequest,
  options: ScriptOptions = {},
): Promise<ReadResult> {
  const result = await startScript(readParameters(request), request, options);
  const { calendar, items } = parseAnswer(result, OutlookReadOutput, request);
  return { calendar, items };
}

/** Lists every calendar folder Outlook has; throws {@linkcode OutlookError}. */
export async function listOutlookCalendars(
  timeoutSeconds: number,
  options: ScriptOptions = {},
): Promise<OutlookCalendar[]> {
  const request: OutlookRequest = { calendarName: "", owner: null, timeoutSeconds };
  const parameters: ScriptParameter[] = [
    ["Mode", "list"],
    ["DeadlineSeconds", String(scriptBudget(timeoutSeconds).deadlineSeconds)],
  ];
  const result = await startScript(parameters, request, options);
  return parseAnswer(result, OutlookListOutput, request).calendars;
}
