/**
 * The activity log's entry of one reconcile, made from what the engine knows when it is
 * over: its report, or the error that ended it before there was one.
 *
 * @module
 */
import type { ActivityEntry, ActivityTrigger } from "../store/activity.ts";
import type { ReconcileReport } from "./reconcile.ts";

/** What the engine knows of one reconcile of one destination once it is over. */
export type FinishedReconcile = {
  destination_id: string;
  master_id: string;
  started: Date;
  took_ms: number;
  trigger: ActivityTrigger | null;
  /** The report; missing when recording the failure failed too (the store is full, say). */
  report?: ReconcileReport;
  /** Writes still waiting afterwards. */
  pending: number;
  /** The error that ended the reconcile early; null when it ran to its end. */
  failure: unknown;
};

/** The activity log's entry of a finished reconcile, with a fresh id. */
export function activityEntry(done: FinishedReconcile): ActivityEntry {
  const { report, failure } = done;
  const thrown = failure === null
    ? null
    : failure instanceof Error
    ? failure.message
    : String(failure);
  return {
    id: crypto.randomUUID(),
    destination_id: done.destination_id,
    master_id: done.master_id,
    started_at: done.started.toISOString(),
    took_ms: Math.max(0, Math.round(done.took_ms)),
    trigger: done.trigger,
    outcome: failure !== null ? "failed" : report?.refused_until ? "not_contacted" : "completed",
    created: report?.created ?? 0,
    updated: report?.updated ?? 0,
    deleted: report?.deleted ?? 0,
    failed: report?.failed ?? (failure === null ? 0 : Math.max(done.pending, 1)),
    pending: done.pending,
    error: report?.errors[0] ?? thrown,
  };
}
