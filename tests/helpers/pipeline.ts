/**
 * Building blocks of end-to-end tests: ICS files relative to today, agent configs, the
 * agent run as a process, and the master's admin API.
 *
 * @module
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { SyncStatus } from "../../shared/protocol.ts";
import type { MasterProcess } from "./master_process.ts";

const AGENT = fileURLToPath(new URL("../../agent/main.ts", import.meta.url));
const DAY = 86_400_000;

/** `YYYYMMDD` of today plus `days`, in UTC. */
export function day(days: number): string {
  return new Date(Date.now() + days * DAY).toISOString().slice(0, 10).replaceAll("-", "");
}

/** A VEVENT with a DTSTAMP and the given lines. */
export function vevent(lines: string[]): string[] {
  return ["BEGIN:VEVENT", "DTSTAMP:20260101T000000Z", ...lines, "END:VEVENT"];
}

/** A one-hour UTC event `days` from today at `hour`. */
export function timedEvent(uid: string, days: number, hour: number, extra: string[]): string[] {
  const h = String(hour).padStart(2, "0");
  return vevent([
    `UID:${uid}`,
    `DTSTART:${day(days)}T${h}0000Z`,
    `DTEND:${day(days)}T${h}5900Z`,
    ...extra,
  ]);
}

/**
 * A VCALENDAR of `count` one-hour events `bulk-<i>@<domain>`, spread over the next 60 days
 * and the hours 06 to 17: a backlog large enough for a reconcile to be caught mid-way.
 */
export function bulkCalendar(count: number, domain = "e2e"): string {
  return calendar(
    Array.from(
      { length: count },
      (_, i) =>
        timedEvent(`bulk-${i}@${domain}`, 1 + (i % 60), 6 + (i % 12), [`SUMMARY:Bulk ${i}`]),
    ),
  );
}

/** What several masters sharing one Redis need to reconcile one CalDAV calendar. */
export interface SharedMastersSetup {
  /** The Redis they share. */
  redisUrl: string;
  /** The calendar's address as the masters reach it (through a recording proxy, say). */
  caldavUrl: string;
  /** Its login. */
  username: string;
  /** Its password. */
  password: string;
}

/**
 * The environment of masters sharing one Redis and one destination: the same admin and
 * enrolment tokens everywhere, an hour between scheduled runs so that only snapshots,
 * leases and announcements start a reconcile, and `extra` (a lease length, say).
 */
export function sharedMastersEnv(
  setup: SharedMastersSetup,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    REDIS_URL: setup.redisUrl,
    ADMIN_TOKEN: "shared-admin-token-0123456789",
    AGENT_ENROLLMENT_TOKEN: "shared-enrollment-token-012345",
    CALDAV_URL: setup.caldavUrl,
    CALDAV_USERNAME: setup.username,
    CALDAV_PASSWORD: setup.password,
    SYNC_INTERVAL_MINUTES: "60",
    ...extra,
  };
}

/** A VCALENDAR of `events`. */
export function calendar(events: string[][]): string {
  return [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//calsync//e2e//EN",
    ...events.flat(),
    "END:VCALENDAR",
    "",
  ].join("\r\n");
}

/** Writes an agent config for `master` with `sources` and returns its path. */
export async function writeAgentConfig(
  path: string,
  master: MasterProcess,
  agent: { id: string; name?: string; past_days?: number },
  sources: unknown[],
): Promise<string> {
  await Deno.writeTextFile(
    path,
    JSON.stringify({
      agent_id: agent.id,
      agent_name: agent.name ?? agent.id,
      environment: "e2e",
      central_api_url: `${master.url}/api`,
      sync_interval_minutes: 5,
      enrollment_token: master.enrollmentToken,
      sync_window: { past_days: agent.past_days ?? 30, future_days: 90 },
      calendar_sources: sources,
    }),
  );
  return path;
}

/** Runs `agent once` as a process, with `env` added to its environment. */
export async function runAgent(
  config: string,
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", AGENT, "once", "--config", config],
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/** Runs `agent once` and fails the test unless it succeeded. */
export async function runAgentOk(config: string): Promise<string> {
  const run = await runAgent(config);
  assert.equal(run.code, 0, `agent failed:\n${run.stdout}\n${run.stderr}`);
  return run.stdout + run.stderr;
}

/** Calls the master's API with the admin token. */
export async function adminCall(
  master: MasterProcess,
  method: string,
  path: string,
  body?: unknown,
): Promise<Response> {
  return await fetch(`${master.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${master.adminToken}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** `GET /api/sync/status`, validated. */
export async function syncStatus(master: MasterProcess) {
  const res = await adminCall(master, "GET", "/api/sync/status");
  assert.equal(res.status, 200);
  return SyncStatus.parse(await res.json());
}

/** `POST /api/admin/reconcile`: reconciles every destination now and returns the reports. */
export async function reconcileNow(master: MasterProcess) {
  const res = await adminCall(master, "POST", "/api/admin/reconcile");
  assert.equal(res.status, 200);
  return (await res.json()).reports as {
    destination_id: string;
    created: number;
    updated: number;
    deleted: number;
    failed: number;
    skipped: boolean;
    errors: string[];
  }[];
}
