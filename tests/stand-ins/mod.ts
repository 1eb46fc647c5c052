/**
 * The stand-in programs beside this file (`powershell`, `systemctl`) put first on `PATH`
 * for a test, and what they recorded. Each appends one JSON object a line to the file
 * named by `CALSYNC_STANDIN_RECORD`; see each script for its switches.
 *
 * @module
 */
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const FOLDER = fileURLToPath(new URL(".", import.meta.url));

/** An environment that finds the stand-ins first, and what they recorded in it. */
export interface StandIns extends AsyncDisposable {
  /** Variables to add to a process's environment: `PATH`, the record file, `extra`. */
  env: Record<string, string>;
  /** Every record written so far, in order. */
  records(): Promise<Record<string, unknown>[]>;
}

/**
 * Stand-ins for one test, with `extra` variables (`CALSYNC_STANDIN_FIXTURE`…). The
 * stand-ins are Deno scripts, so Deno's own folder follows them on `PATH`.
 */
export async function standIns(extra: Record<string, string> = {}): Promise<StandIns> {
  const dir = await Deno.makeTempDir({ prefix: "calsync-stand-ins-" });
  const record = join(dir, "records.jsonl");
  return {
    env: {
      PATH: [FOLDER, dirname(Deno.execPath()), Deno.env.get("PATH") ?? ""].join(delimiter),
      CALSYNC_STANDIN_RECORD: record,
      ...extra,
    },
    async records() {
      try {
        const text = await Deno.readTextFile(record);
        return text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) return [];
        throw error;
      }
    },
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}
