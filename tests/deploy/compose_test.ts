/**
 * The deployment files: `docker-compose.yml` as `docker-compose config` resolves it, `.env.example`
 * against README.md's settings table (so the docs and the example cannot drift), and the
 * `Dockerfile` against `deno task master` (permissions, allocator settings and V8 flags).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { parseEnvFile } from "../../master/env_file.ts";
import { parseSettings } from "../../master/settings.ts";
import { loadDestinationConfigs } from "../../master/destinations/config.ts";
import { MASTER_ALLOCATOR_ENV, MASTER_V8_FLAGS } from "../helpers/master_process.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const read = (path: string) => Deno.readTextFile(join(ROOT, path));

type Yaml = string | number | boolean | null | Yaml[] | { [key: string]: Yaml };

/** The YAML that `docker-compose config` prints, read with a well-kept parser. */
function parseYaml(text: string): Yaml {
  return parse(text) as Yaml;
}

// ---------------------------------------------------------------------------------------------
// docker-compose config

const composeMissing = await (async () => {
  try {
    await new Deno.Command("docker-compose", { args: ["version"], stdout: "null", stderr: "null" })
      .output();
    return false;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return true;
    throw err;
  }
})();
if (composeMissing) {
  console.warn(
    "tests/deploy/compose_test.ts: docker-compose is not installed; config test ignored",
  );
}

type Obj = { [key: string]: Yaml };
const obj = (v: Yaml | undefined, what: string): Obj => {
  assert.ok(v !== null && typeof v === "object" && !Array.isArray(v), `${what} is a mapping`);
  return v as Obj;
};

/** The services' volumes as `volume:/path` (mode dropped), in short or long syntax. */
function mounts(service: Obj): string[] {
  return ((service.volumes ?? []) as Yaml[]).map((v) => {
    if (typeof v === "string") return v.split(":").slice(0, 2).join(":");
    const o = obj(v, "volume");
    return `${o.source}:${o.target}`;
  });
}

/** Published ports as `published:target`, in short or long syntax. */
function publishedPorts(service: Obj): string[] {
  return ((service.ports ?? []) as Yaml[]).map((p) => {
    if (typeof p === "string" || typeof p === "number") return String(p);
    const o = obj(p, "port");
    return `${o.published}:${o.target}`;
  });
}

Deno.test({
  name: composeMissing
    ? "docker-compose config (IGNORED: the docker-compose command is not installed)"
    : "docker-compose config: services, ports, restart policy, volumes",
  ignore: composeMissing,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "calsync-compose-" });
    try {
      await Deno.copyFile(join(ROOT, "docker-compose.yml"), join(dir, "docker-compose.yml"));
      await Deno.copyFile(join(ROOT, ".env.example"), join(dir, ".env"));
      const out = await new Deno.Command("docker-compose", {
        args: ["-f", "docker-compose.yml", "config"],
        cwd: dir,
        clearEnv: true,
        env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", HOME: dir },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, `docker-compose config failed:\n${stderr}`);
      const config = obj(parseYaml(new TextDecoder().decode(out.stdout)), "config");
      const services = obj(config.services, "services");
      const volumes = obj(config.volumes, "volumes");
      const master = obj(services["calendar-service"], "calendar-service");
      const redis = obj(services.redis, "redis");

      // calendar-service: built here, 8008 published, restarted, /data on a named volume.
      assert.ok(master.build, "calendar-service is built from the Dockerfile");
      assert.deepEqual(publishedPorts(master), ["8008:8008"]);
      assert.equal(master.restart, "unless-stopped");
      const masterData = mounts(master).find((m) => m.endsWith(":/data"));
      assert.ok(masterData, "calendar-service mounts /data");
      assert.ok(masterData.split(":")[0] in volumes, `${masterData} is a named volume`);
      const env = obj(master.environment, "calendar-service environment");
      assert.equal(env.REDIS_HOST, "redis");
      assert.equal(env.DATA_DIR, "/data");
      assert.equal(String(env.API_PORT), "8008", "the port mapping and HEALTHCHECK assume 8008");
      const dependsOn = Array.isArray(master.depends_on)
        ? master.depends_on
        : Object.keys(obj(master.depends_on, "depends_on"));
      assert.ok(dependsOn.includes("redis"), "calendar-service depends on redis");

      // redis: pinned 7.x alpine, append-only, never published outside the compose network.
      assert.match(String(redis.image), /^redis:7\.\d+\.\d+-alpine$/);
      assert.equal(redis.ports, undefined, "redis publishes no ports");
      assert.notEqual(redis.network_mode, "host");
      const command = Array.isArray(redis.command)
        ? redis.command.join(" ")
        : String(redis.command);
      assert.match(command, /redis-server --appendonly yes/);
      assert.equal(redis.restart, "unless-stopped");
      const redisData = mounts(redis).find((m) => m.endsWith(":/data"));
      assert.ok(redisData, "redis mounts /data");
      assert.ok(redisData.split(":")[0] in volumes, `${redisData} is a named volume`);
      assert.notEqual(redisData, masterData, "redis and the master have volumes of their own");
      // Only the password reaches Redis, not the master's other secrets.
      assert.deepEqual(Object.keys(obj(redis.environment ?? {}, "redis environment")), [
        "REDIS_PASSWORD",
      ]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

// ---------------------------------------------------------------------------------------------
// .env.example against README.md

/** The first column of the table under README.md's "### Settings". */
function readmeSettings(readme: string): string[] {
  const section = readme.split(/^### Settings\s*$/m)[1];
  assert.ok(section, 'README.md has a "### Settings" section');
  const table = section.split("\n")
    .map((l) => l.trim())
    .filter((l, i, all) => l.startsWith("|") && all.slice(0, i).every((p) => !p.startsWith("##")));
  assert.ok(table.length > 2, "the Settings section has a table");
  const [header, separator, ...rows] = table;
  assert.match(header, /^\|\s*variable\s*\|/);
  assert.match(separator, /^\|\s*-+/);
  return rows.map((row) => row.split("|")[1].trim().replaceAll("`", ""));
}

/** `KEY=value` lines of `.env.example`, each with the comment line above it. */
function envExample(text: string) {
  const lines = text.split("\n");
  return lines.flatMap((line, i) => {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    return m ? [{ name: m[1], value: m[2], comment: lines[i - 1] ?? "" }] : [];
  });
}

Deno.test(".env.example lists every README setting, each commented", async () => {
  const documented = readmeSettings(await read("README.md"));
  assert.ok(documented.includes("API_PORT") && documented.includes("DESTINATIONS_FILE"));
  const text = await read(".env.example");
  const vars = envExample(text);
  const names = vars.map((v) => v.name);
  const missing = documented.filter((name) => !names.includes(name));
  assert.deepEqual(missing, [], `.env.example lacks README settings: ${missing.join(", ")}`);
  assert.equal(new Set(names).size, names.length, "no variable twice");
  for (const v of vars) {
    assert.match(v.comment, /^# \S/, `${v.name} has a one-line comment above it`);
    if (/TOKEN|PASSWORD/.test(v.name)) assert.equal(v.value, "", `${v.name} is left empty`);
  }
  // Only names the README or the architecture (Redis) know: nothing undocumented.
  const extra = names.filter((n) => !documented.includes(n));
  assert.deepEqual(extra, [], `.env.example has undocumented variables: ${extra.join(", ")}`);
});

Deno.test(".env.example copied to .env as it is starts a master with defaults", async () => {
  const env = parseEnvFile(await read(".env.example"));
  const settings = parseSettings(env);
  assert.equal(settings.port, 8008);
  assert.equal(settings.hostname, "0.0.0.0");
  assert.equal(settings.maxBodyBytes, 50 * 1024 * 1024);
  assert.equal(settings.adminToken, undefined, "an empty ADMIN_TOKEN means generated");
  assert.equal(settings.enrollmentToken, undefined);
  assert.deepEqual(await loadDestinationConfigs(env), [], "no destination until one is filled in");
});

// ---------------------------------------------------------------------------------------------
// Dockerfile

type Instruction = { op: string; args: string };

/** Instructions of the Dockerfile's last stage, continuation lines joined, comments dropped. */
function lastStage(dockerfile: string): { stages: Instruction[][]; last: Instruction[] } {
  const joined = dockerfile.split("\n")
    .filter((l) => !l.trim().startsWith("#"))
    .join("\n")
    .replace(/\\\n/g, " ");
  const instructions = joined.split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "")
    .map((l) => {
      const m = /^(\w+)\s+(.*)$/.exec(l);
      assert.ok(m, `Dockerfile line not understood: ${l}`);
      return { op: m[1].toUpperCase(), args: m[2].trim() };
    });
  const stages: Instruction[][] = [];
  for (const ins of instructions) {
    if (ins.op === "FROM") stages.push([]);
    if (stages.length > 0) stages[stages.length - 1].push(ins);
  }
  assert.ok(stages.length >= 2, "the Dockerfile is multi-stage");
  return { stages, last: stages[stages.length - 1] };
}

/** The `--allow-*`/`--deny-*` flags of a deno command line. */
const permissions = (args: string[]) =>
  args.filter((a) => /^--(allow|deny)-/.test(a) || a === "-A" || a === "--allow-all").sort();

Deno.test("Dockerfile: pinned Deno, non-root, /data volume, 8008, health check, task's permissions", async () => {
  const dockerfile = await read("Dockerfile");
  const { stages, last } = lastStage(dockerfile);
  const one = (op: string) => last.filter((i) => i.op === op);

  // Pinned to the project's Deno by tag (directly or through an ARG default).
  const denoJson = JSON.parse(await read("deno.json"));
  const version = "2.9.6";
  for (const stage of stages) {
    const from = stage[0].args.split(/\s+/)[0];
    const image = from.replace(/^\$\{?(\w+)\}?$/, (_, name) => {
      const arg = new RegExp(`^ARG\\s+${name}=(\\S+)`, "m").exec(dockerfile);
      assert.ok(arg, `ARG ${name} has a default`);
      return arg[1];
    });
    assert.match(image, new RegExp(`^denoland/deno:(\\w+-)?${version.replaceAll(".", "\\.")}`));
  }
  // Dependencies are cached in a stage before the app's code is copied.
  assert.ok(
    stages[0].some((i) =>
      i.op === "COPY" && /deno\.json/.test(i.args) && /deno\.lock/.test(i.args)
    ),
    "the first stage copies deno.json and deno.lock",
  );
  assert.ok(
    stages[0].some((i) => i.op === "RUN" && /deno (install --frozen|cache)/.test(i.args)),
    "the first stage caches the dependencies",
  );

  const users = one("USER");
  assert.ok(users.length > 0, "the image sets a USER");
  const user = users[users.length - 1].args;
  assert.ok(!/^(root|0)(:|$)/.test(user), `runs as a non-root user, not ${user}`);
  assert.deepEqual(one("WORKDIR").map((i) => i.args), ["/app"]);
  assert.ok(one("ENV").some((i) => /(^|\s)DATA_DIR=\/data(\s|$)/.test(i.args)), "ENV DATA_DIR");
  assert.ok(one("VOLUME").some((i) => /(^|\s|")\/data("|\s|$|\])/.test(i.args)), "VOLUME /data");
  assert.ok(
    one("RUN").some((i) => /chown\s+\S*deno\S*\s+\/data/.test(i.args)),
    "/data is owned by the deno user",
  );
  assert.ok(
    one("EXPOSE").some((i) => i.args.split(/\s+/).some((p) => p.replace(/\/tcp$/, "") === "8008")),
    "EXPOSE 8008",
  );

  const health = one("HEALTHCHECK");
  assert.equal(health.length, 1, "one HEALTHCHECK");
  assert.match(health[0].args, /CMD/);
  assert.match(health[0].args, /\/health/);
  assert.doesNotMatch(health[0].args, /\bcurl\b|\bwget\b/, "the image has no curl");

  const cmds = one("CMD");
  assert.equal(cmds.length, 1, "one CMD");
  const cmd: string[] = JSON.parse(cmds[0].args);
  const task: string = denoJson.tasks.master;
  const taskArgs = task.split(/\s+/);
  assert.deepEqual(
    permissions(cmd),
    permissions(taskArgs),
    "CMD has deno task master's permissions",
  );
  assert.equal(cmd[cmd.length - 1], taskArgs[taskArgs.length - 1], "CMD runs master/main.ts");
  assert.equal(cmd[cmd.indexOf("run") - 1] ?? "deno", "deno");

  // The allocator settings the tests and benchmarks start the master with, in both places.
  const env = one("ENV").flatMap((i) => i.args.split(/\s+/));
  for (const [name, value] of Object.entries(MASTER_ALLOCATOR_ENV)) {
    assert.ok(env.includes(`${name}=${value}`), `the image sets ${name}=${value}`);
    assert.ok(
      taskArgs.slice(0, taskArgs.indexOf("deno")).includes(`${name}=${value}`),
      `deno task master sets ${name}=${value}`,
    );
  }

  // The V8 flags the tests and benchmarks start the master with, in all three places.
  const v8Flags = `--v8-flags=${MASTER_V8_FLAGS.join(",")}`;
  assert.ok(cmd.includes(v8Flags), `the image runs deno with ${v8Flags}`);
  assert.ok(taskArgs.includes(v8Flags), `deno task master runs deno with ${v8Flags}`);
  assert.ok(
    denoJson.tasks["compile:master"].split(/\s+/).includes(v8Flags),
    `deno task compile:master embeds ${v8Flags}`,
  );
});

Deno.test(".dockerignore keeps data, binaries, tests, git and .env out of the image", async () => {
  const entries = (await read(".dockerignore")).split("\n")
    .map((l) => l.trim().replace(/\/$/, ""))
    .filter((l) => l !== "" && !l.startsWith("#"));
  for (const path of ["data", "dist", "tests", ".git", ".env"]) {
    assert.ok(entries.includes(path), `.dockerignore lists ${path}`);
  }
});
