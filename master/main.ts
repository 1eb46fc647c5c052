/**
 * The master's entry point: reads settings, opens the store, makes sure the admin and
 * enrollment tokens exist, serves the app, and on SIGINT/SIGTERM finishes in-flight
 * requests and closes the store.
 *
 * @module
 */
import { VERSION } from "../shared/version.ts";
import { createApp } from "./app.ts";
import { readEnvFile } from "./env_file.ts";
import { consoleLogger } from "./log.ts";
import { hashToken, loadOrCreateToken } from "./secrets.ts";
import { parseSettings } from "./settings.ts";
import { describeStore, openStore } from "./store/open.ts";
import { loadDestinationConfigs } from "./destinations/config.ts";
import { displayUrl, openDestination } from "./destinations/mod.ts";
import { SyncEngine } from "./sync/engine.ts";

async function main(): Promise<number> {
  let settings, destinationConfigs;
  try {
    const env = { ...(await readEnvFile(".env")), ...Deno.env.toObject() };
    settings = parseSettings(env);
    destinationConfigs = await loadDestinationConfigs(env);
  } catch (err) {
    if (!(err instanceof Error)) throw err;
    console.error(`calsync master: ${err.message}`);
    return 2;
  }
  const logger = consoleLogger(settings.debug);
  await Deno.mkdir(settings.dataDir, { recursive: true });
  const store = await openStore(settings, logger);
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
  // A restarted master is the same master: it takes back at once the destination leases
  // its previous process held, where other masters wait for them to expire.
  const owner = await loadOrCreateToken(
    settings.masterId,
    settings.dataDir,
    "master_id",
    "MASTER_ID",
    logger,
  );
  const sync = new SyncEngine({
    store,
    logger,
    owner,
    leaseMs: settings.leaseMs,
    intervalMs: settings.syncIntervalMinutes * 60_000,
    destinations: destinationConfigs.map(openDestination),
  });
  for (const config of destinationConfigs) {
    logger.log("info", `destination ${config.id}: ${config.type} ${displayUrl(config.url)}`);
    if (config.type === "ews" && config.tls_insecure) {
      logger.log(
        "warn",
        `destination ${config.id}: TLS CERTIFICATE CHECKS ARE OFF (EXCHANGE_TLS_INSECURE=true); ` +
          "anyone between calsync and Exchange can read the password. Set EXCHANGE_CA_FILE " +
          "to your CA's PEM file instead.",
      );
    }
  }
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
    sync,
  });
  const server = Deno.serve({
    port: settings.port,
    hostname: settings.hostname,
    onListen: ({ hostname, port }) =>
      logger.log(
        "info",
        `calsync master ${VERSION} listening on http://${hostname}:${port} ` +
          `(store: ${describeStore(settings)})`,
      ),
  }, app.fetch);

  let stopping: Promise<void> | null = null;
  // main returns only once the stop has finished: exiting when the server alone is done
  // would cut off the engine and the store mid-close.
  const stop = (signal: string) =>
    stopping ??= (async () => {
      logger.log("info", `${signal}: finishing in-flight requests`);
      await server.shutdown();
      await sync.stop();
      await store.close();
      logger.log("info", "stopped");
    })();
  Deno.addSignalListener("SIGINT", () => void stop("SIGINT"));
  Deno.addSignalListener("SIGTERM", () => void stop("SIGTERM"));
  sync.start();
  await server.finished;
  await stopping;
  return 0;
}

if (import.meta.main) Deno.exit(await main());
