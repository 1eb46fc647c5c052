/**
 * One sync pass: register if needed, read every enabled source, upload the snapshots
 * that changed, then send the heartbeat with each source's last error.
 *
 * @module
 */
import type { TimeWindow } from "../shared/model.ts";
import type { Heartbeat, SnapshotResult } from "../shared/protocol.ts";
import { VERSION } from "../shared/version.ts";
import { formatWarning } from "../shared/warnings.ts";
import type { AgentConfig, ConfiguredSource } from "./config.ts";
import type { FetchLike } from "./http.ts";
import type { Logger } from "./log.ts";
import { MasterError, MasterUnreachableError } from "./master_client.ts";
import type { AgentSession } from "./session.ts";
import { RegistrationError } from "./session.ts";
import { emptyReadingProblem, readSourceSnapshot, snapshotHash } from "./snapshot.ts";
import type { SourceRegistry } from "./sources/mod.ts";
import { syncWindow } from "./window.ts";

/** What happened to one source in a pass. */
export interface SourceOutcome {
  /** The source's id. */
  source_id: string;
  /** `uploaded` and `unchanged` are successes; `skipped` means the master was lost first. */
  status: "uploaded" | "unchanged" | "failed" | "skipped";
  /** Occurrences read, when reading succeeded. */
  events: number | null;
  /** The master's counts, when uploaded. */
  result: SnapshotResult | null;
  /** Why it failed. */
  error: string | null;
}

/** The outcome of a pass. */
export interface PassReport {
  /** The window the sources were read in. */
  window: TimeWindow;
  /** One entry per enabled source, in config order. */
  sources: SourceOutcome[];
  /**
   * Why the master could not be used (unreachable, registration refused, heartbeat
   * rejected), when it could not; sources not reached by then are skipped.
   */
  masterError: string | null;
  /** Whether that was because it could not be reached (worth retrying soon). */
  masterUnreachable: boolean;
}

/** What a pass works with. */
export interface SyncPassOptions {
  /** The agent's config. */
  config: AgentConfig;
  /** The agent's standing with the master. */
  session: AgentSession;
  /** Source types by name. */
  registry: SourceRegistry;
  /** Folder of the config file. */
  configDir: string;
  /** HTTP access for sources. */
  fetch: FetchLike;
  /** Receives progress and problems. */
  log: Logger;
  /** Clock; injectable for tests. */
  now?: () => Date;
  /**
   * Upload a source that reads empty although its last accepted snapshot held many
   * events (`agent once --allow-empty`); default false, such a source fails.
   */
  allowEmpty?: boolean;
}

/** The longest `last_error` the heartbeat schema accepts. */
const MAX_ERROR_LENGTH = 4096;

/** Whether every source succeeded and the master was reached. */
export function passSucceeded(report: PassReport): boolean {
  return report.masterError === null &&
    report.sources.every((s) => s.status === "uploaded" || s.status === "unchanged");
}

/**
 * Runs one pass. A failing source never stops the others; losing the master stops the
 * pass, since nothing more could be delivered.
 */
export async function runSyncPass(options: SyncPassOptions): Promise<PassReport> {
  const { config, session, log } = options;
  const now = options.now?.() ?? new Date();
  const window = syncWindow(now, config.sync_window);
  const enabled = config.calendar_sources.filter((s) => s.enabled);
  const report: PassReport = {
    window,
    sources: enabled.map((s) => ({
      source_id: s.id,
      status: "skipped",
      events: null,
      result: null,
      error: null,
    })),
    masterError: null,
    masterUnreachable: false,
  };
  log.debug(`pass over ${enabled.length} source(s) in ${window.start} – ${window.end}`);

  try {
    // Every pass starts by registering: one small request that also tells whether the
    // master still holds our token and our snapshots, before any upload is skipped.
    await session.register();
    for (const [i, source] of enabled.entries()) {
      await syncSource(source, report.sources[i], options, window, now);
    }
    await session.sendHeartbeat(heartbeat(config, report.sources));
  } catch (error) {
    const isMasterProblem = error instanceof MasterUnreachableError ||
      error instanceof RegistrationError || error instanceof MasterError;
    if (!isMasterProblem) throw error;
    report.masterError = error.message;
    report.masterUnreachable = error instanceof MasterUnreachableError;
    log.error(error.message);
  }
  return report;
}

async function syncSource(
  source: ConfiguredSource,
  outcome: SourceOutcome,
  options: SyncPassOptions,
  window: TimeWindow,
  now: Date,
): Promise<void> {
  const { session, log } = options;
  const label = `source "${source.id}"`;
  try {
    const reading = await readSourceSnapshot(source, {
      registry: options.registry,
      window,
      configDir: options.configDir,
      fetch: options.fetch,
      now,
    });
    const { snapshot, warnings } = reading;
    for (const warning of warnings) log.warn(`${label}: ${formatWarning(warning)}`);
    outcome.events = snapshot.events.length;
    const problem = emptyReadingProblem(reading, {
      acceptedEvents: session.acceptedEventCount(source.id),
      allowEmpty: options.allowEmpty ?? false,
    });
    if (problem !== null) throw new Error(problem);
    const hash = snapshotHash(snapshot);
    if (session.acceptedHash(source.id) === hash) {
      outcome.status = "unchanged";
      log.debug(`${label}: ${outcome.events} occurrences, unchanged since the last upload`);
      return;
    }
    const result = await session.uploadSnapshot(source.id, snapshot, hash);
    outcome.status = "uploaded";
    outcome.result = result;
    log.info(
      `${label}: uploaded ${outcome.events} occurrences (added ${result.added}, updated ` +
        `${result.updated}, removed ${result.removed}, unchanged ${result.unchanged})`,
    );
  } catch (error) {
    if (error instanceof MasterUnreachableError || error instanceof RegistrationError) {
      throw error;
    }
    outcome.status = "failed";
    outcome.error = error instanceof Error ? error.message : String(error);
    log.error(`${label}: ${outcome.error}`);
  }
}

function heartbeat(config: AgentConfig, outcomes: SourceOutcome[]): Heartbeat {
  return {
    version: VERSION,
    sync_interval_minutes: config.sync_interval_minutes,
    sources: outcomes.map((o) => ({
      source_id: o.source_id,
      last_error: o.error === null ? null : o.error.slice(0, MAX_ERROR_LENGTH),
    })),
  };
}
