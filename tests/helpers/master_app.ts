/**
 * A master app over an in-memory SQLite store with known tokens and a settable clock,
 * for API tests through `app.request()`.
 *
 * @module
 */
import { createApp } from "../../master/app.ts";
import { memoryLogger } from "../../master/log.ts";
import { hashToken } from "../../master/secrets.ts";
import { SqliteStore } from "../../master/store/sqlite.ts";
import type { Store } from "../../master/store/types.ts";
import type { ConfiguredDestination } from "../../master/destinations/mod.ts";
import { SyncEngine } from "../../master/sync/engine.ts";
import { Metrics } from "../../master/metrics/master_metrics.ts";
import { authLimiterFor } from "../../master/http/auth_limiter.ts";

/** The admin token of test apps. */
export const ADMIN_TOKEN = "admin-token-for-tests-0123456789";
/** The enrollment token of test apps. */
export const ENROLLMENT_TOKEN = "enrollment-token-for-tests-012345";

/** A test master: its app, store, log lines and clock. */
export type TestMaster = {
  app: ReturnType<typeof createApp>;
  store: Store;
  log: string[];
  clock: { now: Date };
  sync: SyncEngine;
  /** What the app and the engine record, as `/metrics` serves it. */
  metrics: Metrics;
  /** Sends a request with an optional bearer token and JSON body. */
  call(method: string, path: string, opts?: { token?: string; body?: unknown }): Promise<Response>;
  [Symbol.asyncDispose](): Promise<void>;
};

/** Starts a test master; dispose it with `await using`. */
export async function testMaster(
  options: {
    maxBodyBytes?: number;
    store?: Store;
    destinations?: ConfiguredDestination[];
    debounceMs?: number;
    /** `METRICS_TOKEN`; unset by default, so only the admin token reads `/metrics`. */
    metricsToken?: string;
    /** `AUTH_FAILURE_LIMIT`; 0 (off) by default, so tests of wrong tokens do not trip it. */
    authFailureLimit?: number;
    trustProxy?: boolean;
  } = {},
): Promise<TestMaster> {
  const store = options.store ?? await SqliteStore.open(":memory:");
  const logger = memoryLogger();
  const clock = { now: new Date("2026-03-01T12:00:00Z") };
  const metrics = new Metrics();
  const sync = new SyncEngine({
    store,
    destinations: options.destinations ?? [],
    logger,
    intervalMs: 5 * 60_000,
    debounceMs: options.debounceMs ?? 10,
    now: () => clock.now,
    onReport: (report, seconds) => metrics.reconciled(report, seconds),
  });
  const app = createApp({
    store,
    logger,
    adminTokenHash: hashToken(ADMIN_TOKEN),
    enrollmentTokenHash: hashToken(ENROLLMENT_TOKEN),
    metricsTokenHash: options.metricsToken ? hashToken(options.metricsToken) : null,
    maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
    corsOrigins: ["https://app.example.com"],
    syncIntervalMinutes: 5,
    now: () => clock.now,
    startedAt: new Date("2026-03-01T11:00:00Z"),
    sync,
    metrics,
    // Over a Redis store the count is shared, as between masters; Redis keeps its time.
    authLimiter: authLimiterFor(
      store,
      { limit: options.authFailureLimit ?? 0, windowMs: 15 * 60_000 },
      () => clock.now.getTime(),
    ),
    trustProxy: options.trustProxy ?? false,
    sessionHours: 12,
  });
  return {
    app,
    store,
    log: logger.lines,
    clock,
    sync,
    metrics,
    call(method, path, opts = {}) {
      const headers: Record<string, string> = {};
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      let body: string | undefined;
      if (opts.body !== undefined) {
        body = typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
        headers["content-type"] = "application/json";
      }
      return Promise.resolve(app.request(path, { method, headers, body }));
    },
    [Symbol.asyncDispose]: async () => {
      await sync.stop();
      await store.close();
    },
  };
}

/** Enrols an agent with one or more sources and returns its token. */
export async function enrol(
  master: TestMaster,
  agentId: string,
  sourceIds: string[] = ["main"],
): Promise<string> {
  const res = await master.call("POST", "/api/agents/register", {
    token: ENROLLMENT_TOKEN,
    body: {
      agent_id: agentId,
      agent_name: `Agent ${agentId}`,
      environment: "test",
      version: "1.0.0",
      sources: sourceIds.map((id) => ({ source_id: id, name: `Source ${id}`, type: "ics" })),
    },
  });
  if (res.status !== 200) throw new Error(`enrol failed: ${res.status} ${await res.text()}`);
  return (await res.json()).token;
}

/** A timed occurrence input starting at `start` for `minutes`. */
export function timed(
  uid: string,
  start: string,
  minutes = 60,
  extra: Record<string, unknown> = {},
) {
  const end = new Date(Date.parse(start) + minutes * 60_000).toISOString();
  return { uid, start, end, title: `Event ${uid}`, ...extra };
}
