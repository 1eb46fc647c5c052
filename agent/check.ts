/**
 * `agent check`: validates the config, reaches the master, confirms the registration and
 * reads every enabled source, reporting each item with ✓ or ✗.
 *
 * @module
 */
import { VERSION } from "../shared/version.ts";
import type { Sleep } from "./backoff.ts";
import { type AgentConfig, ConfigError, loadConfig } from "./config.ts";
import type { AgentFiles } from "./files.ts";
import { defaultFetch, type FetchLike } from "./http.ts";
import { Logger } from "./log.ts";
import { MasterClient } from "./master_client.ts";
import { AgentSession } from "./session.ts";
import { emptyReadingProblem, readSourceSnapshot } from "./snapshot.ts";
import { SOURCE_TYPES, type SourceRegistry } from "./sources/mod.ts";
import { syncWindow } from "./window.ts";
import { formatWarning, summarizeWarnings, type WarningSummary } from "../shared/warnings.ts";
import { type AgentState, readState } from "./state.ts";

/** What a check works with. */
export interface CheckOptions {
  /** The agent's files. */
  files: AgentFiles;
  /** Source types by name; default all supported. */
  registry?: SourceRegistry;
  /** HTTP access; default the runtime's `fetch`. */
  fetch?: FetchLike;
  /** Receives details; default discards them. */
  log?: Logger;
  /** Clock; injectable for tests. */
  now?: () => Date;
  /** Tries to reach the master; default 2, so a check answers quickly. */
  masterAttempts?: number;
  /** Waits between tries; injectable for tests. */
  sleep?: Sleep;
}

/** The outcome of a check. */
export interface CheckReport {
  /** Whether every item passed. */
  ok: boolean;
  /** The readable report, one item per line. */
  text: string;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A summary as report lines: the count per reason, then the samples. */
export function warningLines(summary: WarningSummary): string[] {
  if (summary.count === 0) return [];
  const reasons = Object.entries(summary.by_reason).map(([reason, n]) => `${reason} ${n}`);
  const lines = [`    ${summary.count} warning(s): ${reasons.join(", ")}`];
  for (const warning of summary.samples) lines.push(`      ${formatWarning(warning)}`);
  const more = summary.count - summary.samples.length;
  if (more > 0) lines.push(`      … and ${more} more; agent once logs every one`);
  return lines;
}

/** The state file, when it belongs to this agent; else none (registration reports why). */
async function agentState(path: string, agentId: string): Promise<AgentState | null> {
  try {
    const state = await readState(path);
    return state.agent_id === null || state.agent_id === agentId ? state : null;
  } catch {
    return null;
  }
}

/** Runs every check and builds the report; it never throws for a failed item. */
export async function runCheck(options: CheckOptions): Promise<CheckReport> {
  const registry = options.registry ?? SOURCE_TYPES;
  const fetchFn = options.fetch ?? defaultFetch;
  const log = options.log ?? new Logger();
  const lines = [`calsync agent ${VERSION}: checking ${options.files.config}`];
  let failures = 0;
  const passed = (item: string) => lines.push(`✓ ${item}`);
  const failed = (item: string) => {
    failures++;
    lines.push(`✗ ${item}`);
  };
  const finish = (): CheckReport => {
    lines.push(failures === 0 ? "All checks passed." : `${failures} check(s) failed.`);
    return { ok: failures === 0, text: lines.join("\n") };
  };

  let config: AgentConfig;
  try {
    config = await loadConfig(options.files.config, registry);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    failed("config:");
    for (const problem of error.problems) lines.push(`    ${problem.replaceAll("\n", "\n    ")}`);
    return finish();
  }
  const enabled = config.calendar_sources.filter((s) => s.enabled).length;
  passed(
    `config: agent "${config.agent_id}" (${config.agent_name}), ` +
      `${config.calendar_sources.length} source(s), ${enabled} enabled`,
  );

  const client = new MasterClient({
    centralApiUrl: config.central_api_url,
    fetch: fetchFn,
    attempts: options.masterAttempts ?? 2,
    sleep: options.sleep,
    log,
  });
  // Read before registering, which may forget what the master no longer holds: the
  // check warns of an emptied source even then.
  const state = await agentState(options.files.state, config.agent_id);
  let reachable = false;
  try {
    const health = await client.health();
    reachable = true;
    const store = `store ${health.store.backend}`;
    if (health.status === "ok" && health.store.ok) {
      passed(`master ${client.baseUrl}: reachable, version ${health.version}, ${store} ok`);
    } else {
      failed(
        `master ${client.baseUrl}: reachable but unhealthy: status ${health.status}, ${store} ` +
          (health.store.error ?? (health.store.ok ? "ok" : "not ok")),
      );
    }
  } catch (error) {
    failed(`master ${client.baseUrl}: ${messageOf(error)}`);
  }

  if (reachable) {
    try {
      const session = await AgentSession.open({
        config,
        client,
        statePath: options.files.state,
        log,
      });
      const usedToken = await session.register();
      passed(`registration: agent "${config.agent_id}" accepted with its ${usedToken}`);
    } catch (error) {
      failed(`registration: ${messageOf(error)}`);
    }
  } else {
    lines.push("- registration: not checked, the master is unreachable");
  }

  const now = options.now?.() ?? new Date();
  const window = syncWindow(now, config.sync_window);
  for (const source of config.calendar_sources) {
    const where = registry.get(source.type)?.describe(source.settings) ?? source.type;
    const label = `source "${source.id}" (${source.type}, ${where})`;
    if (!source.enabled) {
      lines.push(`- ${label}: disabled`);
      continue;
    }
    try {
      const reading = await readSourceSnapshot(source, {
        registry,
        window,
        configDir: options.files.dir,
        fetch: fetchFn,
        now,
      });
      const { snapshot, warnings } = reading;
      const summary = summarizeWarnings(warnings);
      const noted = warnings.length === 0 ? "" : `, ${warnings.length} warning(s)`;
      const read = `${label}: ${snapshot.events.length} occurrence(s) from ` +
        `${window.start.slice(0, 10)} to ${window.end.slice(0, 10)}${noted}`;
      // The same rule as a sync pass, so a source check passes is one a pass uploads.
      const problem = emptyReadingProblem(reading, {
        acceptedEvents: state?.sources[source.id]?.event_count ?? null,
        allowEmpty: false,
      });
      if (problem === null) passed(read);
      else failed(`${read}: ${problem}`);
      lines.push(...warningLines(summary));
    } catch (error) {
      failed(`${label}: ${messageOf(error)}`);
    }
  }
  return finish();
}
