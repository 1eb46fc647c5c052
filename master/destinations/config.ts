/**
 * Which destinations the master writes to: one Exchange calendar from the documented
 * `EXCHANGE_*` variables, one CalDAV calendar from `CALDAV_URL`, `CALDAV_USERNAME` and
 * `CALDAV_PASSWORD`, and any number from the JSON file named by `DESTINATIONS_FILE`,
 * each with its own source filter; Microsoft 365 calendars (`microsoft365`) only there.
 * Passwords and client secrets in the file may be `env:VARIABLE` so the file itself
 * holds no secret.
 *
 * @module
 */
import { z } from "zod";
import { formatPath } from "../../shared/json_path.ts";
import { Identifier } from "../../shared/protocol.ts";
import type { SourceFilter } from "../sync/desired.ts";
import { isKnownZone } from "../../shared/timezones.ts";
import { EXCHANGE_ONLINE_HINT, isExchangeOnlineEws } from "../../shared/exchange_online.ts";
import { GraphAppSettings } from "../../shared/graph/settings.ts";

const SOURCE_PATTERN_HINT =
  'expected "agent_id/source_id", where either side may be *, such as "office-pc-1/*"';

/** Patterns naming the sources a destination takes: `agent/source`, `agent/*`, `*`. */
const SourcePatterns = z
  .array(
    z.string().regex(
      /^(\*|[A-Za-z0-9][A-Za-z0-9._-]{0,63}(\/(\*|[A-Za-z0-9][A-Za-z0-9._-]{0,63}))?|\*\/[A-Za-z0-9][A-Za-z0-9._-]{0,63})$/,
      {
        error: SOURCE_PATTERN_HINT,
      },
    ),
  )
  .default(["*"]);

/** An IANA zone, or empty for none. */
const ZONE = z.string().default("").refine((zone) => zone === "" || isKnownZone(zone), {
  error: "expected an IANA time zone such as Europe/Berlin",
});

const CalDavDestinationConfig = z.object({
  id: Identifier,
  type: z.literal("caldav"),
  url: z.url({ protocol: /^https?$/, error: "expected an http(s) URL of a calendar collection" }),
  username: z.string().default(""),
  password: z.string().default(""),
  sources: SourcePatterns,
});

const EwsDestinationConfig = z.object({
  id: Identifier,
  type: z.literal("ews"),
  url: z.url({
    protocol: /^https?$/,
    error: "expected the EWS URL, such as https://mail.example.com/EWS/Exchange.asmx",
  }).refine((url) => !isExchangeOnlineEws(url), { error: EXCHANGE_ONLINE_HINT }),
  username: z.string().min(1, { error: "the Exchange user is required, such as CORP\\calsync" }),
  password: z.string().default(""),
  auth: z.enum(["basic", "ntlm"], { error: 'expected "basic" or "ntlm"' }).default("basic"),
  calendar: z.string().default(""),
  ca_file: z.string().default(""),
  tls_insecure: z.boolean().default(false),
  timezone: ZONE,
  sources: SourcePatterns,
});

/**
 * A calendar of an Exchange Online mailbox through Microsoft Graph: the app registration
 * (`GraphAppSettings`), the mailbox, optionally a calendar of it by name and the zone of
 * all-day items when the mailbox's settings cannot be read.
 */
const Microsoft365DestinationConfig = GraphAppSettings.safeExtend({
  id: Identifier,
  type: z.literal("microsoft365"),
  mailbox: z.string({ error: "expected the mailbox's user principal name" }).regex(
    /^[^@\s]+@[^@\s]+\.[^@\s]+$/,
    { error: "expected the user principal name of the mailbox, such as calendar@contoso.com" },
  ),
  calendar_name: z.string().default(""),
  timezone: ZONE,
  sources: SourcePatterns,
});

/** One configured destination. */
export const DestinationConfig = z.discriminatedUnion(
  "type",
  [CalDavDestinationConfig, EwsDestinationConfig, Microsoft365DestinationConfig],
  {
    error: (issue) =>
      issue.code === "invalid_union"
        ? `unknown destination type ${
          JSON.stringify((issue.input as { type?: unknown })?.type)
        }; supported: caldav, ews, microsoft365`
        : undefined,
  },
);
/** A validated destination configuration. */
export type DestinationConfig = z.output<typeof DestinationConfig>;

/** A destination configuration as loaded, with where its credentials are set. */
export type LoadedDestinationConfig = DestinationConfig & {
  /**
   * The setting to fix when the server refuses the credentials, such as
   * `CALDAV_PASSWORD` or `the entry "boss" of DESTINATIONS_FILE /etc/calsync/d.json`.
   */
  credentials_setting: string;
  /**
   * What names a field of a `microsoft365` entry in messages, before the field's name:
   * such as `DESTINATIONS_FILE /etc/calsync/d.json: [2].`.
   */
  settings_prefix?: string;
};

const DestinationsFile = z.array(DestinationConfig).superRefine((list, ctx) => {
  const seen = new Set<string>();
  list.forEach((d, i) => {
    if (seen.has(d.id)) {
      ctx.addIssue({ code: "custom", path: [i, "id"], message: `id "${d.id}" is used twice` });
    }
    seen.add(d.id);
  });
});

/** Raised for a destination configuration the master cannot use. */
export class DestinationConfigError extends Error {
  /** Creates the error; the message names the file or variable and the field. */
  constructor(message: string) {
    super(message);
    this.name = "DestinationConfigError";
  }
}

/** Whether a source matches one of the patterns. */
export function sourceFilter(patterns: readonly string[]): SourceFilter {
  return (agentId, sourceId) =>
    patterns.some((p) => {
      if (p === "*") return true;
      const [agent, source = "*"] = p.split("/");
      return (agent === "*" || agent === agentId) && (source === "*" || source === sourceId);
    });
}

/** The environment variable behind a field of the `EXCHANGE_*` or `CALDAV_*` destination. */
function envVariable(prefix: string, field: string): string {
  const names: Record<string, string> = { url: "SERVER_URL", ca_file: "CA_FILE" };
  const name = prefix === "EXCHANGE" ? names[field] ?? field.toUpperCase() : field.toUpperCase();
  return `${prefix}_${name}`;
}

/** `true`/`false` (and the usual spellings) of a flag variable. */
function parseFlag(value: string | undefined, name: string): boolean {
  const v = (value ?? "").trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(v)) return true;
  if (["", "0", "false", "no", "off"].includes(v)) return false;
  throw new DestinationConfigError(`${name} must be true or false, got "${value}"`);
}

function resolveSecret(value: string, where: string, env: Record<string, string | undefined>) {
  if (!value.startsWith("env:")) return value;
  const name = value.slice(4);
  const resolved = env[name];
  if (resolved === undefined) {
    throw new DestinationConfigError(`${where}: environment variable ${name} is not set`);
  }
  return resolved;
}

/**
 * Reads the destinations from the environment and, when `DESTINATIONS_FILE` is set,
 * from that file. Throws `DestinationConfigError` naming the bad field.
 */
export async function loadDestinationConfigs(
  env: Record<string, string | undefined>,
): Promise<LoadedDestinationConfig[]> {
  const configs: unknown[] = [];
  const variables: string[] = [];
  if (env.EXCHANGE_SERVER_URL) {
    configs.push({
      id: "exchange",
      type: "ews",
      url: env.EXCHANGE_SERVER_URL,
      username: env.EXCHANGE_USERNAME ?? "",
      password: env.EXCHANGE_PASSWORD ?? "",
      auth: env.EXCHANGE_AUTH?.toLowerCase() || undefined,
      calendar: env.EXCHANGE_CALENDAR ?? "",
      ca_file: env.EXCHANGE_CA_FILE ?? "",
      tls_insecure: parseFlag(env.EXCHANGE_TLS_INSECURE, "EXCHANGE_TLS_INSECURE"),
      timezone: env.EXCHANGE_TIMEZONE ?? "",
    });
    variables.push("EXCHANGE");
  }
  if (env.CALDAV_URL) {
    configs.push({
      id: "caldav",
      type: "caldav",
      url: env.CALDAV_URL,
      username: env.CALDAV_USERNAME ?? "",
      password: env.CALDAV_PASSWORD ?? "",
    });
    variables.push("CALDAV");
  }
  const file = env.DESTINATIONS_FILE;
  let fromFile: unknown[] = [];
  if (file) {
    let text: string;
    try {
      text = await Deno.readTextFile(file);
    } catch (err) {
      throw new DestinationConfigError(
        `DESTINATIONS_FILE ${file}: cannot read it (${(err as Error).message})`,
      );
    }
    try {
      const parsed = JSON.parse(text);
      fromFile = Array.isArray(parsed) ? parsed : [parsed];
    } catch (err) {
      throw new DestinationConfigError(
        `DESTINATIONS_FILE ${file}: not valid JSON (${(err as Error).message})`,
      );
    }
  }
  const all = [...configs, ...fromFile];
  const result = DestinationsFile.safeParse(all);
  if (!result.success) {
    const issue = result.error.issues[0];
    const [index, ...rest] = issue.path as (string | number)[];
    const where = Number(index) < configs.length
      ? envVariable(variables[Number(index)], String(rest[0] ?? "url"))
      : `DESTINATIONS_FILE ${file}: [${Number(index) - configs.length}]${rest.length ? "." : ""}${
        formatPath(rest)
      }`;
    throw new DestinationConfigError(`${where}: ${issue.message}`);
  }
  return result.data.map((d, i) => {
    const fromEnv = i < configs.length;
    const prefix = fromEnv ? "" : `DESTINATIONS_FILE ${file}: [${i - configs.length}].`;
    if (d.type === "microsoft365") {
      const secretField = d.client_secret !== "" ? "client_secret" : "certificate_file";
      return {
        ...d,
        client_secret: resolveSecret(d.client_secret, `${prefix}client_secret`, env),
        credentials_setting:
          `the ${secretField} (and tenant_id, client_id) of the entry "${d.id}" in DESTINATIONS_FILE ${file}`,
        settings_prefix: prefix,
      };
    }
    return {
      ...d,
      password: resolveSecret(
        d.password,
        fromEnv ? `${variables[i]}_PASSWORD` : `${prefix}password`,
        env,
      ),
      credentials_setting: fromEnv
        ? `${variables[i]}_USERNAME and ${variables[i]}_PASSWORD`
        : `the username and password of the entry "${d.id}" in DESTINATIONS_FILE ${file}`,
    };
  });
}
