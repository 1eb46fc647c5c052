/**
 * The sync engine: keeps every destination reconciled. It runs shortly after a snapshot
 * changed something (debounced, so a burst of agents costs one run), every sync interval
 * to repair drift, and sooner again after a failure, with growing delays. Runs never
 * overlap; a request during a run queues exactly one more.
 *
 * A destination that refused the credentials is left alone (see `refusals.ts`): no
 * snapshot, timer or retry contacts it until its settings change, an admin retries, or
 * the wait is over, when the engine wakes by itself.
 *
 * @module
 */
import type { Logger } from "../log.ts";
import type { ConfiguredDestination } from "../destinations/mod.ts";
import { DestinationError, type DestinationItem } from "../destinations/types.ts";
import {
  type AuthRefusal,
  type DestinationState,
  EMPTY_DESTINATION_STATE,
  type Store,
} from "../store/types.ts";
import type { SourceSettings } from "../../shared/protocol.ts";
import { ACTIVITY_RETENTION, type ActivityTrigger } from "../store/activity.ts";
import { activityEntry, type FinishedReconcile } from "./activity.ts";
import { desiredItems, type SourceFilter } from "./desired.ts";
import { planReconcile } from "./plan.ts";
import { emptyReport, isRefusal, reconcileDestination, type ReconcileReport } from "./reconcile.ts";
import { blockedUntil, refusedAgain, retryAllowed } from "./refusals.ts";
import { DEFAULT_RETENTION_DAYS, keepHorizon } from "./retention.ts";

/** How the engine runs. */
export type SyncEngineOptions = {
  store: Store;
  destinations: ConfiguredDestination[];
  logger: Logger;
  /** The drift-repair interval. */
  intervalMs: number;
  /** Wait after a change before reconciling. */
  debounceMs?: number;
  /** First retry delay after a failure; doubles up to `maxRetryMs`. */
  retryMs?: number;
  /**
   * The longest wait between retries after a failure (capped by `intervalMs`), so a
   * destination that comes back is written again within about this long.
   */
  maxRetryMs?: number;
  /** Who this master is, for destination leases; a random id by default. */
  owner?: string;
  /** How long a destination lease lasts without renewal: the failover time. */
  leaseMs?: number;
  now?: () => Date;
  /**
   * Told of every destination this master reconciled or failed to (not those another
   * master holds), with how long it took: the metrics' hook.
   */
  onReport?: (report: ReconcileReport, seconds: number) => void;
  /**
   * `RETENTION_DAYS`: copies of occurrences that ended longer ago are kept though the
   * store no longer holds them (they were pruned).
   */
  retentionDays?: number;
};

/** Schedules and runs reconciles of all destinations. */
export class SyncEngine {
  readonly #o: Required<SyncEngineOptions>;
  #current: Promise<ReconcileReport[]> | null = null;
  #queued: Promise<ReconcileReport[]> | null = null;
  #debounce: ReturnType<typeof setTimeout> | undefined;
  #interval: ReturnType<typeof setInterval> | undefined;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #wake: ReturnType<typeof setTimeout> | undefined;
  #leaseRetry: ReturnType<typeof setTimeout> | undefined;
  #unwatch: () => void = () => {};
  #retryDelay: number;
  #stopped = false;
  /** Destinations whose resolved calendar this process has logged. */
  readonly #announced = new Set<string>();

  /** Creates the engine; nothing runs until `start()` or a trigger. */
  constructor(options: SyncEngineOptions) {
    this.#o = {
      debounceMs: 2000,
      retryMs: 5000,
      maxRetryMs: 60_000,
      now: () => new Date(),
      owner: crypto.randomUUID(),
      leaseMs: 30_000,
      onReport: () => {},
      retentionDays: DEFAULT_RETENTION_DAYS,
      ...options,
    };
    this.#retryDelay = this.#o.retryMs;
  }

  /** The configured destinations. */
  get destinations(): readonly ConfiguredDestination[] {
    return this.#o.destinations;
  }

  /**
   * Starts the drift-repair timer, listens for changes other masters announce, and runs
   * once now.
   */
  start(): void {
    if (this.#o.destinations.length === 0) return;
    this.#unwatch = this.#o.store.watchChanges((origin) => {
      if (origin !== this.#o.owner) this.#debounced("snapshot");
    });
    this.#interval = setInterval(() => this.#runInBackground("timer"), this.#o.intervalMs);
    this.#runInBackground("startup");
  }

  /**
   * Says that stored occurrences or source settings changed: reconcile soon. `trigger`
   * says why, for the activity log: a snapshot, or an admin's removal.
   */
  notifyChanged(trigger: "snapshot" | "removal" = "snapshot"): void {
    if (this.#stopped || this.#o.destinations.length === 0) return;
    // Another master may hold a destination's lease; it reconciles on the announcement.
    this.#o.store.announceChange(this.#o.owner).catch((err) =>
      this.#o.logger.log(
        "warn",
        `announcing a change to the other masters failed: ${
          err instanceof Error ? err.message : err
        }`,
      )
    );
    this.#debounced(trigger);
  }

  /** Reconciles after the debounce wait, restarted by every change (the last one names it). */
  #debounced(trigger: ActivityTrigger): void {
    if (this.#stopped) return;
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => this.#runInBackground(trigger), this.#o.debounceMs);
  }

  /** What the destinations should hold, for the sources `include` lets in. */
  async desired(include?: SourceFilter): Promise<Map<string, DestinationItem>> {
    return (await this.#consolidator())(include);
  }

  /** Reads every stored occurrence and source setting once, to consolidate per filter. */
  async #consolidator(): Promise<(include?: SourceFilter) => Map<string, DestinationItem>> {
    const [events, agents] = await Promise.all([
      this.#o.store.listEvents({ start: "0000-01-01T00:00:00Z", end: "9999-12-31T00:00:00Z" }),
      this.#o.store.listAgents(),
    ]);
    const settings = new Map<string, SourceSettings>();
    for (const a of agents) {
      for (const s of a.sources) settings.set(`${a.agent_id}/${s.source_id}`, s.settings);
    }
    return (include) =>
      desiredItems(events, (agent, source) => settings.get(`${agent}/${source}`), include);
  }

  /**
   * Reconciles every destination now, after a run in progress if there is one. The
   * reports say what each did; a destination that could not be reached has a report
   * with `failed` set and its error. `deleteStrays` is an admin's clean-up of owned items
   * no source holds any more (see `ReconcilePlan.strays`). `trigger` is what the activity
   * log says started it: an admin's, unless the engine names its own reason; a run that
   * joins one queued already is logged under that one's.
   */
  run(
    forceList = false,
    deleteStrays = false,
    trigger: ActivityTrigger = "admin",
  ): Promise<ReconcileReport[]> {
    // A clean-up must not be folded into a queued ordinary run, which would skip it.
    if (this.#queued && !deleteStrays) return this.#queued;
    if (this.#current) {
      const after = this.#current.then(() => {
        if (this.#queued === after) this.#queued = null;
        return this.run(forceList, deleteStrays, trigger);
      });
      if (!deleteStrays) this.#queued = after;
      return after;
    }
    this.#current = this.#runAll(forceList, deleteStrays, trigger)
      .finally(() => (this.#current = null));
    return this.#current;
  }

  /**
   * Lifts the wait after a refusal of `id`'s credentials (an admin fixed the password on
   * the server, say) and reconciles. Answers null when the destination is unknown, and
   * the instant before which no login may be tried when three were refused in the last
   * 15 minutes already (then nothing is contacted).
   */
  async retryRefused(
    id: string,
  ): Promise<{ reports: ReconcileReport[] } | { until: string } | null> {
    const configured = this.#o.destinations.find((d) => d.id === id);
    if (!configured) return null;
    const { store } = this.#o;
    const state = await store.destinationState(id);
    const refusal = state?.auth_refusal ?? null;
    if (refusal !== null) {
      const lifted = retryAllowed(refusal, this.#o.now());
      const until = blockedUntil(lifted, await configured.settingsDigest(), this.#o.now());
      if (until !== null) return { until };
      await store.saveDestinationState(id, { ...state!, auth_refusal: lifted });
    }
    return { reports: await this.run() };
  }

  async #runAll(
    forceList: boolean,
    deleteStrays: boolean,
    trigger: ActivityTrigger,
  ): Promise<ReconcileReport[]> {
    clearTimeout(this.#debounce);
    clearTimeout(this.#wake);
    clearTimeout(this.#leaseRetry);
    const reports: ReconcileReport[] = [];
    /** When each lease another master holds can expire, from now in ms. */
    const heldElsewhere: number[] = [];
    const consolidate = await this.#consolidator();
    for (const configured of this.#o.destinations) {
      if (this.#stopped) break;
      const desired = consolidate(configured.include);
      const lease = `destination:${configured.id}`;
      const { store, owner, leaseMs } = this.#o;
      let token: number | null = null;
      let report: ReconcileReport | undefined;
      const started = performance.now();
      const startedAt = this.#o.now();
      /** What the activity log records of this destination; null while it is not ours. */
      let finished: FinishedReconcile | null = null;
      const progress = emptyReport(configured.id);
      try {
        token = await store.acquireLease(lease, owner, leaseMs);
        if (token === null) {
          reports.push({ ...emptyReport(configured.id), skipped: true });
          heldElsewhere.push(await store.leaseRemainingMs(lease) ?? 0);
          continue;
        }
        finished = {
          destination_id: configured.id,
          master_id: owner,
          started: startedAt,
          took_ms: 0,
          trigger,
          pending: 0,
          failure: null,
        };
        const state = await store.destinationState(configured.id);
        const refusal = state?.auth_refusal ?? null;
        const until = blockedUntil(refusal, await configured.settingsDigest(), this.#o.now());
        if (until !== null) {
          finished.report = {
            ...emptyReport(configured.id),
            refused_until: until,
            errors: [refusal!.message],
            error_kinds: { unauthorized: 1 },
          };
          finished.pending = state?.pending ?? 0;
          reports.push(finished.report);
          continue;
        }
        const destination = await configured.open();
        await this.#announce(configured, state, destination.displayUrl);
        report = await reconcileDestination(destination, store, desired, {
          report: progress,
          logger: this.#o.logger,
          now: this.#o.now,
          forceList,
          deleteStrays,
          keepEndedBefore: keepHorizon(this.#o.now(), this.#o.retentionDays),
          // Renewing is the fencing check: a master that lost the lease stops writing.
          beforeWrite: async () => {
            if (await store.acquireLease(lease, owner, leaseMs) !== token) {
              throw new Error(`lost the lease of ${configured.id} to another master`);
            }
          },
        });
        Object.assign(finished, { report, pending: report.failed });
      } catch (err) {
        // Set first: should recording the failure fail too, the log still has the cause.
        if (finished) finished.failure = err;
        const failed = await this.#recordFailure(configured, desired, err);
        report = failed.report;
        if (finished) {
          // What landed before the reconcile ended early is saved, and the log says so.
          const { created, updated, deleted } = progress;
          Object.assign(finished, failed, { report: { ...report, created, updated, deleted } });
        }
      } finally {
        if (token !== null) await store.releaseLease(lease, owner).catch(() => {});
        if (finished) await this.#log({ ...finished, took_ms: performance.now() - started });
      }
      reports.push(report);
      this.#o.onReport(report, (performance.now() - started) / 1000);
    }
    this.#scheduleRetry(reports.some((r) => r.failed > 0 && r.refused_until === null));
    this.#scheduleWake(reports);
    this.#scheduleLeaseRetry(heldElsewhere);
    return reports;
  }

  /**
   * Appends a finished reconcile to the activity log. A failure to record is logged and
   * goes no further: the reconcile's own outcome stands.
   */
  async #log(finished: FinishedReconcile): Promise<void> {
    try {
      await this.#o.store.recordActivity(activityEntry(finished), ACTIVITY_RETENTION);
    } catch (err) {
      this.#o.logger.log(
        "warn",
        `recording the activity of ${finished.destination_id} failed: ${
          err instanceof Error ? err.message : err
        }`,
      );
    }
  }

  /**
   * Runs again when the earliest lease another master holds can expire: if that master
   * died, this one takes over then, instead of at the next interval. A holder that lives
   * renews its lease, and the next try finds it held and waits for the new expiry.
   */
  #scheduleLeaseRetry(remainingMs: number[]): void {
    if (remainingMs.length === 0 || this.#stopped) return;
    // Jitter keeps several waiting masters from asking at the same instant.
    const delay = Math.min(...remainingMs) + 100 + Math.random() * 400;
    this.#leaseRetry = setTimeout(() => this.#runInBackground("lease"), delay);
  }

  /** Logs, once per process, and stores the calendar a destination resolved to. */
  async #announce(
    configured: ConfiguredDestination,
    state: DestinationState | null,
    calendarUrl: string,
  ): Promise<void> {
    if (!this.#announced.has(configured.id)) {
      this.#announced.add(configured.id);
      const configuredAs = calendarUrl === configured.displayUrl
        ? ""
        : ` (configured as ${configured.displayUrl})`;
      this.#o.logger.log(
        "info",
        `destination ${configured.id}: calendar ${calendarUrl}${configuredAs}`,
      );
    }
    if (state?.calendar_url !== calendarUrl) {
      await this.#o.store.saveDestinationState(configured.id, {
        ...(state ?? EMPTY_DESTINATION_STATE),
        calendar_url: calendarUrl,
      });
    }
  }

  /**
   * The refusal to store after the server refused the credentials, counted, with the
   * setting to fix in its message; and the instant before which no login is tried.
   */
  async #refusal(
    configured: ConfiguredDestination,
    previous: AuthRefusal | null,
    err: DestinationError,
  ): Promise<{ refusal: AuthRefusal; until: string }> {
    const now = this.#o.now();
    const settings = await configured.settingsDigest();
    const counted = refusedAgain(previous, settings, now, "");
    const until = blockedUntil(counted, settings, now) ?? counted.blocked_until;
    const message = `the server refused calsync's credentials: ${err.message}. Fix ` +
      `${configured.credentialsSetting} (for mailcow, an app password with DAV access) and ` +
      `restart the master, or fix the account on the server and press "Retry now"; so that ` +
      `the account is not locked, calsync tries no login before ${until}`;
    return { refusal: { ...counted, message }, until };
  }

  /** Wakes when the earliest refusal's wait is over, to try that destination again. */
  #scheduleWake(reports: ReconcileReport[]): void {
    const untils = reports.flatMap((r) => (r.refused_until ? [Date.parse(r.refused_until)] : []));
    if (untils.length === 0 || this.#stopped) return;
    const delay = Math.max(0, Math.min(...untils) - this.#o.now().getTime()) + 1000;
    this.#wake = setTimeout(() => this.#runInBackground("retry"), delay);
  }

  /**
   * Keeps the status table, and records the error and how much is waiting; a refusal of
   * the credentials also leaves the destination alone for a while. Answers the report
   * and how many writes wait.
   */
  async #recordFailure(
    configured: ConfiguredDestination,
    desired: Map<string, DestinationItem>,
    err: unknown,
  ): Promise<{ report: ReconcileReport; pending: number }> {
    const { id } = configured;
    const { store } = this.#o;
    const state = await store.destinationState(id);
    const refused = isRefusal(err)
      ? await this.#refusal(configured, state?.auth_refusal ?? null, err)
      : null;
    const message = refused?.refusal.message ??
      (err instanceof Error ? err.message : String(err));
    this.#o.logger.log("warn", `reconcile ${id} failed: ${message}`);
    const pending = planReconcile(desired, await store.destinationEntries(id), null, {
      keepEndedBefore: keepHorizon(this.#o.now(), this.#o.retentionDays),
    }).operations.length;
    await store.saveDestinationState(id, {
      ...(state ?? EMPTY_DESTINATION_STATE),
      last_error: message,
      pending,
      auth_refusal: refused?.refusal ?? state?.auth_refusal ?? null,
    });
    const kind = err instanceof DestinationError ? err.kind : "unknown";
    const report = {
      ...emptyReport(id),
      failed: Math.max(pending, 1),
      refused_until: refused?.until ?? null,
      errors: [message],
      error_kinds: { [kind]: 1 },
    };
    return { report, pending };
  }

  #scheduleRetry(failed: boolean): void {
    clearTimeout(this.#retry);
    if (!failed || this.#stopped) {
      this.#retryDelay = this.#o.retryMs;
      return;
    }
    this.#retry = setTimeout(() => this.#runInBackground("retry"), this.#retryDelay);
    this.#retryDelay = Math.min(this.#retryDelay * 2, this.#o.maxRetryMs, this.#o.intervalMs);
  }

  /** A run nobody awaits: a failure (the store down, say) is logged, and retried later. */
  #runInBackground(trigger: ActivityTrigger): void {
    this.run(false, false, trigger).catch((err) => {
      this.#o.logger.log(
        "error",
        `reconcile run failed: ${err instanceof Error ? err.message : err}`,
      );
      this.#scheduleRetry(true);
    });
  }

  /** Stops the timers and waits for a run in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unwatch();
    clearTimeout(this.#debounce);
    clearTimeout(this.#retry);
    clearTimeout(this.#wake);
    clearTimeout(this.#leaseRetry);
    clearInterval(this.#interval);
    await this.#queued?.catch(() => {});
    await this.#current?.catch(() => {});
  }
}
