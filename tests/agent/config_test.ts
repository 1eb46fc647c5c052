import assert from "node:assert/strict";
import { join } from "node:path";
import {
  ConfigError,
  configSecrets,
  loadConfig,
  parseConfig,
  slugify,
} from "../../agent/config.ts";
import { configObject, tempDir, writeConfig } from "./helpers.ts";

function problemsOf(config: unknown): string[] {
  try {
    parseConfig(typeof config === "string" ? config : JSON.stringify(config), "test.json");
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
    return error.problems;
  }
  assert.fail("the config was accepted");
}

const ics = (extra: Record<string, unknown>) => ({ type: "ics", name: "Team", ...extra });

Deno.test("config: the seed format loads with defaults filled in", () => {
  const config = parseConfig(
    JSON.stringify({
      agent_id: "office-pc",
      agent_name: "Office PC",
      environment: "office",
      central_api_url: "http://master:8008/api",
      sync_interval_minutes: 5,
      some_future_key: true,
      calendar_sources: [
        { type: "ics", name: "Team Calendar", url: "https://example.com/team.ics", colour: "red" },
        { type: "ics", name: "Holidays", path: "holidays.ics", enabled: false, id: "hol" },
      ],
    }),
    "test.json",
  );
  assert.equal(config.agent_id, "office-pc");
  assert.equal(config.sync_interval_minutes, 5);
  assert.deepEqual(config.sync_window, { past_days: 30, future_days: 90 });
  assert.equal(config.enrollment_token, undefined);
  assert.deepEqual(
    config.calendar_sources.map((s) => [s.id, s.enabled, s.type]),
    [["team-calendar", true, "ics"], ["hol", false, "ics"]],
  );
  assert.deepEqual(config.calendar_sources[0].settings, {
    url: "https://example.com/team.ics",
    timeout_seconds: 60,
  });
});

Deno.test("config: a missing key names its path and how to add it", () => {
  const { agent_id: _, ...rest } = configObject();
  assert.deepEqual(problemsOf(rest), ['agent_id: missing; add "agent_id": "office-pc-1"']);
  assert.deepEqual(
    problemsOf(configObject({ calendar_sources: [{ type: "ics", url: "https://x.test/a.ics" }] })),
    ['calendar_sources[0].name: missing; add "name": "Team calendar"'],
  );
});

Deno.test("config: a wrong type says what was expected and what was found", () => {
  assert.deepEqual(problemsOf(configObject({ sync_interval_minutes: "15" })), [
    'sync_interval_minutes: expected a number of minutes such as 15, got the string "15"',
  ]);
  assert.deepEqual(problemsOf(configObject({ calendar_sources: {} })), [
    "calendar_sources: expected an array of sources, got an object",
  ]);
});

Deno.test("config: an unknown source type lists the supported ones", () => {
  assert.deepEqual(
    problemsOf(configObject({ calendar_sources: [{ type: "outlok", name: "Mine" }] })),
    ['calendar_sources[0].type: unknown source type "outlok"; supported: ics, caldav, exchange, outlook, microsoft365'],
  );
});

Deno.test("config: a bad URL names the source and shows a good one", () => {
  const sources = [
    ics({ url: "https://example.com/a.ics" }),
    ics({ name: "B", url: "ftp://x/b.ics" }),
  ];
  assert.deepEqual(problemsOf(configObject({ calendar_sources: sources })), [
    "calendar_sources[1].url: expected an http(s) URL such as https://example.com/team.ics",
  ]);
  assert.deepEqual(problemsOf(configObject({ central_api_url: "master:8008" })), [
    "central_api_url: expected an http(s) URL such as https://calsync.example.com/api",
  ]);
});

Deno.test("config: an ics source needs exactly one of url and path", () => {
  assert.deepEqual(problemsOf(configObject({ calendar_sources: [ics({})] })), [
    'calendar_sources[0]: an ics source needs "url" (https://…/calendar.ics) or "path" (a file); set one',
  ]);
  assert.deepEqual(
    problemsOf(
      configObject({ calendar_sources: [ics({ url: "https://x.test/a.ics", path: "a.ics" })] }),
    ),
    ['calendar_sources[0]: an ics source takes "url" or "path", not both; remove one'],
  );
});

Deno.test("config: duplicate ids name both sources", () => {
  const sources = [
    ics({ name: "Team", url: "https://x.test/a.ics" }),
    ics({ name: "Other", url: "https://x.test/b.ics" }),
    ics({ name: "team!", path: "c.ics" }),
  ];
  assert.deepEqual(problemsOf(configObject({ calendar_sources: sources })), [
    'calendar_sources[2].id: sources "Team" (calendar_sources[0]) and "team!" ' +
    '(calendar_sources[2]) both have id "team"; give one of them its own "id"',
  ]);
});

Deno.test("config: agent_id and explicit ids must be identifiers", () => {
  const [problem] = problemsOf(configObject({ agent_id: "office pc" }));
  assert.match(problem, /^agent_id: expected 1-64 characters: letters, digits/);
  const [sourceProblem] = problemsOf(
    configObject({ calendar_sources: [ics({ id: "-x", url: "https://x.test/a.ics" })] }),
  );
  assert.match(sourceProblem, /^calendar_sources\[0\]\.id: expected 1-64 characters/);
});

Deno.test("config: invalid JSON reports line, column and a hint", () => {
  assert.deepEqual(problemsOf('{\n  "agent_id": "x",\n  "agent_name": "y",\n}'), [
    "not valid JSON at line 4, column 1: unexpected '}'; remove the comma before it",
  ]);
  assert.deepEqual(problemsOf('{\n  "path": "C:\\Users\\me\\cal.ics"\n}'), [
    "not valid JSON at line 2, column 14: invalid escape '\\U' in a string; write a " +
    "backslash as \\\\ (or use / in paths)",
  ]);
  assert.deepEqual(problemsOf(""), [
    "not valid JSON at line 1, column 1: unexpected end of file; expected a value",
  ]);
  assert.deepEqual(problemsOf("[1, 2]"), [
    "expected a JSON object with the agent settings at the top level",
  ]);
});

Deno.test("config: a byte-order mark (Notepad) is accepted", () => {
  const config = parseConfig("\uFEFF" + JSON.stringify(configObject()), "test.json");
  assert.equal(config.agent_id, "office-pc");
});

Deno.test("config: a missing file says where the agent looked and how to create it", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "outlook_config.json");
  const error = await loadConfig(path).catch((e) => e);
  assert.ok(error instanceof ConfigError);
  assert.match(error.message, /file not found; the agent looked for .*outlook_config\.json/);
  assert.match(error.message, /Create it there \(or pass --config FILE\), for example:\n\{/);
  assert.match(error.message, /"calendar_sources": \[/);
});

Deno.test("config: loadConfig reads a file and names it in errors", async () => {
  await using dir = await tempDir();
  const good = await writeConfig(dir.path, configObject());
  assert.equal((await loadConfig(good)).agent_name, "Office PC");
  await Deno.writeTextFile(good, JSON.stringify(configObject({ sync_window: { past_days: -1 } })));
  const error = await loadConfig(good).catch((e) => e);
  assert.ok(error instanceof ConfigError);
  assert.equal(
    error.message,
    `invalid config ${good}:\n  sync_window.past_days: expected 0 or more days`,
  );
});

Deno.test("config: source ids are slugs of their names", () => {
  assert.equal(slugify("Team Calendar"), "team-calendar");
  assert.equal(slugify("  Équipe – Réunions (2026)!  "), "equipe-reunions-2026");
  assert.equal(slugify("a".repeat(63) + " b"), "a".repeat(63));
  assert.equal(slugify("x".repeat(100)).length, 64);
  assert.equal(slugify("日本"), "");
  assert.deepEqual(
    problemsOf(configObject({ calendar_sources: [ics({ name: "日本", path: "j.ics" })] })),
    [
      'calendar_sources[0].name: cannot derive an id from "日本"; add "id": "team" ' +
      "(letters, digits, '.', '_' or '-')",
    ],
  );
});

Deno.test("config: secrets are collected so logs can mask them", () => {
  const config = parseConfig(
    JSON.stringify(configObject({
      calendar_sources: [
        ics({ url: "https://x.test/a.ics", username: "me", password: "hunter22" }),
      ],
    })),
    "test.json",
  );
  assert.deepEqual(configSecrets(config).sort(), ["enroll-0123456789", "hunter22"]);
});

Deno.test("config: a source's privacy, label and filters are read and checked", () => {
  const config = parseConfig(
    JSON.stringify(configObject({
      calendar_sources: [
        ics({ path: "a.ics", privacy: "busy", label: "Office PC 1", skip_free: true }),
        ics({ name: "Plain", path: "b.ics" }),
      ],
    })),
    "test.json",
  );
  assert.deepEqual(config.calendar_sources[0].display, {
    privacy: "busy",
    label: "Office PC 1",
    category: "",
    skip_free: true,
    skip_private: false,
    skip_declined: false,
    categories_include: [],
    categories_exclude: [],
  });
  assert.equal(config.calendar_sources[1].display.privacy, "full");
  const [problem] = problemsOf(configObject({
    calendar_sources: [ics({ path: "a.ics", privacy: "secret" })],
  }));
  assert.match(problem, /^calendar_sources\[0\]\.privacy: .*"full"\|"title"\|"busy"/);
});
