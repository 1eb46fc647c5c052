/**
 * Keys that several source types share, with one wording of their errors.
 *
 * @module
 */
import { z } from "zod";

/** `timeout_seconds`: how long one read may take, 1-3600 s, `defaultSeconds` when left out. */
export function timeoutSeconds(defaultSeconds: number) {
  return z
    .number({ error: `expected a number of seconds such as ${defaultSeconds}` })
    .positive({ error: `expected a positive number of seconds such as ${defaultSeconds}` })
    .max(3600, { error: "expected at most 3600 seconds" })
    .default(defaultSeconds);
}

/** `include_body`: whether descriptions are read (off by default). */
export const IncludeBody = z.boolean({ error: "expected true or false" }).default(false);
