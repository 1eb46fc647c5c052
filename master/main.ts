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
import { Backup, exportStore, importStore } from "./backup.ts";
import type { Logger } from "./log.ts";
import type { Settings } from "./settings.ts";
import { loadDestinationConfigs } from "./destinations/config.ts";
import { configDisplayUrl, openDestination } from "./destinations/mod.ts";
import { SyncEngine } from "./sync/engine.ts";
import { Pruner } from "./sync/retention.ts";
import { Metrics } from "./metrics/master_metrics.ts";
import { authLimiterFor } from "./http/auth_limiter.ts";

const USAGE = `usage: master                 serve (the default)
       master backup FILE     write everything the store holds to FILE (JSON)
       master restore FILE    load FILE into an empty store`;

/** `master backup FILE` and `master restore FILE`, on the store the settings choose. */
async function backupCommand(
  command: "backup" | "restore",
  file: string | undefined,
  settings: Settings,
  logger: Logger,
): Promise<number> {
  if (!file) {
    console.error(`calsync master: ${command} needs a file\n${USAGE}`);
    return 2;
  }
  const store = await openStore(settings, logger);
  try {
    if (command === "backup") {
      const backup = await exportStore(store, new Date());
      await Deno.writeTextFile(file, JSON.stringify(backup), { mode: 0o600 });
      const events = backup.agents.flatMap((a) => a.sources).reduce(
        (n, s) => n + s.occurrences.length,
        0,
      );
      logger.log(
        "info",
        `backup of ${
          describeStore(settings)
        } written to ${file}: ${backup.agents.length} agents, ${events} occurrences`,
      );
    } else {
      const parsed = Backup.safeParse(JSON.parse(await Deno.readTextFile(file)));
      if (!parsed.success) {
        console.error(
          `calsync master: ${file} is not a calsync backup: ${parsed.error.issues[0].message}`,
        );
        return 2;
      }
      await importStore(store, parsed.data);
      logger.log("info", `${file} restored into ${describeStore(settings)}`);
    }
    return 0;
  } catch (err) {
    console.error(`calsync master: ${command} failed: ${(err as Error).message}`);
    return 1;
  } finally {
    await store.close();
  }
}

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
  const [command, file] = Deno.args;
  if (command === "backup" || command === "restore") {
    return await backupCommand(command, file, settings, logger);
  }
  if (command !== undefined) {
    console.error(`calsync master: unknown command "${command}"\n${USAGE}`);
    return 2;
  }
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
  const metrics = new Metrics();
  const sync = new SyncEngine({
    store,
    logger,
    owner,
    leaseMs: settings.leaseMs,
    intervalMs: settings.syncIntervalMinutes * 60_000,
    destinations: destinationConfigs.map(openDestination),
    onReport: (report, seconds) => metrics.reconciled(report, seconds),
    retentionDays: settings.retentionDays,
  });
  const pruner = new Pruner({ store, logger, owner, retentionDays: settings.retentionDays });
  for (const config of destinationConfigs) {
    logger.log("info", `destination ${config.id}: ${config.type} ${configDisplayUrl(config)}`);
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
    metricsTokenHash: settings.metricsToken ? hashToken(settings.metricsToken) : null,
    maxBodyBytes: settings.maxBodyBytes,
    corsOrigins: settings.corsOrigins,
    syncIntervalMinutes: settings.syncIntervalMinutes,
    now: () => new Date(),
    startedAt: new Date(),
    sync,
    metrics,
    authLimiter: authLimiterFor(store, {
      limit: settings.authFailureLimit,
      windowMs: settings.authFailureWindowMs,
    }),
    trustProxy: settings.trustProxy,
    sessionHours: settings.sessionHours,
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
      await pruner.stop();
      await store.close();
      logger.log("info", "stopped");
    })();
  Deno.addSignalListener("SIGINT", () => void stop("SIGINT"));
  Deno.addSignalListener("SIGTERM", () => void stop("SIGTERM"));
  sync.start();
  pruner.start();
  await server.finished;
  await stopping;
  return 0;
}

if (import.meta.main) Deno.exit(await main());
