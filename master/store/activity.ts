/**
 * The activity log: one entry per reconcile a master ran of a destination, so that an
 * admin can see what happened while nobody watched. Both stores keep it bounded by age
 * and by count per destination, pruning as they write.
 *
 * @module
 */
import { z } from "zod";

/**
 * What started a reconcile: the master starting, a snapshot that changed something (on
 * this master or announced by another), an admin removing an agent or source, the
 * drift-repair timer, an admin ("Reconcile now", the API, "Retry now"), a retry after a
 * failure or after a refusal's wait, or another master's lease that could have expired.
 */
export const ActivityTrigger = z.enum([
  "startup",
  "snapshot",
  "removal",
  "timer",
  "admin",
  "retry",
  "lease",
]);
/** What started a reconcile. */
export type ActivityTrigger = z.infer<typeof ActivityTrigger>;

/**
 * How a reconcile ended: `completed` (item failures are counted in `failed`), `failed`
 * (ended early: unreachable, refused credentials, storage full, lease lost), or
 * `not_contacted` (the credentials stand refused, so nothing was sent).
 */
export const ActivityOutcome = z.enum(["completed", "failed", "not_contacted"]);
/** How a reconcile ended. */
export type ActivityOutcome = z.infer<typeof ActivityOutcome>;

/** One reconcile of one destination by one master. */
export const ActivityEntry = z.object({
  /** Unique per entry. */
  id: z.string().min(1),
  destination_id: z.string().min(1),
  /** `MASTER_ID` of the master that ran it. */
  master_id: z.string(),
  /** In UTC to the millisecond, so that runs within one second keep their order. */
  started_at: z.iso.datetime({ precision: 3 }),
  took_ms: z.number().int().nonnegative(),
  trigger: ActivityTrigger.nullable(),
  outcome: ActivityOutcome,
  created: z.number().int().nonnegative(),
  updated: z.number().int().nonnegative(),
  deleted: z.number().int().nonnegative(),
  /** Items that could not be written. */
  failed: z.number().int().nonnegative(),
  /** Writes still waiting afterwards. */
  pending: z.number().int().nonnegative(),
  /** The first error, or null. */
  error: z.string().nullable(),
});
/** One reconcile of one destination by one master. */
export type ActivityEntry = z.infer<typeof ActivityEntry>;

/** How much of the log a store keeps per destination. */
export type ActivityRetention = {
  /** Entries that started this long before the newest one are dropped. */
  max_age_ms: number;
  /** At most this many entries, the newest. */
  max_entries: number;
};

/**
 * What the master keeps: a week, and at most 5,000 entries per destination (a week of
 * runs every 2 minutes), about 2 MB per destination.
 */
export const ACTIVITY_RETENTION: ActivityRetention = {
  max_age_ms: 7 * 86_400_000,
  max_entries: 5000,
};

/** Filters of an activity listing. */
export type ActivityQuery = {
  /** Only this destination's entries. */
  destination_id?: string;
  /** Only entries started at or after this instant. */
  since?: string;
  /** At most this many entries, the newest. */
  limit: number;
};
