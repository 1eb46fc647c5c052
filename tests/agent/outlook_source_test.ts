/**
 * The Outlook source against the stand-in `powershell`, which checks the command line and
 * prints the recorded outputs of agent/outlook.ps1 in tests/fixtures/outlook; and the
 * whole pipeline, `agent once` against a real master.
 */
import assert from "node:assert/strict";
import { OutlookError } from "../../agent/outlook/errors.ts";
import { outlookOccurrence } from "../../agent/outlook/occurrence.ts";
import { type OutlookItem, OutlookReadOutput } from "../../agent/outlook/output.ts";
import { scriptBudget } from "../../agent/outlook/run_script.ts";
import type { SourceContext } from "../../agent/sources/mod.ts";
import { OutlookSettings, outlookSourceType } from "../../agent/sources/outlook.ts";
import type { Occurrence } from "../../shared/model.ts";
import { zoneOffset } from "../../shared/timezones.ts";
import { startMaster } from "../helpers/master_process.ts";
import { runAgent, syncStatus, writeAgentConfig } from "../helpers/pipeline.ts";
import { standIns } from "../stand-ins/mod.ts";

const WINDOW = { start: "2026-03-01T00:00:00Z", end: "2026-12-01T00:00:00Z" };
/** What the agent passes for the default timeout_seconds of 120. */
const BUDGET = ["-DeadlineSeconds", "110", "-SyncSeconds", "30"];
const context: SourceContext = {
  window: WINDOW,
  configDir: ".",
  fetch: () => Promise.reject(new Error("the Outlook source does not use fetch")),
};

/**
 * Reads the source with `settings` while the stand-in answers with `fixture` (and the
 * `env` of the stand-in, such as its exit code).
 */
async function read(
  fixture: string,
  settings: Record<string, unknown> = {},
  env: Record<string, string> = {},
) {
  await using stand = await standIns({ CALSYNC_STANDIN_FIXTURE: fixture, ...env });
  const source = outlookSourceType({ env: stand.env });
  const parsed = OutlookSettings.parse({ type: "outlook", name: "Main Calendar", ...settings });
  try {
    const reading = await source.read(parsed, context);
    return { reading, records: await stand.records() };
  } catch (error) {
    return { error: error as Error, records: await stand.records() };
  }
}

/** The error reading with `fixture` gives. */
async function failure(
  fixture: string,
  settings: Record<string, unknown> = {},
  env: Record<string, string> = {},
) {
  const { error, reading } = await read(fixture, settings, env);
  assert.ok(error instanceof OutlookError, `expected an OutlookError, got ${error ?? reading}`);
  return error;
}

const SERIES_UID =
  "040000008200E00074C5B7101A82E0080000000059D5F0272C69E2BA00000000000000001000000030879FED98E4714F20360583C6E5A6FA";
const TEAM = [
  {
    name: "Marie Dubois",
    email: "marie.dubois@corp.example",
    role: "required",
    status: "accepted",
  },
  { name: "John Smith", email: "john@corp.example", role: "required", status: "accepted" },
  {
    name: "Émile Laurent",
    email: "emile.laurent@partner.example",
    role: "optional",
    status: "needs-action",
  },
  {
    name: "Salle Rivoli",
    email: "salle.rivoli@corp.example",
    role: "non-participant",
    status: "accepted",
  },
] as const;

function weekly(start: string, end: string, extra: Partial<Occurrence> = {}): Occurrence {
  return {
    uid: SERIES_UID,
    recurrence_id: start,
    all_day: false,
    start,
    end,
    timezone: "Europe/Berlin",
    title: "Réunion d'équipe — café ☕",
    location: "Salle Rivoli",
    description: "",
    status: "confirmed",
    show_as: "busy",
    sensitivity: "normal",
    categories: ["Équipe"],
    organizer: { name: "Marie Dubois", email: "marie.dubois@corp.example" },
    attendees: TEAM.map((a) => ({ ...a })),
    response_status: "accepted",
    last_modified: "2026-03-02T16:41:07Z",
    ...extra,
  };
}

/** The hour on a Berlin wall clock at `instant`. */
function berlinHour(instant: string): number {
  const millis = Date.parse(instant);
  return new Date(millis + zoneOffset("Europe/Berlin", millis)).getUTCHours();
}

Deno.test("Outlook source: a weekly series across the DST change, with an exception and a cancelled occurrence", async () => {
  const { reading, records } = await read("read-weekly-series", { calendar_name: "Calendar" });
  assert.ok(reading);
  assert.deepEqual(reading.warnings, []);
  assert.deepEqual(reading.occurrences, [
    weekly("2026-03-18T09:00:00Z", "2026-03-18T10:00:00Z"),
    weekly("2026-03-25T09:00:00Z", "2026-03-25T10:00:00Z"),
    weekly("2026-04-02T12:00:00Z", "2026-04-02T13:00:00Z", {
      recurrence_id: "2026-04-01T08:00:00Z",
      location: "Salle Opéra",
      last_modified: "2026-03-27T10:12:44Z",
    }),
    weekly("2026-04-08T08:00:00Z", "2026-04-08T09:00:00Z", {
      status: "cancelled",
      show_as: "free",
      last_modified: "2026-04-03T07:58:31Z",
    }),
    weekly("2026-04-15T08:00:00Z", "2026-04-15T09:00:00Z"),
  ]);
  // Before and after Europe's change to summer time on 29 March, the meeting stays at 10:00.
  const unmoved = reading.occurrences.filter((o) => o.recurrence_id === o.start);
  assert.deepEqual(unmoved.map((o) => berlinHour(o.start)), [10, 10, 10, 10]);

  assert.equal(records.length, 1);
  assert.deepEqual(records[0].args, [
    "-Mode",
    "read",
    "-CalendarName",
    "Calendar",
    "-StartUtc",
    "2026-03-01T00:00:00Z",
    "-EndUtc",
    "2026-12-01T00:00:00Z",
    ...BUDGET,
  ]);
});

Deno.test("Outlook source: all-day dates, zones, scripts and emoji, answers and privacy", async () => {
  const { reading, records } = await read("read-mixed", { include_body: true });
  assert.ok(reading);
  assert.deepEqual(reading.warnings, []);
  const [offsite, teiRei, doctor, budget, launch] = reading.occurrences;

  // Outlook keeps the all-day item at midnight New York time (EDT, then EST after 1 November).
  assert.deepEqual(offsite, {
    uid:
      "040000008200E00074C5B7101A82E00800000000C6A5821A6E1E314D000000000000000010000000DA35212B269DB89F0EB37B416EB19F5F",
    recurrence_id: null,
    all_day: true,
    start: "2026-10-31",
    end: "2026-11-02",
    timezone: "America/New_York",
    title: "Fall offsite",
    location: "Lake Placid, NY",
    description: "",
    status: "confirmed",
    show_as: "oof",
    sensitivity: "normal",
    categories: ["Travel"],
    organizer: { name: "Maria Garcia", email: "" },
    attendees: [],
    response_status: "none",
    last_modified: "2026-09-14T13:20:05Z",
  });

  assert.deepEqual(
    [teiRei.start, teiRei.end, teiRei.timezone, teiRei.title, teiRei.location],
    [
      "2026-11-05T01:00:00Z",
      "2026-11-05T02:00:00Z",
      "Asia/Tokyo",
      "定例会議",
      "東京本社 会議室A / Microsoft Teams",
    ],
  );
  assert.equal(teiRei.description, "議題:\r\n1. 進捗報告\r\n2. 次四半期の計画\r\n");
  assert.deepEqual(teiRei.categories, ["Japan", "Weekly sync"]);
  assert.deepEqual(teiRei.organizer, { name: "田中 太郎", email: "taro.tanaka@corp.example" });
  assert.deepEqual(teiRei.attendees, [
    { name: "田中 太郎", email: "taro.tanaka@corp.example", role: "required", status: "accepted" },
    {
      name: "Maria Garcia",
      email: "maria.garcia@corp.example",
      role: "required",
      status: "needs-action",
    },
    {
      name: "佐藤 花子",
      email: "hanako.sato@corp.example",
      role: "optional",
      status: "needs-action",
    },
  ]);
  assert.equal(teiRei.response_status, "accepted");

  assert.deepEqual(
    [doctor.sensitivity, doctor.show_as, doctor.timezone, doctor.description],
    ["private", "oof", "America/New_York", "Bring the insurance card."],
  );

  assert.deepEqual(
    [budget.response_status, budget.show_as, budget.status],
    ["declined", "free", "confirmed"],
  );
  assert.deepEqual(budget.attendees.map((a) => [a.name, a.role, a.status]), [
    ["Paul Martin", "required", "accepted"],
    ["Maria Garcia", "required", "needs-action"],
    ["NY-12-Hudson", "non-participant", "needs-action"],
  ]);

  assert.equal(launch.title, "🎉 Launch");
  assert.equal(launch.description, "Cake 🍰 & drinks.\r\nRSVP by Nov 5 <please>");
  assert.equal(launch.response_status, "organizer");
  assert.deepEqual(launch.attendees.map((a) => [a.name, a.role, a.status]), [
    ["Maria Garcia", "required", "accepted"],
    ["Paul Martin", "required", "accepted"],
    ["Ann Lee", "optional", "tentative"],
    ["Press list", "optional", "needs-action"],
    ["Klaus Meyer", "optional", "declined"],
  ]);

  // No calendar_name: the default calendar, asked for by leaving the parameter out.
  assert.deepEqual(records[0].args, [
    "-Mode",
    "read",
    "-StartUtc",
    WINDOW.start,
    "-EndUtc",
    WINDOW.end,
    "-IncludeBody",
    ...BUDGET,
  ]);
});

Deno.test("Outlook source: without include_body no description is read or kept", async () => {
  const { reading, records } = await read("read-mixed");
  assert.ok(reading);
  assert.deepEqual(reading.occurrences.map((o) => o.description), ["", "", "", "", ""]);
  assert.equal((records[0].args as string[]).includes("-IncludeBody"), false);
});

Deno.test("Outlook source: a shared calendar of another user is read with -Owner", async () => {
  const { records } = await read("read-mixed", {
    owner: "ann.lee@corp.example",
    calendar_name: "\\\\ann.lee@corp.example\\Calendar\\Projets été",
  });
  assert.deepEqual(records[0].args, [
    "-Mode",
    "read",
    "-CalendarName",
    "\\\\ann.lee@corp.example\\Calendar\\Projets été",
    "-StartUtc",
    WINDOW.start,
    "-EndUtc",
    WINDOW.end,
    "-Owner",
    "ann.lee@corp.example",
    ...BUDGET,
  ]);
});

Deno.test("Outlook source: busy, title and read_attendees false never read what Outlook's guard protects", async () => {
  for (
    const settings of [
      { privacy: "busy", include_body: true },
      { privacy: "title", include_body: true },
      { read_attendees: false, include_body: true },
    ]
  ) {
    const { reading, records } = await read("read-mixed", settings);
    assert.ok(reading, JSON.stringify(settings));
    const args = records[0].args as string[];
    assert.ok(args.includes("-SkipGuarded"), JSON.stringify(settings));
    assert.ok(!args.includes("-IncludeBody"), JSON.stringify(settings));
  }
  const { records } = await read("read-mixed", { privacy: "full" });
  assert.ok(!(records[0].args as string[]).includes("-SkipGuarded"));
});

Deno.test("Outlook source: a calendar found by name is opened by its ids on later reads", async () => {
  await using stand = await standIns({ CALSYNC_STANDIN_FIXTURE: "read-weekly-series" });
  const source = outlookSourceType({ env: stand.env });
  const named = OutlookSettings.parse({ type: "outlook", name: "A", calendar_name: "Calendar" });
  const fallback = OutlookSettings.parse({ type: "outlook", name: "B" });
  await source.read(named, context);
  await source.read(named, context);
  await source.read(fallback, context);
  await source.read(fallback, context);
  const params = (await stand.records()).map((r) => r.params as Record<string, unknown>);
  const ids = params.map((p) => [p["-EntryId"] ?? null, p["-StoreId"] ?? null]);
  const { calendar } = OutlookReadOutput.parse(
    JSON.parse(
      await Deno.readTextFile(
        new URL("../fixtures/outlook/read-weekly-series.json", import.meta.url),
      ),
    ),
  ) as { calendar: { entry_id: string; store_id: string } };
  assert.deepEqual(ids, [
    [null, null],
    [calendar.entry_id, calendar.store_id],
    // The default calendar is opened directly: there is nothing to remember.
    [null, null],
    [null, null],
  ]);
});

Deno.test("Outlook source: the script's share of timeout_seconds leaves it time to report", () => {
  assert.deepEqual(scriptBudget(120), { deadlineSeconds: 110, syncSeconds: 30 });
  assert.deepEqual(scriptBudget(30), { deadlineSeconds: 24, syncSeconds: 8 });
  assert.deepEqual(scriptBudget(5), { deadlineSeconds: 3, syncSeconds: 1 });
  assert.deepEqual(scriptBudget(1), { deadlineSeconds: 1, syncSeconds: 0 });
  for (let timeout = 1; timeout <= 3600; timeout++) {
    const { deadlineSeconds, syncSeconds } = scriptBudget(timeout);
    assert.ok(deadlineSeconds >= 1 && (deadlineSeconds < timeout || timeout === 1), `${timeout}`);
    assert.ok(syncSeconds * 3 <= deadlineSeconds, `${timeout}`);
  }
});

Deno.test("Outlook source: the script's temporary copy is removed after the run", async () => {
  const { records } = await read("read-mixed");
  const script = (records[0].file as string | undefined) ?? "";
  assert.match(script, /calsync-outlook-.*\.ps1$/);
  await assert.rejects(Deno.stat(script), Deno.errors.NotFound);
});

Deno.test("Outlook source: Outlook missing, blocked access and an unknown calendar say what to do", async () => {
  const missing = await failure("error-outlook-not-installed");
  assert.equal(missing.code, "outlook_not_installed");
  assert.match(missing.message, /^Outlook is not installed for this Windows user/);
  assert.match(missing.message, /the new Outlook for Windows has no COM interface/);

  const denied = await failure("error-access-denied");
  assert.equal(denied.code, "access_denied");
  assert.match(denied.message, /^Outlook's security guard blocked the agent's programmatic access/);
  assert.match(denied.message, /Trust Center Settings > Programmatic Access/);
  assert.match(denied.message, /answered Deny/);
  assert.match(denied.message, /0x80040102/);

  // E_ACCESSDENIED while opening a colleague's calendar is a missing permission.
  const refused = await failure("error-permission-denied", { owner: "anna.berger@corp.example" });
  assert.equal(refused.code, "permission_denied");
  assert.match(refused.message, /^Outlook may not open the calendar of anna\.berger@corp\.example/);
  assert.match(refused.message, /not a setting of Outlook's security guard/);
  assert.match(refused.message, /HRESULT 0x80070005/);
  assert.doesNotMatch(refused.message, /Trust Center/);

  // The script's watchdog stopped a hidden Outlook stuck at a dialog.
  const stuck = await failure("error-timeout");
  assert.equal(stuck.code, "timeout");
  assert.match(stuck.message, /^Outlook did not answer within 120 s \(timeout_seconds\): /);
  assert.match(stuck.message, /the hidden Outlook this read had started was stopped/);
  assert.match(stuck.message, /HRESULT 0x800706BE, while logging on to the Outlook profile/);

  const notFound = await failure("error-calendar-not-found", { calendar_name: "Projects" });
  assert.equal(notFound.code, "calendar_not_found");
  assert.equal(notFound.calendars.length, 3);
  assert.equal(
    notFound.message,
    `Outlook has no calendar "Projects": No calendar named 'Projects' in Outlook. Set ` +
      "calendar_name to the name or the path of one of the calendars listed.\n" +
      "Calendars that exist (set calendar_name to a path below; in JSON write each \\ as \\\\):\n" +
      '  \\\\john@corp.example\\Calendar  ("Calendar", john@corp.example, John Smith, default)\n' +
      '  \\\\john@corp.example\\Calendar\\Team  ("Team", john@corp.example, John Smith)\n' +
      '  \\\\Archive 2024\\Calendar  ("Calendar", Archive 2024)\n' +
      'Run "agent list-calendars" on this PC to see every calendar with its exact path.',
  );
});

Deno.test("Outlook source: PowerShell that hangs is stopped at timeout_seconds", async () => {
  const started = Date.now();
  const error = await failure("hang", { timeout_seconds: 0.5 });
  assert.equal(error.code, "timeout");
  assert.match(error.message, /^Outlook did not answer within 0\.5 s \(timeout_seconds\)\. /);
  assert.match(error.message, /open Outlook on this PC and answer it, or raise timeout_seconds/);
  assert.ok(Date.now() - started < 10_000, "stopped long before the stand-in's minute");
});

Deno.test("Outlook source: output that is not the contract's JSON is a clear error", async () => {
  const garbage = await failure("garbage");
  assert.equal(garbage.code, "bad_output");
  assert.equal(
    garbage.message,
    "the Outlook script printed something other than JSON (exit code 0; stderr: At " +
      'C:\\Temp\\calsync-outlook.ps1:12 char:5): Exception calling "GetNamespace" with "1" ' +
      'argument(s): "Server execution failed"',
  );

  const empty = await failure("empty");
  assert.equal(empty.message, "the Outlook script printed nothing (exit code 0)");

  const crash = await failure("crash");
  assert.equal(
    crash.message,
    "the Outlook script printed nothing (exit code 1; stderr: powershell.exe: The term " +
      "'Set-StrictMode' is not recognized.)",
  );

  const invalid = await failure("invalid");
  assert.equal(
    invalid.message,
    "the Outlook script's answer does not match what the agent expects, at calendar: " +
      "Invalid input: expected object, received null (exit code 0)",
  );

  const exited = await failure("read-mixed", {}, { CALSYNC_STANDIN_EXIT: "1" });
  assert.equal(exited.message, "the Outlook script answered but then failed (exit code 1)");

  const long = await failure("long-garbage");
  const quoted = long.message.slice(long.message.indexOf("): ") + 3);
  assert.equal(quoted, "x".repeat(200) + "…");
});

Deno.test("Outlook source: without PowerShell the error says Outlook sources need Windows", async () => {
  const empty = await Deno.makeTempDir();
  try {
    const source = outlookSourceType({ env: { PATH: empty } });
    const error = await source.read(OutlookSettings.parse({}), context).catch((e) => e);
    assert.ok(error instanceof OutlookError);
    assert.equal(error.code, "powershell_not_found");
    assert.equal(
      error.message,
      "cannot start powershell: not found. Outlook sources need Windows with classic Outlook " +
        "and Windows PowerShell.",
    );
  } finally {
    await Deno.remove(empty);
  }
});

Deno.test("Outlook source: settings take defaults and refuse nonsense", () => {
  assert.deepEqual(OutlookSettings.parse({ type: "outlook", name: "Main" }), {
    calendar_name: "",
    owner: null,
    include_body: false,
    read_attendees: true,
    privacy: "full",
    timeout_seconds: 120,
  });
  assert.equal(OutlookSettings.parse({ calendar_name: null }).calendar_name, "");
  assert.equal(OutlookSettings.safeParse({ timeout_seconds: 0 }).success, false);
  assert.equal(OutlookSettings.safeParse({ owner: "" }).success, false);
  assert.equal(OutlookSettings.safeParse({ include_body: "yes" }).success, false);
});

function item(extra: Partial<OutlookItem>): OutlookItem {
  return {
    global_appointment_id: "040000008200E00074C5B7101A82E008",
    entry_id: "0000",
    start_utc: "2026-12-23T23:00:00Z",
    end_utc: "2026-12-24T23:00:00Z",
    start_time_zone: "W. Europe Standard Time",
    end_time_zone: "W. Europe Standard Time",
    all_day: true,
    subject: "Heiligabend",
    location: "",
    body: null,
    busy_status: 0,
    sensitivity: 1,
    categories: [" Familie ", ""],
    meeting_status: 0,
    response_status: 0,
    organizer: "",
    attendees: [],
    last_modification_utc: null,
    recurrence_state: 2,
    original_start_utc: "2026-12-23T23:00:00Z",
    ...extra,
  };
}

Deno.test("Outlook items: an all-day series is keyed by dates, personal is private", () => {
  const o = outlookOccurrence(item({}), { includeBody: false, fallbackZone: "UTC" });
  assert.deepEqual(
    [o.recurrence_id, o.start, o.end, o.sensitivity, o.show_as, o.categories, o.organizer],
    ["2026-12-24", "2026-12-24", "2026-12-25", "private", "free", ["Familie"], null],
  );
});

Deno.test("Outlook items: an all-day item without a zone is dated in the PC's zone", () => {
  const tokyo = outlookOccurrence(
    item({
      start_time_zone: "",
      start_utc: "2026-12-23T15:00:00Z",
      end_utc: "2026-12-23T15:00:00Z",
      recurrence_state: 0,
      original_start_utc: null,
    }),
    { includeBody: false, fallbackZone: "Asia/Tokyo" },
  );
  // A zero-length all-day item still covers its day.
  assert.deepEqual([tokyo.start, tokyo.end, tokyo.timezone], ["2026-12-24", "2026-12-25", null]);
});

Deno.test("Outlook items: an unmoved occurrence without an original start keeps its start", () => {
  const o = outlookOccurrence(
    item({
      all_day: false,
      start_utc: "2026-12-01T09:00:00Z",
      end_utc: "2026-12-01T09:30:00Z",
      original_start_utc: null,
      organizer: "Paul Martin",
      attendees: [{
        name: "Paul Martin",
        address: "/o=ExchangeLabs/ou=Exchange Administrative Group/cn=Recipients/cn=paul",
        type: 1,
        response: 1,
      }],
      meeting_status: 7,
      body: "secret",
    }),
    { includeBody: false, fallbackZone: "UTC" },
  );
  assert.deepEqual(
    [o.recurrence_id, o.status, o.description, o.organizer, o.attendees[0].email],
    ["2026-12-01T09:00:00Z", "cancelled", "", { name: "Paul Martin", email: "" }, ""],
  );
});

Deno.test("Outlook items: an exception's GlobalAppointmentID, dated 2026-04-01, keeps its series' uid ([MS-OXOCAL] 2.2.1.28)", () => {
  // The exception's PidLidGlobalObjectId carries the original date in YH YL M D (bytes
  // 16..19: 0x07EA = 2026, 04, 01); the uid is the clean id, the series' own.
  const exceptionId = SERIES_UID.slice(0, 32) + "07EA0401" + SERIES_UID.slice(40);
  const timed = { all_day: false, start_time_zone: "Romance Standard Time" };
  // An unmoved occurrence of the series reports the series' id, as in read-weekly-series.
  const series = outlookOccurrence(
    item({
      ...timed,
      global_appointment_id: SERIES_UID,
      recurrence_state: 2,
      start_utc: "2026-03-25T09:00:00Z",
      end_utc: "2026-03-25T10:00:00Z",
      original_start_utc: "2026-03-25T09:00:00Z",
    }),
    { includeBody: false, fallbackZone: "UTC" },
  );
  const exception = outlookOccurrence(
    item({
      ...timed,
      global_appointment_id: exceptionId.toLowerCase(),
      recurrence_state: 3,
      start_utc: "2026-04-02T12:00:00Z",
      end_utc: "2026-04-02T13:00:00Z",
      original_start_utc: "2026-04-01T08:00:00Z",
    }),
    { includeBody: false, fallbackZone: "UTC" },
  );
  assert.notEqual(exceptionId, SERIES_UID);
  assert.equal(series.uid, SERIES_UID);
  assert.equal(exception.uid, series.uid);
  // The recurrence id, not the uid, tells the exception from the rest of the series.
  assert.deepEqual([series.recurrence_id, exception.recurrence_id], [
    "2026-03-25T09:00:00Z",
    "2026-04-01T08:00:00Z",
  ]);
});

Deno.test("agent once: an Outlook calendar reaches the master through the stand-in PowerShell", async () => {
  const work = await Deno.makeTempDir({ prefix: "calsync-outlook-e2e-" });
  const master = await startMaster(`${work}/data`);
  try {
    // The fixtures lie in 2026; the window reaches back to them from whatever today is.
    const pastDays = Math.ceil((Date.now() - Date.parse("2026-03-01T00:00:00Z")) / 86_400_000);
    const config = await writeAgentConfig(
      `${work}/outlook_config.json`,
      master,
      { id: "office-pc-1", name: "Office PC 1", past_days: pastDays },
      [{ type: "outlook", name: "Main Calendar", calendar_name: "Calendar" }],
    );
    const once = async (fixture: string) => {
      await using stand = await standIns({ CALSYNC_STANDIN_FIXTURE: fixture });
      return await runAgent(config, stand.env);
    };

    const weeklyRun = await once("read-weekly-series");
    assert.equal(weeklyRun.code, 0, weeklyRun.stderr);
    assert.match(weeklyRun.stderr, /uploaded 5 occurrences \(added 5, updated 0, removed 0,/);
    const first = await syncStatus(master);
    assert.deepEqual(first.totals, { agents: 1, sources: 1, events: 5 });
    assert.deepEqual(
      first.agents[0].sources.map((s) => [s.source_id, s.type, s.event_count, s.last_error]),
      [["main-calendar", "outlook", 5, null]],
    );

    const mixedRun = await once("read-mixed");
    assert.equal(mixedRun.code, 0, mixedRun.stderr);
    assert.match(mixedRun.stderr, /uploaded 5 occurrences \(added 5, updated 0, removed 5,/);
    assert.equal((await syncStatus(master)).totals.events, 5);

    const blocked = await once("error-access-denied");
    assert.equal(blocked.code, 1);
    assert.match(blocked.stdout, /1 source\(s\): 0 uploaded, 0 unchanged, 1 failed/);
    const after = await syncStatus(master);
    assert.equal(after.totals.events, 5, "a failed read removes nothing");
    assert.match(
      after.agents[0].sources[0].last_error ?? "",
      /^Outlook's security guard blocked the agent's programmatic access/,
    );
  } finally {
    await master.stop();
    await Deno.remove(work, { recursive: true });
  }
});
