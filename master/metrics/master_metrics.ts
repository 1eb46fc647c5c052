/**
 * The master's metrics, served at `GET /metrics`. Counters and histograms live in this
 * process and start at zero when it starts: with several masters, Prometheus scrapes each
 * and sums them. Gauges about the store are read from it at scrape time, so every master
 * sharing a store reports the same values.
 *
 * @module
 */
import { VERSION } from "../../shared/version.ts";
import type { ReconcileReport } from "../sync/reconcile.ts";
import { Registry } from "./registry.ts";

/** How a snapshot an agent sent ended. */
export type SnapshotOutcome = "applied" | "unchanged" | "rejected";

/** What the store holds at scrape time. */
export type StoreGauges = {
  agents: { online: number; offline: number };
  sources: {
    agent_id: string;
    source_id: string;
    occurrences: number;
    /** Warnings of the source's last applied snapshot, per reason code. */
    warnings: Partial<Record<string, number>>;
  }[];
};

// From a no-op run against a fast server (tens of ms) to a first sync of thousands of
// events into a slow Exchange (minutes).
const RECONCILE_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
// From a heartbeat (a few ms) to a 10,000-event snapshot on a loaded machine (seconds).
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The writes of a reconcile report, by the `op` label they are counted under. */
const WRITES = [
  ["create", "created"],
  ["update", "updated"],
  ["delete", "deleted"],
  ["adopt", "adopted"],
] as const;

/** The master's metrics: what routes and the sync engine record, and the scrape. */
export class Metrics {
  readonly #registry = new Registry();
  readonly #buildInfo = this.#registry.gauge(
    "calsync_build_info",
    "Always 1; the calsync version of this master is its label.",
    ["version"],
  );
  readonly #agents = this.#registry.gauge(
    "calsync_agents",
    "Registered agents by whether a heartbeat arrived within two sync intervals and a minute.",
    ["state"],
  );
  readonly #occurrences = this.#registry.gauge(
    "calsync_source_occurrences",
    "Occurrences the store holds per source.",
    ["agent_id", "source_id"],
  );
  readonly #warnings = this.#registry.gauge(
    "calsync_source_warnings",
    "Repairs and skips in each source's last applied snapshot, by reason code.",
    ["agent_id", "source_id", "reason"],
  );
  readonly #snapshots = this.#registry.counter(
    "calsync_snapshots_received_total",
    "Snapshots received from authenticated agents, by outcome.",
    ["agent_id", "source_id", "result"],
  );
  readonly #reconcileSeconds = this.#registry.histogram(
    "calsync_reconcile_duration_seconds",
    "Time to reconcile one destination, failed runs included.",
    ["destination_id"],
    RECONCILE_BUCKETS,
  );
  readonly #writes = this.#registry.counter(
    "calsync_destination_writes_total",
    "Items created, updated, deleted in a destination, or adopted from it.",
    ["destination_id", "op"],
  );
  readonly #errors = this.#registry.counter(
    "calsync_destination_errors_total",
    "Errors of reconciles after retries: one per failed write or per run that failed.",
    ["destination_id", "kind"],
  );
  readonly #requests = this.#registry.counter(
    "calsync_http_requests_total",
    "HTTP requests answered, by route pattern and status code.",
    ["method", "route", "status"],
  );
  readonly #requestSeconds = this.#registry.histogram(
    "calsync_http_request_duration_seconds",
    "Time to answer an HTTP request, by route pattern.",
    ["method", "route"],
    HTTP_BUCKETS,
  );

  /** Creates the metrics of a master of `version`. */
  constructor(version: string = VERSION) {
    this.#buildInfo.set({ version }, 1);
  }

  /** Counts a snapshot of an authenticated agent. */
  snapshotReceived(agentId: string, sourceId: string, result: SnapshotOutcome): void {
    this.#snapshots.inc({ agent_id: agentId, source_id: sourceId, result });
  }

  /** Records one destination's reconcile: its duration, writes and errors by kind. */
  reconciled(report: ReconcileReport, seconds: number): void {
    const destination_id = report.destination_id;
    this.#reconcileSeconds.observe({ destination_id }, seconds);
    for (const [op, field] of WRITES) this.#writes.inc({ destination_id, op }, report[field]);
    for (const [kind, n] of Object.entries(report.error_kinds)) {
      this.#errors.inc({ destination_id, kind }, n);
    }
  }

  /** Records one answered request; `route` is its pattern, never the raw path. */
  httpRequest(method: string, route: string, status: number, seconds: number): void {
    this.#requests.inc({ method, route, status: String(status) });
    this.#requestSeconds.observe({ method, route }, seconds);
  }

  /** Everything in the text exposition format, with the store's gauges set to `store`. */
  render(store: StoreGauges): string {
    // Recomputed from scratch so that a removed agent or source leaves no stale series.
    this.#agents.reset();
    this.#agents.set({ state: "online" }, store.agents.online);
    this.#agents.set({ state: "offline" }, store.agents.offline);
    this.#occurrences.reset();
    for (const s of store.sources) {
      this.#occurrences.set({ agent_id: s.agent_id, source_id: s.source_id }, s.occurrences);
    }
    this.#warnings.reset();
    for (const s of store.sources) {
      for (const [reason, n] of Object.entries(s.warnings)) {
        this.#warnings.set({ agent_id: s.agent_id, source_id: s.source_id, reason }, n ?? 0);
      }
    }
    return this.#registry.render();
  }
}
