/**
 * The PowerShell the agent runs, parsed by Windows PowerShell 5.1's own parser: the
 * Outlook script and every task command of `agent/windows/task_scheduler.ts` (its exported
 * strings named `…_COMMAND` or `…_QUERY`, found at run time, so new ones are covered).
 *
 * The parser is `System.Management.Automation.Language.Parser`: `ParseFile` for a script
 * file, `ParseInput` for text, each giving back the errors it found ("Parser.ParseFile
 * Method", https://learn.microsoft.com/dotnet/api/system.management.automation.language.parser.parsefile;
 * "Parser Class", https://learn.microsoft.com/dotnet/api/system.management.automation.language.parser).
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import * as taskScheduler from "../../agent/windows/task_scheduler.ts";
import { taskXml } from "../../agent/windows/task_xml.ts";
import { NOT_WINDOWS, powershellValue, psString } from "./helpers.ts";

const OUTLOOK_SCRIPT = fileURLToPath(new URL("../../agent/outlook.ps1", import.meta.url));

/** One error PowerShell's parser reported. */
interface ParseError {
  line: number;
  column: number;
  id: string;
  message: string;
}

/** PowerShell that lists the errors in `$errors`, which a `Parser` call filled. */
const ERROR_LIST = "@($errors | ForEach-Object { [ordered]@{ " +
  "line = $_.Extent.StartLineNumber; column = $_.Extent.StartColumnNumber; " +
  "id = $_.ErrorId; message = $_.Message } })";

/** The errors PowerShell's parser finds in the script file at `path`. */
async function parseFileErrors(path: string): Promise<ParseError[]> {
  return await powershellValue(
    "$tokens = $null; $errors = $null\n" +
      `[void][System.Management.Automation.Language.Parser]::ParseFile(${
        psString(path)
      }, [ref]$tokens, [ref]$errors)`,
    ERROR_LIST,
  ) as ParseError[];
}

/** The errors PowerShell's parser finds in `text`, as `-EncodedCommand` would hand it over. */
async function parseTextErrors(text: string): Promise<ParseError[]> {
  return await powershellValue(
    "$tokens = $null; $errors = $null\n" +
      `[void][System.Management.Automation.Language.Parser]::ParseInput(${
        psString(text)
      }, [ref]$tokens, [ref]$errors)`,
    ERROR_LIST,
  ) as ParseError[];
}

/** The errors, one to a line, for a failing assertion's message. */
function listed(what: string, errors: ParseError[]): string {
  return `PowerShell's parser found ${errors.length} error(s) in ${what}:\n` +
    errors.map((e) => `  ${e.line}:${e.column} ${e.id}: ${e.message}`).join("\n");
}

/** Whether an export of task_scheduler.ts is a PowerShell command, by its name. */
function isCommand(entry: [string, unknown]): entry is [string, string] {
  return /_(COMMAND|QUERY)$/.test(entry[0]) && typeof entry[1] === "string";
}

/** The exported PowerShell commands of task_scheduler.ts, by export name. */
const TASK_COMMANDS = Object.entries(taskScheduler).filter(isCommand);

Deno.test({
  name: "powershell.exe is Windows PowerShell 5.1, the edition the agent is written for",
  ignore: NOT_WINDOWS,
  async fn() {
    const version = await powershellValue(
      "",
      "[ordered]@{ edition = [string]$PSVersionTable.PSEdition; " +
        "version = $PSVersionTable.PSVersion.ToString() }",
    ) as { edition: string; version: string };
    assert.equal(version.edition, "Desktop", JSON.stringify(version));
    assert.match(version.version, /^5\.1\./);
  },
});

Deno.test({
  name: "PowerShell's parser reports the errors of a broken command (the check can fail)",
  ignore: NOT_WINDOWS,
  async fn() {
    const errors = await parseTextErrors("if ($true) {\n  Get-Date");
    assert.ok(errors.length > 0, "an unclosed block was not reported");
    assert.ok(errors.every((e) => e.line > 0 && e.message !== ""), JSON.stringify(errors));
  },
});

Deno.test({
  name: "PowerShell's parser finds no error in agent/outlook.ps1",
  ignore: NOT_WINDOWS,
  async fn() {
    const errors = await parseFileErrors(OUTLOOK_SCRIPT);
    assert.equal(errors.length, 0, listed(OUTLOOK_SCRIPT, errors));
  },
});

Deno.test({
  name: "task_scheduler.ts exports its PowerShell commands where this test looks for them",
  ignore: NOT_WINDOWS,
  fn() {
    // Renaming TASK_QUERY (or exporting it no more) would otherwise leave nothing to parse.
    assert.ok(TASK_COMMANDS.some(([name]) => name === "TASK_QUERY"), "TASK_QUERY is not exported");
  },
});

Deno.test({
  name: "PowerShell's parser finds no error in the register command built for the agent's task XML",
  ignore: NOT_WINDOWS,
  async fn() {
    // The register command is built around the XML, so it is not among the constants above.
    const xml = taskXml({
      userId: "CORP\\john",
      launch: { program: "C:\\Calendar Agent\\agent.exe", args: ["run"], workingDirectory: "C:\\" },
    });
    const errors = await parseTextErrors(taskScheduler.taskRegisterCommand(xml));
    assert.equal(errors.length, 0, listed("taskRegisterCommand", errors));
  },
});

for (const [name, command] of TASK_COMMANDS) {
  Deno.test({
    name: `PowerShell's parser finds no error in task_scheduler.ts ${name}`,
    ignore: NOT_WINDOWS,
    async fn() {
      const errors = await parseTextErrors(command);
      assert.equal(errors.length, 0, listed(name, errors));
    },
  });
}
