/**
 * Secrets in config files may be written `env:NAME`, so that the file itself holds none:
 * the value is then read from the environment variable `NAME` when the config is loaded.
 *
 * @module
 */
import { z } from "zod";

/** A secret as written, or `env:NAME` read from the environment; `error` names what is expected. */
export function envSecret(error: string): z.ZodType<string, string> {
  return z.string({ error }).transform((value, ctx) => {
    if (!value.startsWith("env:")) return value;
    const name = value.slice(4);
    const resolved = Deno.env.get(name);
    if (resolved === undefined) {
      ctx.addIssue({ code: "custom", message: `environment variable ${name} is not set` });
      return z.NEVER;
    }
    return resolved;
  });
}
