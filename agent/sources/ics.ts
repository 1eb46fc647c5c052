/**
 * iCalendar source: an `.ics` file on disk or a URL, with recurring series expanded
 * inside the sync window by the shared ICS parser.
 *
 * Config: `{"type": "ics", "name": "Team", "url": "https://…/team.ics"}` or
 * `"path": "team.ics"` (relative to the config file's folder); optional `username` and
 * `password` (HTTP Basic), `timeout_seconds` (default 60) and `floating_timezone` (the
 * IANA zone of times written without one; default the machine's zone).
 *
 * @module
 */
import { timeoutSeconds } from "../source_settings.ts";
import { isAbsolute, resolve } from "node:path";
import { z } from "zod";
import { basicAuthorization } from "../../shared/basic_auth.ts";
import { parseIcsDetailed } from "../../shared/ics/mod.ts";
import { locatedWarning } from "../../shared/warnings.ts";
import { displayUrl, exchange } from "../http.ts";
import type { SourceContext, SourceReading, SourceType } from "./mod.ts";

const URL_HINT = "expected an http(s) URL such as https://example.com/team.ics";

function isHttpUrl(value: string): boolean {
  try {
    return ["http:", "https:", "webcal:"].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

/** The keys of an `ics` source. */
export const IcsSettings = z
  .object({
    url: z.string({ error: URL_HINT }).refine(isHttpUrl, { error: URL_HINT }).optional(),
    path: z
      .string({ error: "expected a file path such as calendars/team.ics" })
      .min(1, { error: "expected a file path such as calendars/team.ics" })
      .optional(),
    username: z.string({ error: "expected a user name as a string" }).optional(),
    password: z.string({ error: "expected a password as a string" }).optional(),
    timeout_seconds: timeoutSeconds(60),
    floating_timezone: z
      .string()
      .refine(isTimeZone, { error: "expected an IANA time zone such as Europe/Berlin" })
      .optional(),
  })
  .superRefine((s, ctx) => {
    if ((s.url === undefined) === (s.path === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: [],
        message: s.url === undefined
          ? 'an ics source needs "url" (https://…/calendar.ics) or "path" (a file); set one'
          : 'an ics source takes "url" or "path", not both; remove one',
      });
    }
    if (s.path !== undefined && (s.username !== undefined || s.password !== undefined)) {
      ctx.addIssue({
        code: "custom",
        path: ["username"],
        message: '"username" and "password" apply only to a "url"; remove them',
      });
    }
  });

/** Validated settings of an `ics` source. */
export type IcsSettings = z.output<typeof IcsSettings>;

/** Reads `.ics` files and URLs. */
export const icsSource: SourceType<IcsSettings> = {
  type: "ics",
  settings: IcsSettings,
  describe: (s) => (s.url !== undefined ? displayUrl(s.url) : `file ${s.path}`),
  async read(s, context): Promise<SourceReading> {
    // Bytes, not text: a line folded inside a UTF-8 character is mended before decoding.
    const { bytes, origin } = s.url !== undefined
      ? { bytes: await download(s.url, s, context), origin: displayUrl(s.url) }
      : await readFile(s.path ?? "", context.configDir);
    try {
      const { occurrences, warnings } = parseIcsDetailed(bytes, context.window, {
        floatingZone: s.floating_timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone,
      });
      return { occurrences, warnings: warnings.map((w) => locatedWarning(origin, w)) };
    } catch (error) {
      throw new Error(`${origin}: ${(error as Error).message}`);
    }
  },
};

async function readFile(
  path: string,
  configDir: string,
): Promise<{ bytes: Uint8Array; origin: string }> {
  const file = isAbsolute(path) ? path : resolve(configDir, path);
  try {
    return { bytes: await Deno.readFile(file), origin: file };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw new Error(`${file}: file not found`);
    throw new Error(`${file}: cannot read: ${(error as Error).message}`);
  }
}

async function download(
  rawUrl: string,
  s: IcsSettings,
  context: SourceContext,
): Promise<Uint8Array> {
  // webcal:// is how calendar apps advertise subscriptions; it is plain HTTPS underneath.
  // (Assigning url.protocol cannot do this: URLs refuse to switch to a special scheme.)
  const url = new URL(rawUrl.replace(/^webcal:/i, "https:"));
  // Credentials in the URL itself are moved to a header: fetch refuses URLs that carry them.
  const username = s.username ?? decodeURIComponent(url.username);
  const password = s.password ?? decodeURIComponent(url.password);
  url.username = "";
  url.password = "";
  const headers = new Headers({ accept: "text/calendar, */*;q=0.5" });
  if (username !== "" || password !== "") {
    headers.set("authorization", basicAuthorization(username, password));
  }
  const shown = url.href;
  let answer: { ok: boolean; status: string; bytes: Uint8Array };
  try {
    answer = await exchange(
      context.fetch,
      new Request(url, { headers }),
      s.timeout_seconds * 1000,
      async (response) => ({
        ok: response.ok,
        status: `${response.status} ${response.statusText}`.trim(),
        bytes: response.ok ? await response.bytes() : new Uint8Array(),
      }),
    );
  } catch (error) {
    throw new Error(`GET ${shown}: ${(error as Error).message}`);
  }
  if (!answer.ok) {
    const hint = /^40[13]\b/.test(answer.status) ? "; check username and password" : "";
    throw new Error(`GET ${shown}: HTTP ${answer.status}${hint}`);
  }
  return answer.bytes;
}
