/**
 * Static checks of `agent/outlook.ps1`, which cannot run here (no Windows, no Outlook): it is
 * parsed with a real PowerShell grammar (tree-sitter-powershell), and what it emits is compared
 * with the zod contract in `agent/outlook/output.ts`. The recorded outputs in
 * `tests/fixtures/outlook/` are validated against the same contract.
 */
import assert from "node:assert/strict";
import type { Node } from "web-tree-sitter";
import { TASK_QUERY } from "../../agent/windows/task_scheduler.ts";
import { firstSyntaxError, loadPowerShell } from "../helpers/powershell_grammar.ts";
import type { z } from "zod";
import {
  OutlookAttendee,
  OutlookCalendar,
  OutlookFailure,
  OutlookItem,
  OutlookListOutput,
  OutlookReadOutput,
} from "../../agent/outlook/output.ts";

const SCRIPT = await Deno.readTextFile(new URL("../../agent/outlook.ps1", import.meta.url));
const FIXTURES = new URL("../fixtures/outlook/", import.meta.url);

const parser = await loadPowerShell();

function parse(source: string): Node {
  const tree = parser.parse(source);
  assert.ok(tree, "the parser returned no tree");
  return tree.rootNode;
}

const SCRIPT_ROOT = parse(SCRIPT);

/** The text of a string literal or a bare word, without its quotes. */
function unquote(text: string): string {
  return /^(['"]).*\1$/s.test(text) ? text.slice(1, -1) : text;
}

/** Each hashtable literal of the script: its keys and its line. */
function hashtables(root: Node): { keys: string[]; line: number }[] {
  return root.descendantsOfType("hash_literal_expression").flatMap((table) => {
    if (!table) return [];
    const body = table.namedChildren.find((child) => child?.type === "hash_literal_body");
    const entries = body?.namedChildren.filter((child) => child?.type === "hash_entry") ?? [];
    const keys = entries.map((entry) => {
      const key = entry?.namedChildren.find((child) => child?.type === "key_expression");
      return unquote(key?.text ?? "");
    });
    return [{ keys, line: table.startPosition.row + 1 }];
  });
}

/** The contract objects the script builds, each recognised by the keys it must contain. */
const CONTRACT: { name: string; marks: string[]; schema: z.ZodObject }[] = [
  { name: "OutlookItem", marks: ["global_appointment_id"], schema: OutlookItem },
  { name: "OutlookAttendee", marks: ["response"], schema: OutlookAttendee },
  { name: "OutlookCalendar", marks: ["item_count"], schema: OutlookCalendar },
  { name: "OutlookFailure.error", marks: ["code"], schema: OutlookFailure.shape.error },
  { name: "OutlookFailure", marks: ["ok", "error"], schema: OutlookFailure },
  { name: "read output", marks: ["ok", "items"], schema: OutlookReadOutput.options[0] },
  { name: "list output", marks: ["ok", "calendars"], schema: OutlookListOutput.options[0] },
];

Deno.test("outlook.ps1: parses as PowerShell without a syntax error", () => {
  assert.equal(firstSyntaxError(SCRIPT_ROOT), null);
});

Deno.test("the Task Scheduler query parses as PowerShell and writes its JSON as UTF-8 bytes", () => {
  assert.equal(firstSyntaxError(parse(TASK_QUERY)), null);
  assert.match(TASK_QUERY, /Get-ScheduledTask -TaskPath '\\' -TaskName 'CalSync Agent'/);
  assert.match(TASK_QUERY, /\[Console\]::OpenStandardOutput\(\)/);
  assert.match(TASK_QUERY, /state = \[string\]\$task\.State/, "the state by name, not number");
});

Deno.test("outlook.ps1: the syntax check reports an unclosed brace", () => {
  const cut = SCRIPT.indexOf("Write-JsonDocument $document");
  assert.ok(cut > 0);
  const broken = `${SCRIPT.slice(0, cut)}if ($listing) {\n${SCRIPT.slice(cut)}`;
  const error = firstSyntaxError(parse(broken));
  assert.ok(error, "an unclosed brace went unnoticed");
  assert.match(error, /^\d+:\d+: /);
});

Deno.test("outlook.ps1: the param block declares exactly what the agent passes", () => {
  const block = SCRIPT_ROOT.namedChildren.find((child) => child?.type === "param_block");
  assert.ok(block, "no script-level param block");
  const parameters = block.descendantsOfType("script_parameter").map((parameter) => {
    const name = parameter?.namedChildren.find((child) => child?.type === "variable")?.text;
    const type = parameter?.descendantsOfType("type_name")[0]?.text;
    return `${name}: ${type}`;
  });
  assert.deepEqual(parameters, [
    "$Mode: string",
    "$CalendarName: string",
    "$Owner: string",
    "$StartUtc: string",
    "$EndUtc: string",
    "$IncludeBody: switch",
    "$SkipGuarded: switch",
    "$EntryId: string",
    "$StoreId: string",
    "$DeadlineSeconds: string",
    "$SyncSeconds: string",
  ]);
});

/** The function a node sits in, or "" at the script's top level. */
function enclosingFunction(node: Node): string {
  for (let at: Node | null = node.parent; at !== null; at = at.parent) {
    if (at.type === "function_statement") {
      return at.namedChildren.find((c) => c?.type === "function_name")?.text ?? "";
    }
  }
  return "";
}

/** The conditions of the `if` statements around a node, innermost first. */
function enclosingConditions(node: Node): string[] {
  const conditions: string[] = [];
  for (let at: Node | null = node; at?.parent; at = at.parent) {
    const parent = at.parent;
    if (parent.type === "if_statement" && at.type === "statement_block") {
      conditions.push(parent.namedChildren.find((c) => c?.type === "pipeline")?.text ?? "");
    }
  }
  return conditions;
}

/** Where each command named `name` is called: its function and the conditions around it. */
function calls(name: string): { inside: string; conditions: string[] }[] {
  return SCRIPT_ROOT.descendantsOfType("command_name")
    .filter((node) => node?.text === name)
    .map((node) => ({ inside: enclosingFunction(node!), conditions: enclosingConditions(node!) }));
}

// "Protected Properties and Methods" (Outlook VBA reference): reading these raises the
// object-model guard's address-book prompt for an untrusted program.
const PROTECTED = new Set([
  "Organizer",
  "RequiredAttendees",
  "OptionalAttendees",
  "Resources",
  "Recipients",
  "Body",
  "RTFBody",
  "Address",
  "AddressEntry",
  "GetExchangeUser",
  "PropertyAccessor",
]);

Deno.test("outlook.ps1: -SkipGuarded reaches no property Outlook's guard protects", () => {
  const readers = new Set(["Read-ProtectedField", "Get-Attendee", "Get-SmtpAddress"]);
  const problems: string[] = [];
  for (const member of SCRIPT_ROOT.descendantsOfType("member_name")) {
    if (!member || !PROTECTED.has(member.text)) continue;
    const inside = enclosingFunction(member);
    const line = member.startPosition.row + 1;
    if (inside === "Get-StoreInfo") {
      // The store's owner is only shown: it is skipped along with the rest.
      if (!enclosingConditions(member).includes("-not $SkipGuarded")) {
        problems.push(`line ${line}: ${member.text} in Get-StoreInfo outside -not $SkipGuarded`);
      }
    } else if (!readers.has(inside)) {
      problems.push(`line ${line}: ${member.text} read in ${inside || "the script body"}`);
    }
  }
  assert.deepEqual(problems, []);
  // The readers are reached only through Read-ProtectedField, itself only under $ReadProtected,
  // which is false with -SkipGuarded.
  assert.deepEqual(calls("Get-SmtpAddress"), [{ inside: "Get-Attendee", conditions: [] }]);
  assert.deepEqual(calls("Get-Attendee"), [{ inside: "Read-ProtectedField", conditions: [] }]);
  assert.deepEqual(calls("Read-ProtectedField"), [
    { inside: "ConvertTo-OccurrenceRecord", conditions: ["$ReadProtected"] },
  ]);
  assert.ok(SCRIPT.includes("$readProtected = -not $SkipGuarded.IsPresent"));
});

Deno.test("outlook.ps1: Deny at the security prompt (MAPI_E_NOT_SUPPORTED) is the guard; E_ACCESSDENIED elsewhere is a permission", () => {
  // "Outlook Object Model Security Warnings": "If the user clicks Deny, Outlook immediately
  // blocks the call that invokes the warning and returns MAPI_E_NOT_SUPPORTED" (0x80040102).
  const table = hashtables(SCRIPT_ROOT).find((t) => t.keys.includes("80040102"));
  assert.ok(table, "0x80040102 is not recognised as a refusal of the guard");
  assert.deepEqual(table.keys.sort(), ["80004004", "80040102", "80070005"]);
  // Refusals are recognised only where protected properties are read.
  assert.deepEqual(
    calls("Assert-NotGuardRefusal").map((c) => c.inside).sort(),
    ["Get-Attendee", "Get-SmtpAddress", "Read-ProtectedField", "Read-ProtectedField"],
  );
  const failure = SCRIPT_ROOT.descendantsOfType("function_statement")
    .find((f) => f?.text.startsWith("function ConvertTo-FailureDocument"));
  assert.ok(failure);
  assert.match(failure.text, /\$hresult -eq '80070005'\) \{[^}]*\$code = 'permission_denied'/s);
  assert.doesNotMatch(failure.text, /access_denied/);
});

Deno.test("outlook.ps1: a watchdog started before Outlook stops only a windowless Outlook the script started", () => {
  const start = SCRIPT.indexOf("$watchdog = Start-Watchdog");
  const outlook = SCRIPT.indexOf("New-Object -ComObject 'Outlook.Application'");
  assert.ok(start > 0 && outlook > start, "the watchdog must run before Outlook is started");
  assert.ok(SCRIPT.indexOf("$script:Watch.Started = $startedOutlook") < start);
  const watchdog = SCRIPT_ROOT.descendantsOfType("function_statement")
    .find((f) => f?.text.startsWith("function Start-Watchdog"));
  assert.ok(watchdog);
  // A runspace of its own keeps running while the script's thread hangs in a COM call.
  assert.match(watchdog.text, /\[PowerShell\]::Create\(\)/);
  assert.match(watchdog.text, /if \(-not \$Watch\.Started\) \{\s*return/);
  for (
    const filter of [
      "$_.SessionId -eq $Session",
      "$_.StartTime -ge $Since",
      "$_.MainWindowHandle -eq [IntPtr]::Zero",
    ]
  ) {
    assert.ok(watchdog.text.includes(filter), filter);
  }
  // The script ends it when done, whatever happened.
  assert.ok(SCRIPT.lastIndexOf("$script:Watch.Done = $true") > SCRIPT.lastIndexOf("} finally {"));
});

Deno.test("outlook.ps1: a hidden Outlook it started fetches the calendar first, without sending mail", () => {
  assert.deepEqual(calls("Sync-StartedOutlook"), [
    { inside: "", conditions: ["$startedOutlook -and $syncFor -gt 0"] },
  ]);
  // NameSpace.SendAndReceive would also send what waits in the user's Outbox.
  assert.ok(!SCRIPT.includes("SendAndReceive"));
  assert.ok(SCRIPT.includes("$appFolders = $syncObjects.AppFolders"));
  assert.ok(SCRIPT.includes("$Folder.InAppFolderSyncObject = $false"), "the flag is put back");
});

Deno.test("outlook.ps1: remembered ids are tried only for a calendar looked up by name", () => {
  assert.deepEqual(calls("Resolve-RememberedCalendar"), [
    {
      inside: "Resolve-Calendar",
      conditions: ["$Name -and $RememberedEntryId -and $RememberedStoreId"],
    },
  ]);
});

/** PowerShell's approved verbs (`Get-Verb` in Windows PowerShell 5.1). */
const APPROVED_VERBS = new Set(
  `Add Clear Close Copy Enter Exit Find Format Get Hide Join Lock Move New Open Optimize Pop Push
  Redo Remove Rename Reset Resize Search Select Set Show Skip Split Step Switch Undo Unlock Watch
  Backup Checkpoint Compare Compress Convert ConvertFrom ConvertTo Dismount Edit Expand Export
  Group Import Initialize Limit Merge Mount Out Publish Restore Save Sync Unpublish Update Approve
  Assert Build Complete Confirm Deny Deploy Disable Enable Install Invoke Register Request Restart
  Resume Start Stop Submit Suspend Uninstall Unregister Wait Debug Measure Ping Repair Resolve Test
  Trace Connect Disconnect Read Receive Send Write Block Grant Protect Revoke Unblock Unprotect
  Use`.split(/\s+/),
);

Deno.test("outlook.ps1: functions use approved verbs, commands are never aliases", () => {
  const names = (type: string) =>
    SCRIPT_ROOT.descendantsOfType(type).map((node) => node?.text ?? "");
  const verbNoun = /^([A-Z][A-Za-z]*)-[A-Z][A-Za-z]*$/;
  const unapproved = names("function_name").filter((name) =>
    !APPROVED_VERBS.has(verbNoun.exec(name)?.[1] ?? "")
  );
  assert.deepEqual(unapproved, []);
  // Core cmdlets such as Where-Object may have other verbs, but an alias (`%`, `?`, `ls`) is
  // never Verb-Noun.
  const aliases = names("command_name").filter((name) => !verbNoun.test(name));
  assert.deepEqual(aliases, []);
});

Deno.test("outlook.ps1: the keys it emits are the keys of the zod contract", () => {
  const tables = hashtables(SCRIPT_ROOT);
  const problems: string[] = [];
  for (const { name, marks, schema } of CONTRACT) {
    const built = tables.filter((table) => marks.every((mark) => table.keys.includes(mark)));
    if (built.length === 0) {
      problems.push(`${name}: no hashtable with ${marks.join(", ")}`);
      continue;
    }
    const expected = Object.keys(schema.shape);
    const required = expected.filter((key) => !schema.shape[key].safeParse(undefined).success);
    for (const table of built) {
      const missing = required.filter((key) => !table.keys.includes(key));
      const extra = table.keys.filter((key) => !expected.includes(key));
      if (missing.length > 0 || extra.length > 0) {
        problems.push(
          `${name} (line ${table.line}): missing [${missing.join(", ")}], extra [${
            extra.join(", ")
          }]`,
        );
      }
    }
    const never = expected.filter((key) => !built.some((table) => table.keys.includes(key)));
    if (never.length > 0) problems.push(`${name}: never emits [${never.join(", ")}]`);
  }
  // Contract keys are snake_case and the script's own records PascalCase, so a lower-case
  // hashtable that matches no contract object has a misspelt mark.
  for (const table of tables) {
    const contract = table.keys.length > 0 && table.keys.every((key) => /^[a-z_]+$/.test(key));
    const known = CONTRACT.some(({ marks }) => marks.every((mark) => table.keys.includes(mark)));
    if (contract && !known) {
      problems.push(`line ${table.line}: [${table.keys.join(", ")}] matches no contract object`);
    }
  }
  assert.deepEqual(problems, []);
});

Deno.test("outlook.ps1: the window is a DASL filter on UTC instants, not a locale-bound Jet one", () => {
  const strings = SCRIPT_ROOT.descendantsOfType("string_literal").map((node) =>
    unquote(node?.text ?? "")
  );
  const dasl = strings.filter((text) => text.startsWith("@SQL="));
  assert.equal(dasl.length, 1, "one @SQL= restriction");
  assert.match(dasl[0], /"urn:schemas:calendar:dtstart" < ''\{0\}''/);
  assert.match(dasl[0], /"urn:schemas:calendar:dtend" > ''\{1\}''/);
  assert.ok(strings.includes("yyyy-MM-dd HH:mm"), "the DASL date format");
  const jet = strings.filter((text) => /\[(Start|End)\]\s*[<>=]/.test(text));
  assert.deepEqual(jet, [], "Jet date comparisons depend on the PC's regional settings");
  const calls = SCRIPT_ROOT.descendantsOfType("invokation_expression").map((node) =>
    node?.namedChildren.find((child) => child?.type === "member_name")?.text
  );
  for (const method of ["Sort", "Restrict", "GetFirst", "GetNext"]) {
    assert.ok(calls.includes(method), `Items.${method} is called`);
  }
});

async function fixture(name: string): Promise<unknown> {
  return JSON.parse(await Deno.readTextFile(new URL(name, FIXTURES)));
}

/** A fixture that must be a successful read. */
async function readFixture(name: string) {
  const output = OutlookReadOutput.parse(await fixture(name));
  assert.ok(output.ok);
  return output;
}

Deno.test("fixtures: a weekly series across the DST change, moved and cancelled occurrences", async () => {
  const { calendar, items } = await readFixture("read-weekly-series.json");
  assert.equal(calendar.is_default, true);
  assert.equal(new Set(items.map((item) => item.global_appointment_id)).size, 1);
  assert.ok(items.every((item) => item.subject === "Réunion d'équipe — café ☕"));
  assert.ok(items.every((item) => item.start_time_zone === "W. Europe Standard Time"));
  assert.ok(items.every((item) => item.body === null && item.original_start_utc !== null));
  // 10:00 in Paris is 09:00Z before 2026-03-29 and 08:00Z after it.
  const hours = items.map((
    item,
  ) => [item.original_start_utc?.slice(0, 10), item.start_utc.slice(11, 13)]);
  assert.deepEqual(hours.filter(([, hour]) => hour !== "12"), [
    ["2026-03-18", "09"],
    ["2026-03-25", "09"],
    ["2026-04-08", "08"],
    ["2026-04-15", "08"],
  ]);
  const moved = items.filter((item) => item.original_start_utc !== item.start_utc);
  assert.deepEqual(moved.map((item) => [item.recurrence_state, item.original_start_utc]), [
    [3, "2026-04-01T08:00:00Z"],
  ]);
  const cancelled = items.filter((item) => item.meeting_status === 5);
  assert.deepEqual(cancelled.map((item) => [item.recurrence_state, item.start_utc]), [
    [3, "2026-04-08T08:00:00Z"],
  ]);
});

Deno.test("fixtures: all-day, Tokyo, emoji, declined and private items with a body", async () => {
  const { items } = await readFixture("read-mixed.json");
  const bySubject = new Map(items.map((item) => [item.subject, item]));
  const offsite = bySubject.get("Fall offsite");
  // Local midnights in New York, across the end of daylight saving time on 2026-11-01.
  assert.deepEqual(
    [offsite?.all_day, offsite?.start_utc, offsite?.end_utc, offsite?.start_time_zone],
    [true, "2026-10-31T04:00:00Z", "2026-11-02T05:00:00Z", "Eastern Standard Time"],
  );
  assert.equal(bySubject.get("定例会議")?.start_time_zone, "Tokyo Standard Time");
  assert.deepEqual(bySubject.get("🎉 Launch")?.categories, ["Marketing", "Launch party"]);
  assert.equal(bySubject.get("Budget review FY27")?.response_status, 4);
  assert.equal(bySubject.get("Doctor")?.sensitivity, 2);
  assert.ok(items.every((item) => typeof item.body === "string"));
  assert.deepEqual(items.map((item) => item.start_utc), items.map((item) => item.start_utc).sort());
});

Deno.test("fixtures: the list covers mailbox, sub-calendar, PST and shared calendars", async () => {
  const output = OutlookListOutput.parse(await fixture("list.json"));
  assert.ok(output.ok);
  const paths = output.calendars.map((calendar) => calendar.path);
  for (
    const path of [
      "\\\\john@corp.example\\Calendar",
      "\\\\john@corp.example\\Calendar\\Team",
      "\\\\Archive 2024\\Calendar",
      "\\\\ann.lee@corp.example\\Calendar",
    ]
  ) {
    assert.ok(paths.includes(path), path);
  }
  assert.deepEqual(
    output.calendars.filter((calendar) => calendar.is_default).map((calendar) => calendar.path),
    ["\\\\john@corp.example\\Calendar"],
  );
});

/**
 * The script's message template `$script:<name> = '...'`, as a pattern for its output, which
 * may end with the HRESULT and the step, as every message does that does not name it.
 */
function messagePattern(name: string): RegExp {
  const assignment = SCRIPT_ROOT.descendantsOfType("assignment_expression").find((node) =>
    node?.text.startsWith(`$script:${name} =`)
  );
  assert.ok(assignment, `$script:${name} is assigned`);
  const literal = assignment.descendantsOfType("string_literal")[0];
  assert.ok(literal);
  const template = unquote(literal.text).replaceAll("''", "'");
  const escaped = template.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/\\\{\d\\\}/g, ".+");
  return new RegExp(`^${escaped}( \\(HRESULT 0x[0-9A-F]{8}, while .+\\))?$`);
}

Deno.test("fixtures: the failures carry the script's codes and messages", async () => {
  const cases = [
    ["error-outlook-not-installed.json", "outlook_not_installed", "NotInstalledMessage"],
    ["error-access-denied.json", "access_denied", "GuardRefusalMessage"],
    ["error-permission-denied.json", "permission_denied", "PermissionDeniedMessage"],
    ["error-timeout.json", "timeout", "TimeoutMessage"],
    ["error-calendar-not-found.json", "calendar_not_found", "NameNotFoundMessage"],
  ];
  for (const [file, code, template] of cases) {
    const output = OutlookReadOutput.parse(await fixture(file));
    assert.ok(!output.ok, file);
    assert.equal(output.error.code, code, file);
    assert.match(output.error.message, messagePattern(template), file);
    assert.equal(output.error.calendars !== undefined, code === "calendar_not_found", file);
  }
});

Deno.test("fixtures: every recorded output satisfies the contract", async () => {
  for await (const entry of Deno.readDir(FIXTURES)) {
    const schema = entry.name.startsWith("list") ? OutlookListOutput : OutlookReadOutput;
    const result = schema.safeParse(await fixture(entry.name));
    assert.ok(result.success, `${entry.name}: ${result.error?.message}`);
  }
});
