/**
 * The master's settings, read from environment variables (and an optional `.env`).
 * Every variable is validated; a bad value stops start-up with a message naming it.
 *
 * @module
 */
import { z } from "zod";
import { DEFAULT_RETENTION_DAYS } from "./sync/retention.ts";

const bool = (name: string) =>
  z
    .string()
    .default("false")
    .transform((v, ctx) => {
      const s = v.trim().toLowerCase();
      if (["1", "true", "yes", "on"].includes(s)) return true;
      if (["", "0", "false", "no", "off"].includes(s)) return false;
      ctx.addIssue({ code: "custom", message: `${name} must be true or false, got "${v}"` });
      return z.NEVER;
    });

const number = (name: string, fallback: number, min: number, max: number, integer = true) =>
  z
    .string()
    .default(String(fallback))
    .transform((v, ctx) => {
      const n = Number(v.trim());
      if (v.trim() === "" || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
        ctx.addIssue({
          code: "custom",
          message: `${name} must be ${integer ? "a whole number" : "a number"}, got "${v}"`,
        });
        return z.NEVER;
      }
      if (n < min || n > max) {
        ctx.addIssue({
          code: "custom",
          message: `${name} must be between ${min} and ${max}, got ${n}`,
        });
        return z.NEVER;
      }
      return n;
    });

const token = (name: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return undefined;
      if (v.trim().length < 16) {
        ctx.addIssue({
          code: "custom",
          message:
            `${name} must be at least 16 characters; generate one with: openssl rand -hex 32`,
        });
        return z.NEVER;
      }
      return v.trim();
    });

const SettingsSchema = z.object({
  API_PORT: number("API_PORT", 8008, 0, 65535),
  API_HOST: z.string().default("0.0.0.0"),
  DATA_DIR: z.string().min(1).default("./data"),
  DEBUG: bool("DEBUG"),
  CORS_ORIGINS: z
    .string()
    .default("")
    .transform((v) => v.split(",").map((s) => s.trim()).filter((s) => s !== "")),
  SYNC_INTERVAL_MINUTES: number("SYNC_INTERVAL_MINUTES", 5, 0.05, 1440, false),
  ADMIN_TOKEN: token("ADMIN_TOKEN"),
  AGENT_ENROLLMENT_TOKEN: token("AGENT_ENROLLMENT_TOKEN"),
  METRICS_TOKEN: token("METRICS_TOKEN"),
  MAX_BODY_MB: number("MAX_BODY_MB", 50, 0.001, 1024, false),
  MASTER_ID: z.string().optional().transform((v) => v?.trim() || undefined),
  DESTINATION_LEASE_SECONDS: number("DESTINATION_LEASE_SECONDS", 30, 1, 3600),
  SESSION_HOURS: number("SESSION_HOURS", 12, 0.1, 24 * 30, false),
  AUTH_FAILURE_LIMIT: number("AUTH_FAILURE_LIMIT", 10, 0, 100_000),
  AUTH_FAILURE_WINDOW_MINUTES: number("AUTH_FAILURE_WINDOW_MINUTES", 15, 0.1, 1440, false),
  TRUST_PROXY: bool("TRUST_PROXY"),
  RETENTION_DAYS: number("RETENTION_DAYS", DEFAULT_RETENTION_DAYS, 1, 36_500),
  REDIS_URL: z.string().optional().transform((v, ctx) => {
    const url = v?.trim();
    if (!url) return undefined;
    if (!/^rediss?:\/\//.test(url)) {
      ctx.addIssue({
        code: "custom",
        message: `REDIS_URL must start with redis:// or rediss://, got "${url}"`,
      });
      return z.NEVER;
    }
    return url;
  }),
  REDIS_HOST: z.string().optional().transform((v) => v?.trim() || undefined),
  REDIS_PORT: number("REDIS_PORT", 6379, 1, 65535),
  REDIS_PASSWORD: z.string().optional().transform((v) => v || undefined),
  REDIS_DB: number("REDIS_DB", 0, 0, 15),
  REDIS_TLS: bool("REDIS_TLS"),
  REDIS_KEY_PREFIX: z.string().min(1).default("calsync:"),
});

/** Where a Redis store lives, when one is configured. */
export type RedisSettings = {
  url?: string;
  host?: string;
  port: number;
  password?: string;
  db: number;
  tls: boolean;
  keyPrefix: string;
};

/** Validated master settings. */
export type Settings = {
  port: number;
  hostname: string;
  dataDir: string;
  debug: boolean;
  corsOrigins: string[];
  syncIntervalMinutes: number;
  adminToken: string | undefined;
  enrollmentToken: string | undefined;
  /** May read `/metrics` too, so that Prometheus need not hold the admin token. */
  metricsToken: string | undefined;
  maxBodyBytes: number;
  /** Who this master is among several; generated into DATA_DIR when unset. */
  masterId: string | undefined;
  /** How long a destination lease lasts without renewal: the failover time. */
  leaseMs: number;
  /** How long a management-page sign-in lasts. */
  sessionHours: number;
  /** Failed authentications allowed per address and window before 429s; 0: no limit. */
  authFailureLimit: number;
  authFailureWindowMs: number;
  /** The master sits behind a reverse proxy whose X-Forwarded-* headers can be believed. */
  trustProxy: boolean;
  /** Occurrences that ended more days ago leave the store (not the destinations). */
  retentionDays: number;
  /** The Redis store, when `REDIS_URL` or `REDIS_HOST` is set; else SQLite. */
  redis: RedisSettings | null;
};

/** Raised when a variable holds a value the master cannot use. */
export class SettingsError extends Error {
  /** Creates the error; `message` names every bad variable. */
  constructor(message: string) {
    super(message);
    this.name = "SettingsError";
  }
}

/** Validates an environment (variables as strings) into settings. */
export function parseSettings(env: Record<string, string | undefined>): Settings {
  const result = SettingsSchema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? "");
      return issue.message.startsWith(name) ? issue.message : `${name}: ${issue.message}`;
    });
    throw new SettingsError(`invalid configuration:\n  ${lines.join("\n  ")}`);
  }
  const s = result.data;
  return {
    port: s.API_PORT,
    hostname: s.API_HOST,
    dataDir: s.DATA_DIR,
    debug: s.DEBUG,
    corsOrigins: s.CORS_ORIGINS,
    syncIntervalMinutes: s.SYNC_INTERVAL_MINUTES,
    adminToken: s.ADMIN_TOKEN,
    enrollmentToken: s.AGENT_ENROLLMENT_TOKEN,
    metricsToken: s.METRICS_TOKEN,
    maxBodyBytes: Math.round(s.MAX_BODY_MB * 1024 * 1024),
    masterId: s.MASTER_ID,
    leaseMs: s.DESTINATION_LEASE_SECONDS * 1000,
    sessionHours: s.SESSION_HOURS,
    authFailureLimit: s.AUTH_FAILURE_LIMIT,
    authFailureWindowMs: s.AUTH_FAILURE_WINDOW_MINUTES * 60_000,
    trustProxy: s.TRUST_PROXY,
    retentionDays: s.RETENTION_DAYS,
    redis: s.REDIS_URL || s.REDIS_HOST
      ? {
        url: s.REDIS_URL,
        host: s.REDIS_HOST,
        port: s.REDIS_PORT,
        password: s.REDIS_PASSWORD,
        db: s.REDIS_DB,
        tls: s.REDIS_TLS,
        keyPrefix: s.REDIS_KEY_PREFIX,
      }
      : null,
  };
}
