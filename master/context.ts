/**
 * What every route needs, passed once to `createApp`: the store, the token hashes and
 * the limits. Tests build it with an in-memory store and a fixed clock.
 *
 * @module
 */
import type { AuthLimiter } from "./http/auth_limiter.ts";
import type { Logger } from "./log.ts";
import type { Metrics } from "./metrics/master_metrics.ts";
import type { Store } from "./store/types.ts";
import type { SyncEngine } from "./sync/engine.ts";

/** Dependencies of the master's HTTP app. */
export type AppContext = {
  store: Store;
  logger: Logger;
  /** SHA-256 of the admin token. */
  adminTokenHash: string;
  /** SHA-256 of the agent enrollment token. */
  enrollmentTokenHash: string;
  /** SHA-256 of `METRICS_TOKEN`, which may read `/metrics`; null when it is not set. */
  metricsTokenHash: string | null;
  /** Largest accepted request body, in bytes (after gzip decoding). */
  maxBodyBytes: number;
  /** Origins allowed to call the read APIs from a browser. */
  corsOrigins: string[];
  /** The master's sync interval, the default for agents that never said theirs. */
  syncIntervalMinutes: number;
  /** The current time; tests pin it. */
  now: () => Date;
  /** When the master started, for `uptime_s`. */
  startedAt: Date;
  /** Keeps the destinations reconciled; told when snapshots change something. */
  sync: SyncEngine;
  /** This process's metrics, which routes record into and `/metrics` serves. */
  metrics: Metrics;
  /** Counts failed authentications per client address (through Redis when it is the store). */
  authLimiter: AuthLimiter;
  /** Believe the reverse proxy's X-Forwarded-For and X-Forwarded-Proto. */
  trustProxy: boolean;
  /** How long a management-page sign-in lasts. */
  sessionHours: number;
};
