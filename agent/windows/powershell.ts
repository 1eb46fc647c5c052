/**
 * Windows PowerShell as the agent starts it: the program's name, and commands passed
 * whole with `-EncodedCommand` so that no quoting of the command line can change them.
 *
 * @module
 */
import { Buffer } from "node:buffer";

/**
 * The PowerShell to start. Windows PowerShell 5.1 ships with every Windows and is the one
 * that reaches Outlook's COM objects and the ScheduledTasks module. On Windows it is named
 * by its full path in the system folder: a bare name may be looked up in the working folder
 * first, where any `powershell.exe` would run with the user's Outlook. Elsewhere only tests
 * run it, through a stand-in called `powershell` first on `PATH`.
 */
export const POWERSHELL = Deno.build.os === "windows"
  ? `${
    Deno.env.get("SystemRoot") ?? "C:\\Windows"
  }\\System32\\WindowsPowerShell\\v1.0\\powershell.exe`
  : "powershell";

/**
 * The arguments that run `command`: no profile (a user's profile may print or prompt),
 * never interactive, and the command as base64 of its UTF-16LE text, as `-EncodedCommand`
 * takes it.
 */
export function encodedCommandArgs(command: string): string[] {
  const encoded = Buffer.from(command, "utf16le").toString("base64");
  return ["-NoProfile", "-NonInteractive", "-EncodedCommand", encoded];
}

/**
 * PowerShell that writes `expression`'s value as compact JSON in UTF-8 bytes to standard
 * output. Text PowerShell prints is encoded in the console's OEM code page (850 on a
 * French PC, where "Prêt" arrives as "Pr\x88t"); bytes written to the standard output
 * stream are not re-encoded.
 */
export function jsonOutput(expression: string): string {
  return [
    `$json = (${expression}) | ConvertTo-Json -Compress -Depth 4`,
    "$bytes = [System.Text.UTF8Encoding]::new($false).GetBytes($json)",
    "$stdout = [Console]::OpenStandardOutput()",
    "$stdout.Write($bytes, 0, $bytes.Length)",
    "$stdout.Flush()",
  ].join("\n");
}
