/**
 * The calsync version, read from `deno.json` so one place sets it for both programs.
 *
 * @module
 */
import config from "../deno.json" with { type: "json" };

/** The version of this build of calsync. */
export const VERSION: string = config.version;
