/**
 * The agent's config file (`outlook_config.json`): its schema, defaults and error
 * messages that name the JSON path and the fix.
 *
 * The seed keys (`agent_id`, `agent_name`, `environment`, `central_api_url`,
 * `sync_interval_minutes`, `calendar_sources[]` with `type` and `name`) keep their
 * meaning; `enrollment_token`, `sync_window` and per source `id` and `enabled` are added
 * beside them. Unknown keys are ignored so older and newer files keep loading.
 *
 * @module
 */
import { resolve } from "node:path";
import { z } from "zod";
import { formatPath } from "../shared/json_path.ts";
import { Identifier, SourceSettings } from "../shared/protocol.ts";
import { findJsonSyntaxError } from "./json_error.ts";
import { SOURCE_TYPES, type SourceRegistry } from "./sources/mod.ts";

/** The config file the agent looks for when `--config` is not given. */
export const CONFIG_FILE_NAME = "outlook_config.json";

/** A minimal config, shown when the file is missing. */
export const EXAMPLE_CONFIG = `{
  "agent_id": "office-pc-1",
  "agent_name": "Office PC",
  "environment": "office",
  "central_api_url": "https://calsync.example.com/api",
  "enrollment_token": "<token from the master's admin>",
  "sync_interval_minutes": 15,
  "calendar_sources": [
    { "type": "ics", "name": "Team", "url": "https://example.com/team.ics" }
  ]
}`;

/** A config file that cannot be used; `problems` holds one line per fault. */
export class ConfigError extends Error {
  /** Creates the error for `file` with its problems, each `path: what and how to fix`. */
  constructor(readonly file: string, readonly problems: string[]) {
    super(`invalid config ${file}:\n${problems.map((p) => `  ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  return /^[aeiou]/.test(typeof value) ? `an ${typeof value}` : `a ${typeof value}`;
}

/** Error text for a key of the wrong type, or one that is missing when it is required. */
function expecting(what: string, example: string) {
  return {
    error: (issue: { input?: unknown }) =>
      issue.input === undefined
        ? `missing; add ${example}`
        : `expected ${what}, got ${describeValue(issue.input)}`,
  };
}

function isHttpUrl(value: string): boolean {
  try {
    return ["http:", "https:"].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

/**
 * A source id derived from its name: ASCII lowercase, accents dropped, every other run of
 * characters turned into "-", at most 64 characters. May be empty (e.g. for "日本").
 */
export function slugify(name: string): string {
  return name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 64)
    .replace(/-+$/, "");
}

const SourceEntry = z.looseObject(
  {
    type: z.string(expecting("a source type as a string", '"type": "ics"')),
    name: z
      .string(expecting("a name as a string", '"name": "Team calendar"'))
      .min(1, { error: 'must not be empty; name the source, e.g. "Team calendar"' }),
    id: z.string(expecting("an id as a string", '"id": "team"')).pipe(Identifier).optional(),
    enabled: z.boolean(expecting("true or false", '"enabled": true')).default(true),
    ...SourceSettings.shape,
  },
  { error: 'expected a source object such as {"type": "ics", "name": "Team", "url": "…"}' },
);

const DISPLAY_KEYS = SourceSettings.keyof().options;

/** Builds the config schema for the source types in `registry`. */
export function agentConfigSchema(registry: SourceRegistry = SOURCE_TYPES) {
  const supported = [...registry.keys()].join(", ");
  const source = SourceEntry.transform((entry, ctx) => {
    const sourceType = registry.get(entry.type);
    if (sourceType === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["type"],
        message: `unknown source type ${JSON.stringify(entry.type)}; supported: ${supported}`,
      });
      return z.NEVER;
    }
    const parsed = sourceType.settings.safeParse(entry);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        ctx.addIssue({ code: "custom", path: issue.path, message: issue.message });
      }
      return z.NEVER;
    }
    return {
      id: entry.id,
      name: entry.name,
      type: entry.type,
      enabled: entry.enabled,
      settings: parsed.data,
      display: SourceSettings.parse(Object.fromEntries(DISPLAY_KEYS.map((k) => [k, entry[k]]))),
    };
  });

  return z
    .looseObject(
      {
        agent_id: z
          .string(expecting("an id as a string", '"agent_id": "office-pc-1"'))
          .pipe(Identifier),
        agent_name: z
          .string(expecting("a name as a string", '"agent_name": "Office PC"'))
          .min(1, { error: 'must not be empty; e.g. "Office PC"' })
          .max(256),
        environment: z.string(expecting("a string", '"environment": "office"')).max(256)
          .default(""),
        central_api_url: z
          .string(expecting("a URL", '"central_api_url": "https://calsync.example.com/api"'))
          .refine(isHttpUrl, {
            error: "expected an http(s) URL such as https://calsync.example.com/api",
          }),
        enrollment_token: z
          .string(expecting("a token as a string", '"enrollment_token": "…"'))
          .min(1, { error: "must not be empty; remove the key or paste the token" })
          .optional(),
        sync_interval_minutes: z
          .number(expecting("a number of minutes such as 15", '"sync_interval_minutes": 15'))
          .min(1, { error: "expected at least 1 minute" })
          .max(1440, { error: "expected at most 1440 minutes (one day)" })
          .default(15),
        sync_window: z
          .object(
            {
              past_days: z
                .number(expecting("a number of days such as 30", '"past_days": 30'))
                .int({ error: "expected a whole number of days" })
                .min(0, { error: "expected 0 or more days" })
                .max(3650, { error: "expected at most 3650 days" })
                .default(30),
              future_days: z
                .number(expecting("a number of days such as 90", '"future_days": 90'))
                .int({ error: "expected a whole number of days" })
                .min(1, { error: "expected 1 or more days" })
                .max(3650, { error: "expected at most 3650 days" })
                .default(90),
            },
            expecting("an object", '"sync_window": {"past_days": 30, "future_days": 90}'),
          )
          .default({ past_days: 30, future_days: 90 }),
        calendar_sources: z.array(
          source,
          expecting(
            "an array of sources",
            '"calendar_sources": [{"type": "ics", "name": "Team", "url": "https://…"}]',
          ),
        ),
      },
      { error: "expected a JSON object with the agent settings at the top level" },
    )
    .transform((config, ctx) => {
      const firstWithId = new Map<string, number>();
      const calendar_sources = config.calendar_sources.map((s, i) => {
        const id = s.id ?? slugify(s.name);
        if (id === "") {
          ctx.addIssue({
            code: "custom",
            path: ["calendar_sources", i, "name"],
            message: `cannot derive an id from ${JSON.stringify(s.name)}; add "id": "team" ` +
              "(letters, digits, '.', '_' or '-')",
          });
        }
        const first = firstWithId.get(id);
        if (first === undefined) firstWithId.set(id, i);
        else {
          const other = config.calendar_sources[first];
          ctx.addIssue({
            code: "custom",
            path: ["calendar_sources", i, "id"],
            message: `sources ${JSON.stringify(other.name)} (calendar_sources[${first}]) and ` +
              `${JSON.stringify(s.name)} (calendar_sources[${i}]) both have id "${id}"; ` +
              'give one of them its own "id"',
          });
        }
        return { ...s, id };
      });
      return { ...config, calendar_sources };
    });
}

/** A validated agent config. */
export type AgentConfig = z.output<ReturnType<typeof agentConfigSchema>>;
/** A configured calendar source with its id settled and its type's settings validated. */
export type ConfiguredSource = AgentConfig["calendar_sources"][number];

/** Keys whose values must never reach a log, in any source type's settings. */
const SECRET_KEY = /password|token|secret/i;

/** The config's secrets (enrollment token, source passwords), to mask in logs. */
export function configSecrets(config: AgentConfig): string[] {
  const secrets = config.enrollment_token === undefined ? [] : [config.enrollment_token];
  for (const source of config.calendar_sources) {
    for (const [key, value] of Object.entries(source.settings as Record<string, unknown>)) {
      if (SECRET_KEY.test(key) && typeof value === "string") secrets.push(value);
    }
  }
  return secrets;
}

/** Parses and validates config text; `file` names it in errors. */
export function parseConfig(
  text: string,
  file: string,
  registry: SourceRegistry = SOURCE_TYPES,
): AgentConfig {
  // Notepad saves UTF-8 with a byte-order mark, which JSON.parse rejects.
  const json = text.replace(/^\uFEFF/, "");
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    const where = findJsonSyntaxError(json);
    throw new ConfigError(file, [
      where === null
        ? `not valid JSON: ${(error as Error).message}`
        : `not valid JSON at line ${where.line}, column ${where.column}: ${where.message}`,
    ]);
  }
  const parsed = agentConfigSchema(registry).safeParse(raw);
  if (parsed.success) return parsed.data;
  throw new ConfigError(
    file,
    parsed.error.issues.map((issue) => {
      const path = formatPath(issue.path);
      return path === "" ? issue.message : `${path}: ${issue.message}`;
    }),
  );
}

/** Reads and validates the config file at `path`. */
export async function loadConfig(
  path: string,
  registry: SourceRegistry = SOURCE_TYPES,
): Promise<AgentConfig> {
  const file = resolve(path);
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new ConfigError(file, [
        `file not found; the agent looked for ${file}. Create it there (or pass ` +
        `--config FILE), for example:\n${EXAMPLE_CONFIG}`,
      ]);
    }
    throw new ConfigError(file, [`cannot read: ${(error as Error).message}`]);
  }
  return parseConfig(text, file, registry);
}
