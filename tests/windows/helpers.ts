/**
 * What the Windows-only tests share: whether they run at all, Windows PowerShell 5.1
 * started the way the agent starts it, and the processes Windows lists.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { encodedCommandArgs, POWERSHELL } from "../../agent/windows/powershell.ts";
import { decodeText, runProgram } from "../../agent/windows/program.ts";

/**
 * True everywhere but on Windows. The tests in this folder use the real powershell.exe,
 * schtasks.exe and Task Scheduler, so elsewhere they are reported as ignored.
 */
export const NOT_WINDOWS = Deno.build.os !== "windows";

/** What a PowerShell command did, its output decoded. */
export interface PowerShellRun {
  /** Its exit code. */
  code: number;
  /** Standard output as UTF-8. */
  stdout: string;
  /** Standard error as UTF-8. */
  stderr: string;
}

/**
 * Runs `command` in Windows PowerShell 5.1 exactly as the agent starts it:
 * `powershell.exe -NoProfile -NonInteractive -EncodedCommand …`.
 */
export async function powershell(command: string, timeoutMs = 60_000): Promise<PowerShellRun> {
  const result = await runProgram(POWERSHELL, encodedCommandArgs(command), { timeoutMs });
  return {
    code: result.code,
    stdout: decodeText(result.stdout),
    stderr: decodeText(result.stderr),
  };
}

/**
 * A PowerShell expression whose value is `text`. The text travels as base64 of its UTF-8
 * bytes, so no quote (PowerShell also takes ‘ and ’ as single quotes) or `$` in it can
 * end or change the string. The parentheses make it an expression where a command's
 * argument is expected too, where `[type]::Method()` would be taken as plain text.
 */
export function psString(text: string): string {
  const base64 = Buffer.from(text, "utf8").toString("base64");
  return `([System.Text.Encoding]::UTF8.GetString([System.Convert]::FromBase64String('${base64}')))`;
}

/**
 * Runs `command` in Windows PowerShell 5.1 and returns the value of `expression` after it,
 * which PowerShell writes as JSON in UTF-8 bytes (console text would be in the OEM code
 * page). `-InputObject` keeps an array an array, even an empty one, where the pipeline
 * would unroll it. Fails, with what PowerShell said, when PowerShell does.
 */
export async function powershellValue(command: string, expression: string): Promise<unknown> {
  const run = await powershell([
    "$ErrorActionPreference = 'Stop'",
    command,
    // Windows PowerShell 5.1's extended type data for arrays can make ConvertTo-Json write
    // an array as {"value": [...], "Count": n}; without it an array stays a JSON array.
    "Remove-TypeData -TypeName System.Array -ErrorAction SilentlyContinue",
    `$json = ConvertTo-Json -InputObject (${expression}) -Compress -Depth 4`,
    "$bytes = [System.Text.UTF8Encoding]::new($false).GetBytes($json)",
    "$stdout = [Console]::OpenStandardOutput()",
    "$stdout.Write($bytes, 0, $bytes.Length)",
    "$stdout.Flush()",
  ].join("\n"));
  assert.equal(
    run.code,
    0,
    `PowerShell failed (exit code ${run.code}):\n${run.stderr}${run.stdout}`,
  );
  return JSON.parse(run.stdout);
}

/**
 * The ids of the processes whose command line contains `fragment`, from WMI's
 * Win32_Process class (its CommandLine property: "Win32_Process class",
 * https://learn.microsoft.com/windows/win32/cimwin32prov/win32-process). The PowerShell
 * that asks is left out; its own command line holds `fragment` only in encoded form.
 */
export async function processesWithCommandLine(fragment: string): Promise<number[]> {
  const ids = await powershellValue(
    `$fragment = ${psString(fragment)}`,
    "@(Get-CimInstance -ClassName Win32_Process | Where-Object { " +
      "$_.ProcessId -ne $PID -and $null -ne $_.CommandLine -and " +
      "$_.CommandLine.Contains($fragment) } | ForEach-Object { [int]$_.ProcessId })",
  );
  assert.ok(Array.isArray(ids), `expected a list of process ids, got ${JSON.stringify(ids)}`);
  return ids as number[];
}

/**
 * Asks `processesWithCommandLine(fragment)` until it answers none, for at most `ms`:
 * Windows ends a process a moment after it is told to. Returns what is still left.
 */
export async function processesLeft(fragment: string, ms = 10_000): Promise<number[]> {
  const until = Date.now() + ms;
  for (;;) {
    const left = await processesWithCommandLine(fragment);
    if (left.length === 0 || Date.now() > until) return left;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
