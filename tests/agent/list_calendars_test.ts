/**
 * `agent list-calendars` through the command line, with the stand-in `powershell`
 * printing the recorded list output of agent/outlook.ps1.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli } from "../../agent/cli.ts";
import { standIns } from "../stand-ins/mod.ts";
import { configObject, tempDir, writeConfig } from "./helpers.ts";

/** Runs `agent list-calendars` as on Windows (or `os`), the stand-in printing `fixture`. */
async function listCalendars(fixture: string, configPath: string, os: typeof Deno.build.os) {
  await using stand = await standIns({ CALSYNC_STANDIN_FIXTURE: fixture });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await runCli(["list-calendars", "--config", configPath], {
    os,
    commandEnv: stand.env,
    stdout: (text) => stdout.push(text),
    stderr: (text) => stderr.push(text),
  });
  return {
    code,
    stdout: stdout.join("\n"),
    stderr: stderr.join("\n"),
    records: await stand.records(),
  };
}

const EXAMPLE = [
  "",
  'Set "calendar_name" to a PATH, or to a NAME no other calendar has; leave it out for',
  "the default calendar. In the JSON config, write each \\ as \\\\.",
  'More than one calendar is named "Calendar": give the path.',
  "",
  'For example, in "calendar_sources":',
  '  { "type": "outlook", "name": "Team", "calendar_name": ' +
  '"\\\\\\\\john@corp.example\\\\Calendar\\\\Team" }',
];

Deno.test("list-calendars: every calendar with its exact path, without a config", async () => {
  await using dir = await tempDir();
  const run = await listCalendars("list", join(dir.path, "outlook_config.json"), "windows");
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr, "");
  assert.equal(
    run.stdout,
    [
      "Outlook calendars of this Windows user (* = the default calendar):",
      "",
      "   NAME       PATH                                    STORE (OWNER)                           ITEMS",
      "*  Calendar   \\\\john@corp.example\\Calendar            john@corp.example (John Smith)          412",
      "   Team       \\\\john@corp.example\\Calendar\\Team       john@corp.example (John Smith)          37",
      "   Birthdays  \\\\john@corp.example\\Calendar\\Birthdays  john@corp.example (John Smith)          58",
      "   Kalender   \\\\klaus.meyer@corp.example\\Kalender     klaus.meyer@corp.example (Klaus Meyer)  120",
      "   Calendar   \\\\Archive 2024\\Calendar                 Archive 2024                            1290",
      "   Calendar   \\\\ann.lee@corp.example\\Calendar         ann.lee@corp.example (Ann Lee)          233",
      "   Calendar   \\\\Anna Berger\\Calendar                  shared by Anna Berger                   213",
      "   Projekte   \\\\Anna Berger\\Calendar\\Projekte         shared by Anna Berger                   18",
      ...EXAMPLE,
      "",
      'A calendar shared by a colleague is read with "owner", their name or address:',
      '  { "type": "outlook", "name": "Anna Berger", "owner": "Anna Berger" }',
      '  { "type": "outlook", "name": "Projekte (Anna Berger)", "owner": "Anna Berger", ' +
      '"calendar_name": "Projekte" }',
    ].join("\n"),
  );
  // The watchdog gets the default limit's share: 120 s less a margin to report.
  assert.deepEqual(run.records.map((r) => r.args), [["-Mode", "list", "-DeadlineSeconds", "110"]]);
});

Deno.test("list-calendars: with a config, the calendars its Outlook sources read are marked", async () => {
  await using dir = await tempDir();
  const config = await writeConfig(
    dir.path,
    configObject({
      calendar_sources: [
        { type: "outlook", name: "Main" },
        { type: "outlook", name: "Team", calendar_name: "team" },
        {
          type: "outlook",
          name: "Archive",
          calendar_name: "\\\\Archive 2024\\Calendar",
        },
        { type: "outlook", name: "Ann", owner: "ann.lee@corp.example" },
        { type: "outlook", name: "Anna", owner: "anna berger" },
        { type: "outlook", name: "Projekte", owner: "Anna Berger", calendar_name: "Projekte" },
        { type: "ics", name: "Holidays", path: "holidays.ics" },
      ],
    }),
  );
  const run = await listCalendars("list", config, "windows");
  assert.equal(run.code, 0, run.stderr);
  const cells = (line: string) => line.split(/ {2,}/);
  assert.deepEqual(run.stdout.split("\n").slice(2, 11).map(cells), [
    ["", "NAME", "PATH", "STORE (OWNER)", "ITEMS", "USED BY"],
    [
      "*",
      "Calendar",
      "\\\\john@corp.example\\Calendar",
      "john@corp.example (John Smith)",
      "412",
      "main",
    ],
    [
      "",
      "Team",
      "\\\\john@corp.example\\Calendar\\Team",
      "john@corp.example (John Smith)",
      "37",
      "team",
    ],
    [
      "",
      "Birthdays",
      "\\\\john@corp.example\\Calendar\\Birthdays",
      "john@corp.example (John Smith)",
      "58",
    ],
    [
      "",
      "Kalender",
      "\\\\klaus.meyer@corp.example\\Kalender",
      "klaus.meyer@corp.example (Klaus Meyer)",
      "120",
    ],
    ["", "Calendar", "\\\\Archive 2024\\Calendar", "Archive 2024", "1290", "archive"],
    // An owner's shared calendar is opened through the owner, not found among the stores.
    ["", "Calendar", "\\\\ann.lee@corp.example\\Calendar", "ann.lee@corp.example (Ann Lee)", "233"],
    // Calendars opened through sharing are read with their owner.
    ["", "Calendar", "\\\\Anna Berger\\Calendar", "shared by Anna Berger", "213", "anna"],
    [
      "",
      "Projekte",
      "\\\\Anna Berger\\Calendar\\Projekte",
      "shared by Anna Berger",
      "18",
      "projekte",
    ],
  ]);
});

Deno.test("list-calendars: a broken config still lists, and says why nothing is marked", async () => {
  await using dir = await tempDir();
  const config = join(dir.path, "outlook_config.json");
  await Deno.writeTextFile(config, "{ not json");
  const run = await listCalendars("list", config, "windows");
  assert.equal(run.code, 0);
  assert.match(run.stderr, /^\(the calendars in use are not marked: invalid config /);
  assert.match(run.stdout, /ITEMS\n/);
});

Deno.test("list-calendars: Outlook's failure is the message, with exit code 1", async () => {
  await using dir = await tempDir();
  const run = await listCalendars(
    "error-outlook-not-installed",
    join(dir.path, "outlook_config.json"),
    "windows",
  );
  assert.equal(run.code, 1);
  assert.equal(run.stdout, "");
  assert.match(run.stderr, /^Outlook is not installed for this Windows user/);
});

Deno.test("list-calendars: on Linux it says Outlook needs Windows and starts nothing", async () => {
  await using dir = await tempDir();
  const run = await listCalendars("list", join(dir.path, "outlook_config.json"), "linux");
  assert.equal(run.code, 1);
  assert.equal(
    run.stderr,
    "list-calendars reads Outlook, which is available only on Windows; this agent runs on " +
      "linux. Use it on the Windows PC whose Outlook holds the calendars.",
  );
  assert.deepEqual(run.records, []);
});
