/**
 * Every operation of the master's machine API (JSON, iCalendar and metrics), as data.
 * Request schemas are the very objects the routes validate with, so the document cannot
 * drift from validation; `tests/master/openapi_test.ts` checks that this list and the
 * app's routes name the same operations.
 *
 * @module
 */
import { z } from "zod";
import {
  AgentList,
  AgentRemoved,
  AgentStatus,
  ApiError,
  Health,
  Heartbeat,
  Identifier,
  NewReadToken,
  ReadTokenCreated,
  ReadTokenList,
  Registration,
  RegistrationResult,
  Snapshot,
  SnapshotResult,
  SourceRemoved,
  StoredEvent,
  SyncStatus,
} from "../../shared/protocol.ts";
import { FIRST_YEAR, LAST_YEAR } from "../../shared/model.ts";
import { CONTENT_TYPE as METRICS_CONTENT_TYPE } from "../metrics/registry.ts";
import {
  ACTIVITY_LIMIT_MAX,
  ActivityQueryParams,
  DEFAULT_PAGE_SIZE,
  EventsQuery,
  MAX_PAGE_SIZE,
} from "../routes/admin.ts";
import { NewFeed } from "../routes/feeds.ts";
import {
  ActivityList,
  AgentReset,
  EventList,
  FeedCreated,
  FeedList,
  HeartbeatResult,
  OpenApiDocument,
  ReconcileResult,
} from "./answers.ts";
import { named, type Operation, type Tag } from "./types.ts";

/** The sections of the API, in the order `/docs` shows them. */
export const TAGS: Tag[] = [
  { name: "agents", description: "What agents call: registration, snapshots, heartbeats." },
  { name: "status", description: "Reading what the master holds." },
  { name: "admin", description: "Managing agents, sources, read tokens and reconciles." },
  { name: "feeds", description: "The consolidated calendar as an ICS feed." },
  { name: "service", description: "Health, metrics and this description." },
];

/** The body of every error answer. */
export const API_ERROR = named(
  "ApiError",
  ApiError,
  "Every error: `code` is stable and machine-readable, `field` the JSON path of the bad " +
    "input (`events[3].start`) or null.",
);

/** Answer parts that several answers share, published once. */
export const SHARED_SCHEMAS = [
  named("AgentStatus", AgentStatus, "An agent with its sources and whether it is online."),
  named("StoredEvent", StoredEvent, "An occurrence with the agent and source it came from."),
];

const AgentPath = z.object({ agent_id: Identifier });
const SourcePath = AgentPath.extend({ source_id: Identifier });
const PARAM_NOTES = {
  agent_id: "the agent's id, as it registered",
  source_id: "the source's id, as its agent declared it",
};

const HEALTH = named("Health", Health, "Whether the master and its store work.");
const SYNC_STATUS = named("SyncStatus", SyncStatus, "Agents, sources, totals, destinations.");

/** The operations, grouped by tag. */
export const OPERATIONS: Operation[] = [
  {
    method: "post",
    path: "/api/agents/register",
    operationId: "registerAgent",
    tag: "agents",
    summary: "Register an agent and its sources",
    description: "With the enrollment token, creates the agent and answers its own token, " +
      "shown this once. With the agent's token, updates its name, environment, version " +
      "and sources. `sources[].last_generated_at` tells an agent which snapshots to resend.",
    auth: "enrollment",
    body: named("Registration", Registration, "An agent and the sources it reads."),
    answers: {
      200: {
        description: "Registered",
        json: named("RegistrationResult", RegistrationResult, "The agent's token and sources."),
      },
    },
    errors: {
      403: ["forbidden"],
      409: ["agent_exists"],
    },
  },
  {
    method: "put",
    path: "/api/agents/{agent_id}/sources/{source_id}/snapshot",
    operationId: "putSnapshot",
    tag: "agents",
    summary: "Replace a source's events inside a window",
    description: "Every occurrence of one source that overlaps `window`. What the master " +
      "held for the source inside the window is replaced; outside it, kept. Resending the " +
      "same snapshot changes nothing.",
    auth: "agent",
    pathParams: SourcePath,
    paramNotes: PARAM_NOTES,
    // The route checks `SnapshotEnvelope`, then each new event as an `Occurrence`, then
    // `snapshotEventIssues`: together exactly `Snapshot`, which is built from them.
    body: named("Snapshot", Snapshot, "A source's occurrences inside a window."),
    answers: {
      200: {
        description: "Applied",
        json: named("SnapshotResult", SnapshotResult, "What the snapshot changed."),
      },
    },
    errors: {
      403: ["forbidden"],
      404: ["unknown_source"],
      409: ["stale_snapshot"],
      422: ["clock_skew"],
    },
  },
  {
    method: "post",
    path: "/api/agents/{agent_id}/heartbeat",
    operationId: "heartbeat",
    tag: "agents",
    summary: "Say the agent is alive",
    description: "With each source's last error (null: it read fine).",
    auth: "agent",
    pathParams: AgentPath,
    paramNotes: PARAM_NOTES,
    body: named("Heartbeat", Heartbeat, "The agent's version, interval and source errors."),
    answers: {
      200: {
        description: "Recorded",
        json: named("HeartbeatResult", HeartbeatResult, "The master's clock."),
      },
    },
    errors: { 403: ["forbidden"] },
  },
  {
    method: "get",
    path: "/api/sync/status",
    operationId: "syncStatus",
    tag: "status",
    summary: "Agents, sources, counts and errors",
    auth: "admin",
    answers: { 200: { description: "The status", json: SYNC_STATUS } },
  },
  {
    method: "get",
    path: "/api/agents",
    operationId: "listAgents",
    tag: "status",
    summary: "List the agents",
    description: "Every agent, sorted by id, as `/api/sync/status` lists them.",
    auth: "admin",
    answers: {
      200: {
        description: "The agents",
        json: named("AgentList", AgentList, "Every agent, sorted by id."),
      },
    },
  },
  {
    method: "get",
    path: "/api/events",
    operationId: "listEvents",
    tag: "status",
    summary: "Stored occurrences overlapping a range, a page at a time",
    description: "Sorted by start, then agent, source and occurrence key. Each answer is " +
      "one page; while `next_cursor` is not null, ask again with `cursor` set to it and " +
      "the same filters. Events added between pages never repeat or hide those already " +
      "read. A read token may call this, and only this.",
    auth: "read-or-admin",
    query: EventsQuery,
    paramNotes: {
      start: `the range's start (inclusive), in the years ${FIRST_YEAR}-${LAST_YEAR}`,
      end: `the range's end (exclusive); after start, in the years ${FIRST_YEAR}-${LAST_YEAR}`,
      agent_id: "only this agent's occurrences",
      source_id: "only this source's occurrences",
      limit: `events per page, 1-${MAX_PAGE_SIZE}; ${DEFAULT_PAGE_SIZE} when left out`,
      cursor: "the `next_cursor` of the previous page, with the same start, end, agent_id " +
        "and source_id; left out for the first page",
    },
    answers: {
      200: {
        description: "One page of the occurrences",
        json: named(
          "EventList",
          EventList,
          "A page of occurrences in listing order, and the cursor of the next page.",
        ),
      },
    },
    errors: { 400: ["invalid_field", "invalid_cursor"] },
  },
  {
    method: "get",
    path: "/api/admin/activity",
    operationId: "listActivity",
    tag: "status",
    summary: "What each master's reconciles did, newest first",
    description: "One entry per reconcile of a destination: when it started, what started it, " +
      "what it wrote, what failed and the first error. Kept for 7 days, at most 5,000 " +
      "entries per destination.",
    auth: "admin",
    query: ActivityQueryParams,
    paramNotes: {
      destination: "only this destination's entries (its id, as `/api/sync/status` lists it)",
      since: "only entries started at or after this instant",
      limit: `at most this many entries, the newest (default 100, at most ${ACTIVITY_LIMIT_MAX})`,
    },
    answers: {
      200: {
        description: "The entries",
        json: named("ActivityList", ActivityList, "Reconciles, newest first."),
      },
    },
    errors: { 400: ["invalid_field"], 404: ["unknown_destination"] },
  },
  {
    method: "post",
    path: "/api/admin/agents/{agent_id}/reset",
    operationId: "resetAgent",
    tag: "admin",
    summary: "Revoke an agent's token so that it may enrol again",
    auth: "admin",
    pathParams: AgentPath,
    paramNotes: PARAM_NOTES,
    answers: {
      200: {
        description: "Reset",
        json: named("AgentReset", AgentReset, "The agent may enrol again."),
      },
    },
    errors: { 404: ["unknown_agent"] },
  },
  {
    method: "delete",
    path: "/api/admin/agents/{agent_id}",
    operationId: "removeAgent",
    tag: "admin",
    summary: "Remove an agent with its sources",
    description: "Their events leave the destinations at the next reconcile.",
    auth: "admin",
    pathParams: AgentPath,
    paramNotes: PARAM_NOTES,
    answers: {
      200: {
        description: "Removed",
        json: named("AgentRemoved", AgentRemoved, "The agent is gone."),
      },
    },
    errors: { 404: ["unknown_agent"] },
  },
  {
    method: "delete",
    path: "/api/admin/agents/{agent_id}/sources/{source_id}",
    operationId: "removeSource",
    tag: "admin",
    summary: "Remove one source of an agent",
    description: "Its events leave the destinations at the next reconcile.",
    auth: "admin",
    pathParams: SourcePath,
    paramNotes: PARAM_NOTES,
    answers: {
      200: {
        description: "Removed",
        json: named("SourceRemoved", SourceRemoved, "The source is gone."),
      },
    },
    errors: { 404: ["unknown_agent", "unknown_source"] },
  },
  {
    method: "post",
    path: "/api/admin/reconcile",
    operationId: "reconcile",
    tag: "admin",
    summary: "Reconcile every destination now",
    auth: "admin",
    // The route only asks whether `full` is "true"; this says so to readers.
    query: z.object({
      full: z.enum(["true", "false"]).optional(),
      delete_strays: z.enum(["true", "false"]).optional(),
    }),
    paramNotes: {
      full: "`true` reads every item of each destination again, even if it did not change, " +
        "and deletes every item calsync wrote that is neither desired nor known (as " +
        "`delete_strays`)",
      delete_strays: "`true` also deletes owned items that no source holds and calsync does not " +
        "remember writing (left by a lost or restored store; kept otherwise)",
    },
    answers: {
      200: {
        description: "What each destination's reconcile did",
        json: named("ReconcileResult", ReconcileResult, "One report per destination."),
      },
    },
  },
  {
    method: "post",
    path: "/api/admin/destinations/{destination_id}/retry",
    operationId: "retryDestination",
    tag: "admin",
    summary: "Try a destination again after it refused the credentials",
    description: "After a refusal calsync leaves a destination alone for 15 minutes, so that " +
      "retries never lock the account. Call this once the password is fixed on the server; " +
      "then every destination is reconciled. At most three refused logins per 15 minutes " +
      "are ever tried.",
    auth: "admin",
    pathParams: z.object({ destination_id: Identifier }),
    paramNotes: { destination_id: "the destination's id, as `/api/sync/status` lists it" },
    answers: {
      200: {
        description: "What each destination's reconcile did",
        json: named("ReconcileResult", ReconcileResult, "One report per destination."),
      },
    },
    errors: { 404: ["unknown_destination"], 429: ["credentials_refused"] },
  },
  {
    method: "post",
    path: "/api/admin/read-tokens",
    operationId: "createReadToken",
    tag: "admin",
    summary: "Create a read token",
    description: "For a web app that reads events. The token is answered this once.",
    auth: "admin",
    body: named("NewReadToken", NewReadToken, "Who uses the token."),
    answers: {
      201: {
        description: "Created",
        json: named("ReadTokenCreated", ReadTokenCreated, "The token, shown once."),
      },
    },
  },
  {
    method: "get",
    path: "/api/admin/read-tokens",
    operationId: "listReadTokens",
    tag: "admin",
    summary: "List the read tokens",
    auth: "admin",
    answers: {
      200: {
        description: "The read tokens, oldest first",
        json: named("ReadTokenList", ReadTokenList, "Read tokens without their secrets."),
      },
    },
  },
  {
    method: "delete",
    path: "/api/admin/read-tokens/{token_id}",
    operationId: "revokeReadToken",
    tag: "admin",
    summary: "Revoke a read token",
    auth: "admin",
    pathParams: z.object({ token_id: z.string() }),
    answers: { 204: { description: "Revoked" } },
    errors: { 404: ["unknown_token"] },
  },
  {
    method: "post",
    path: "/api/admin/feeds",
    operationId: "createFeed",
    tag: "feeds",
    summary: "Create an ICS feed",
    description: "The feed's token, part of its address, is answered this once.",
    auth: "admin",
    body: named("NewFeed", NewFeed, "The feed's calendar name."),
    answers: {
      201: {
        description: "Created",
        json: named("FeedCreated", FeedCreated, "The feed with its token and path."),
      },
    },
  },
  {
    method: "get",
    path: "/api/admin/feeds",
    operationId: "listFeeds",
    tag: "feeds",
    summary: "List the feeds",
    auth: "admin",
    answers: {
      200: {
        description: "The feeds",
        json: named("FeedList", FeedList, "Feeds without their tokens."),
      },
    },
  },
  {
    method: "delete",
    path: "/api/admin/feeds/{feed_id}",
    operationId: "revokeFeed",
    tag: "feeds",
    summary: "Revoke a feed",
    auth: "admin",
    pathParams: z.object({ feed_id: z.string() }),
    answers: { 204: { description: "Revoked" } },
    errors: { 404: ["unknown_feed"] },
  },
  {
    method: "get",
    path: "/feeds/{file}",
    operationId: "getFeed",
    tag: "feeds",
    summary: "The consolidated calendar as iCalendar",
    description: "The token in the address is the credential: `/feeds/{token}.ics`.",
    auth: "none",
    pathParams: z.object({ file: z.string().regex(/^.+\.ics$/) }),
    paramNotes: { file: "`{token}.ics`, as `path` in the feed's creation answer" },
    answers: {
      200: {
        description: "The calendar",
        text: "text/calendar",
        headers: {
          ETag: "a weak validator; send it as If-None-Match",
          "Cache-Control": "private, no-cache",
        },
      },
      304: { description: "Not modified since the ETag sent in If-None-Match" },
    },
    errors: { 404: ["unknown_feed"] },
  },
  {
    method: "get",
    path: "/health",
    operationId: "health",
    tag: "service",
    summary: "Whether the master and its store work",
    description: "For load balancers and Docker health checks.",
    auth: "none",
    answers: {
      200: { description: "Healthy", json: HEALTH },
      503: {
        description: "The store does not answer, or its last write failed for want of space",
        json: HEALTH,
      },
    },
    store: false,
  },
  {
    method: "get",
    path: "/metrics",
    operationId: "metrics",
    tag: "service",
    summary: "Metrics in the Prometheus text format",
    auth: "metrics",
    answers: { 200: { description: "The metrics", text: METRICS_CONTENT_TYPE } },
  },
  {
    method: "get",
    path: "/openapi.json",
    operationId: "openApi",
    tag: "service",
    summary: "This API as an OpenAPI 3.1 document",
    description: "`/docs` shows it as a page.",
    auth: "none",
    answers: {
      200: {
        description: "The document",
        json: named("OpenApiDocument", OpenApiDocument, "An OpenAPI 3.1 document."),
      },
    },
    store: false,
  },
];
