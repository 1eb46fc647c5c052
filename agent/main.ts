/**
 * Entry point of the calsync agent (`deno task agent`, or the compiled `agent`/`agent.exe`).
 * See `agent --help`.
 *
 * @module
 */
import { runCli } from "./cli.ts";

if (import.meta.main) Deno.exit(await runCli(Deno.args));
