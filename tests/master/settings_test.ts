import assert from "node:assert/strict";
import { parseEnvFile } from "../../master/env_file.ts";
import { parseSettings, SettingsError } from "../../master/settings.ts";

Deno.test("settings: defaults need nothing set", () => {
  const s = parseSettings({});
  assert.equal(s.port, 8008);
  assert.equal(s.dataDir, "./data");
  assert.equal(s.debug, false);
  assert.deepEqual(s.corsOrigins, []);
  assert.equal(s.syncIntervalMinutes, 5);
  assert.equal(s.adminToken, undefined);
  assert.equal(s.maxBodyBytes, 50 * 1024 * 1024);
  assert.equal(s.retentionDays, 400);
});

Deno.test("settings: values are parsed", () => {
  const s = parseSettings({
    API_PORT: "9000",
    DEBUG: "true",
    CORS_ORIGINS: "https://a.example, https://b.example",
    SYNC_INTERVAL_MINUTES: "2.5",
    ADMIN_TOKEN: "0123456789abcdef0123",
    MAX_BODY_MB: "2",
    MASTER_ID: " master-1 ",
  });
  assert.equal(s.port, 9000);
  assert.equal(s.debug, true);
  assert.deepEqual(s.corsOrigins, ["https://a.example", "https://b.example"]);
  assert.equal(s.syncIntervalMinutes, 2.5);
  assert.equal(s.adminToken, "0123456789abcdef0123");
  assert.equal(s.maxBodyBytes, 2 * 1024 * 1024);
  assert.equal(s.masterId, "master-1");
  assert.equal(parseSettings({ RETENTION_DAYS: "30" }).retentionDays, 30);
});

Deno.test("settings: each bad value is named with what to do", () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ API_PORT: "http" }, /API_PORT must be a whole number, got "http"/],
    [{ API_PORT: "70000" }, /API_PORT must be between 0 and 65535, got 70000/],
    [{ DEBUG: "maybe" }, /DEBUG must be true or false, got "maybe"/],
    [{ SYNC_INTERVAL_MINUTES: "0" }, /SYNC_INTERVAL_MINUTES must be between/],
    [{ MAX_BODY_MB: "lots" }, /MAX_BODY_MB must be a number/],
    [{ ADMIN_TOKEN: "short" }, /ADMIN_TOKEN must be at least 16 characters; generate one with/],
    [{ AGENT_ENROLLMENT_TOKEN: "short" }, /AGENT_ENROLLMENT_TOKEN must be at least 16/],
    [{ RETENTION_DAYS: "0" }, /RETENTION_DAYS must be between 1 and 36500, got 0/],
    [{ RETENTION_DAYS: "a year" }, /RETENTION_DAYS must be a whole number, got "a year"/],
  ];
  for (const [env, message] of cases) {
    assert.throws(
      () => parseSettings(env),
      (err) => err instanceof SettingsError && message.test(err.message),
    );
  }
});

Deno.test(".env files: comments, quotes and export are understood", () => {
  assert.deepEqual(
    parseEnvFile(
      [
        "# calsync",
        "API_PORT=9000",
        "export DEBUG=true",
        'CORS_ORIGINS="https://a.example"',
        "ADMIN_TOKEN='with # hash inside'",
        "DATA_DIR=/var/lib/calsync # trailing comment",
        "",
      ].join("\n"),
    ),
    {
      API_PORT: "9000",
      DEBUG: "true",
      CORS_ORIGINS: "https://a.example",
      ADMIN_TOKEN: "with # hash inside",
      DATA_DIR: "/var/lib/calsync",
    },
  );
  assert.throws(() => parseEnvFile("OK=1\nnot a line"), /\.env line 2: expected KEY=value/);
});

Deno.test("settings: REDIS_HOST or REDIS_URL choose the Redis store", () => {
  assert.equal(parseSettings({}).redis, null);
  assert.deepEqual(parseSettings({ REDIS_HOST: "redis", REDIS_PASSWORD: "pw" }).redis, {
    url: undefined,
    host: "redis",
    port: 6379,
    password: "pw",
    db: 0,
    tls: false,
    keyPrefix: "calsync:",
  });
  assert.equal(
    parseSettings({ REDIS_URL: "rediss://cache:6380/2" }).redis?.url,
    "rediss://cache:6380/2",
  );
  assert.throws(
    () => parseSettings({ REDIS_URL: "cache:6379" }),
    /REDIS_URL must start with redis:\/\//,
  );
  assert.throws(
    () => parseSettings({ REDIS_HOST: "r", REDIS_DB: "16" }),
    /REDIS_DB must be between 0 and 15/,
  );
});
