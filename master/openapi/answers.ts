/**
 * Schemas of answers that the routes build inline rather than from a schema in
 * `shared/protocol.ts`. They exist to be documented; the answers-match test in
 * `tests/master/openapi_test.ts` checks them against what the routes really send.
 *
 * @module
 */
import { z } from "zod";
import { StoredEvent } from "../../shared/protocol.ts";
import { Instant } from "../../shared/time.ts";
import type { ReconcileReport as ReconcileReportType } from "../sync/reconcile.ts";
import { ActivityEntry } from "../store/activity.ts";

/** `POST /api/agents/{agent_id}/heartbeat` answer. */
export const HeartbeatResult = z.object({ ok: z.literal(true), server_time: Instant });

/** `GET /api/events` answer: one page of the listing. */
export const EventList = z.object({
  events: z.array(StoredEvent),
  next_cursor: z.string().nullable().describe(
    "Pass as `cursor`, with the same start, end, agent_id and source_id, for the next " +
      "page; null on the last page",
  ),
});

/** What one destination's reconcile did. */
export const ReconcileReport = z.object({
  destination_id: z.string(),
  created: z.number().int(),
  updated: z.number().int(),
  deleted: z.number().int(),
  adopted: z.number().int(),
  strays: z.number().int(),
  failed: z.number().int(),
  listed: z.boolean(),
  skipped: z.boolean(),
  refused_until: z.string().nullable(),
  errors: z.array(z.string()),
  error_kinds: z.record(z.string(), z.number().int()),
}) satisfies z.ZodType<ReconcileReportType>;

/** `POST /api/admin/reconcile` answer. */
export const ReconcileResult = z.object({ reports: z.array(ReconcileReport) });

/** `GET /api/admin/activity` answer: newest first. */
export const ActivityList = z.object({ entries: z.array(ActivityEntry) });
/** `GET /api/admin/activity` answer. */
export type ActivityList = z.infer<typeof ActivityList>;

/** `POST /api/admin/agents/{agent_id}/reset` answer. */
export const AgentReset = z.object({ agent_id: z.string(), reset: z.literal(true) });

/** A feed as the admin API lists it: never its token. */
export const FeedInfo = z.object({ feed_id: z.string(), name: z.string(), created_at: Instant });

/** `POST /api/admin/feeds` answer: the only time the feed's token is shown. */
export const FeedCreated = FeedInfo.extend({ token: z.string(), path: z.string() });

/** `GET /api/admin/feeds` answer. */
export const FeedList = z.object({ feeds: z.array(FeedInfo) });

/** The top of an OpenAPI 3.1 document, enough to recognise `/openapi.json`. */
export const OpenApiDocument = z.looseObject({
  openapi: z.literal("3.1.0"),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.unknown()),
});
