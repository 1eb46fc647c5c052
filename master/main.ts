/**
 * The master's entry point: reads settings, opens the store, makes sure the admin and
 * enrollment tokens exist, serves the app, and on SIGINT/SIGTERM finishes in-flight
 * requests and closes the store.
 *
 * @module
 */
import { join } from "node:path";
import { VERSION } from "../shared/version.ts";
import { createApp } from "./app.ts";
import { readEnvFile } from "./env_file.ts";
import { consoleLogger } from "./log.ts";
import { hashToken, loadOrCreateToken } from "./secrets.ts";
import { parseSettings, SettingsError } from "./settings.ts";
import { SqliteStore } from "./store/sqlite.ts";

async function main(): Promise<number> {
  let settings;
  try {
    settings = parseSettings({ ...(await readEnvFile(".env")), ...Deno.env.toObject() });
  } catch (err) {
    if (!(err instanceof SettingsError) && !(err instanceof Error)) throw err;
    console.error(`calsync master: ${err.message}`);
    return 2;
  }
  const logger = consoleLogger(settings.debug);
  await Deno.mkdir(settings.dataDir, { recursive: true });
  const store = await SqliteStore.open(settings.dataDir);
  const adminToken = await loadOrCreateToken(
    settings.adminToken,
    settings.dataDir,
    "admin_token",
    "ADMIN_TOKEN",
    logger,
  );
  const enrollmentToken = await loadOrCreateToken(
    settings.enrollmentToken,
    settings.dataDir,
    "enrollment_token",
    "AGENT_ENROLLMENT_TOKEN",
    logger,
  );
  const app = createApp({
    store,
    logger,
    adminTokenHash: hashToken(adminToken),
    enrollmentTokenHash: hashToken(enrollmentToken),
    maxBodyBytes: settings.maxBodyBytes,
    corsOrigins: settings.corsOrigins,
    syncIntervalMinutes: settings.syncIntervalMinutes,
    now: () => new Date(),
    startedAt: new Date(),
  });
  const server = Deno.serve({
    port: settings.port,
    hostname: settings.hostname,
    onListen: ({ hostname, port }) =>
      logger.log(
        "info",
        `calsync master ${VERSION} listening on http://${hostname}:${port} ` +
          `(store: sqlite in ${join(settings.dataDir, "calsync.db")})`,
      ),
  }, app.fetch);

  const stop = async (signal: string) => {
    logger.log("info", `${signal}: finishing in-flight requests`);
    await server.shutdown();
    await store.close();
    logger.log("info", "stopped");
  };
  const onSignal = (signal: Deno.Signal) => () => stop(signal).then(() => Deno.exit(0));
  Deno.addSignalListener("SIGINT", onSignal("SIGINT"));
  Deno.addSignalListener("SIGTERM", onSignal("SIGTERM"));
  await server.finished;
  return 0;
}

if (import.meta.main) Deno.exit(await main());
