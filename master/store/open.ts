/**
 * Opens the store the settings choose: Redis when `REDIS_URL` or `REDIS_HOST` is set
 * (several masters can then share it), else SQLite under `DATA_DIR`.
 *
 * @module
 */
import type { Logger } from "../log.ts";
import type { Settings } from "../settings.ts";
import { RedisStore } from "./redis.ts";
import { SqliteStore } from "./sqlite.ts";
import type { Store } from "./types.ts";

/** Where the store is, for the start-up log line; never a password. */
export function describeStore(settings: Settings): string {
  const r = settings.redis;
  if (!r) return `sqlite in ${settings.dataDir}`;
  if (r.url) {
    const u = new URL(r.url);
    u.password = "";
    u.username = "";
    return `redis at ${u.href}`;
  }
  return `redis at ${r.host}:${r.port}/${r.db}`;
}

/**
 * Opens the store. A Redis that cannot be reached yet is tried again every few seconds:
 * a master started before its Redis (as in docker-compose) waits for it.
 */
export async function openStore(
  settings: Settings,
  logger: Logger,
  retryMs = 3000,
): Promise<Store> {
  const r = settings.redis;
  if (!r) return await SqliteStore.open(settings.dataDir);
  // A URL carries host, port, password, database and TLS itself; it wins over the rest.
  const options = r.url ? { url: r.url, keyPrefix: r.keyPrefix } : { ...r, url: undefined };
  for (;;) {
    try {
      return await RedisStore.open(options);
    } catch (err) {
      logger.log(
        "warn",
        `${describeStore(settings)}: ${(err as Error).message}; trying again in ${
          retryMs / 1000
        } s`,
      );
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  }
}
