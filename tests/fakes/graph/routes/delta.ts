/**
 * "event: delta" on a calendar view
 * (https://learn.microsoft.com/en-us/graph/api/event-delta?view=graph-rest-1.0) and "Get
 * incremental changes to events in a calendar view"
 * (https://learn.microsoft.com/en-us/graph/delta-query-events): the first round returns
 * every event of the window page by page (`@odata.nextLink` with `$skiptoken`), its last
 * page an `@odata.deltaLink` with `$deltatoken`; a later round returns what changed since,
 * deleted events as `{ "id", "@removed": { "reason": "deleted" } }`. The tokens carry the
 * window and the other query parameters, so follow-up requests give only the token. Page
 * size comes from `Prefer: odata.maxpagesize`; `$filter`, `$orderby`, `$search`, `$expand`
 * and `$top` are refused as change tracking over events refuses them. A token the server
 * no longer knows answers 410 Gone, the documented signal to sync again from scratch
 * ("Use delta query to track changes in Microsoft Graph data",
 * https://learn.microsoft.com/en-us/graph/delta-query-overview).
 *
 * @module
 */
import {
  calendarOf,
  contextUrl,
  type GraphAnswer,
  type GraphContext,
  json,
  mailboxFor,
  READ,
} from "../context.ts";
import { badRequest, GraphError } from "../errors.ts";
import { calendarView, expand, occurrence, overlaps } from "../instances.ts";
import { parseSelect, type Shape, shapeEvent } from "../shape.ts";
import { preferenceApplied, preferences } from "../query.ts";
import { DEFAULT_PAGE_SIZE, windowOf } from "./lists.ts";

/** What a state token encodes. */
interface DeltaState {
  /** Token generation; tokens of older generations answer 410. */
  g: number;
  cal: string;
  from: number;
  to: number;
  /** Changes after this sequence number belong to the round. */
  since: number;
  /** Changes up to this sequence number belong to the round (skip tokens only). */
  upTo?: number;
  /** Entries of the round already sent (skip tokens only). */
  offset?: number;
  select: string[] | null;
}

const REFUSED = ["$filter", "$orderby", "$search", "$expand", "$top", "$skip", "$count"];

const encode = (state: DeltaState) =>
  btoa(JSON.stringify(state)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

function decode(token: string, generation: number): DeltaState {
  try {
    const state = JSON.parse(atob(token.replace(/-/g, "+").replace(/_/g, "/"))) as DeltaState;
    if (state.g === generation) return state;
  } catch {
    // falls through to the 410 below, as for any token the server does not know
  }
  throw new GraphError(
    410,
    "syncStateNotFound",
    "The sync state was not found or has expired. Start a new synchronization without a token.",
  );
}

/** The entries of one delta round: changed instances, then removals. */
function roundEntries(
  ctx: GraphContext,
  upn: string,
  state: DeltaState,
  upTo: number,
  shape: Shape,
): unknown[] {
  const mailbox = ctx.store.mailbox(upn);
  const changed = calendarView(mailbox, state.cal, state.from, state.to)
    .filter((i) => i.seq > state.since && i.seq <= upTo)
    .map((i) => shapeEvent(i, shape));
  const removed = mailbox.tombstones
    .filter((t) => t.calendarId === state.cal && t.seq > state.since && t.seq <= upTo)
    .filter(() => state.since > 0)
    .flatMap((t) => {
      if (t.originalStartMs === null) return expand(t.event, state.from, state.to);
      const gone = occurrence(t.event, t.originalStartMs);
      return overlaps(gone.startMs, gone.endMs, state.from, state.to) ? [gone] : [];
    })
    .map((i) => ({
      "@odata.type": "#microsoft.graph.event",
      id: i.id,
      "@removed": { reason: "deleted" },
    }));
  return [...changed, ...removed];
}

/** `GET /users/{upn}/calendar(s/{id})/calendarView/delta` */
export function calendarViewDelta(
  ctx: GraphContext,
  upn: string,
  calendarId: string | null,
  generation: number,
): GraphAnswer {
  ctx.record.kind = "delta";
  const mailbox = mailboxFor(ctx, upn, READ);
  const url = ctx.request.url;
  const refused = REFUSED.filter((name) => url.searchParams.has(name));
  if (refused.length > 0) {
    throw badRequest(
      "The following parameters are not supported with change tracking over the 'Events' " +
        `resource: '${refused.join(", ")}'.`,
      "ErrorInvalidUrlQuery",
    );
  }
  const skip = url.searchParams.get("$skiptoken") ?? url.searchParams.get("$skipToken");
  const delta = url.searchParams.get("$deltatoken") ?? url.searchParams.get("$deltaToken");
  let state: DeltaState;
  if (skip !== null) state = decode(skip, generation);
  else if (delta !== null) state = decode(delta, generation);
  else {
    const calendar = calendarOf(mailbox, calendarId);
    const { fromMs, toMs } = windowOf(url);
    const select = parseSelect(url.searchParams.get("$select"));
    state = { g: generation, cal: calendar.id, from: fromMs, to: toMs, since: 0, select };
  }
  const prefs = preferences(ctx.request.headers);
  const shape: Shape = {
    zone: prefs.timeZone ?? "UTC",
    select: state.select,
    expandExtended: null,
  };
  const upTo = state.upTo ?? ctx.store.seq;
  const entries = roundEntries(ctx, mailbox.upn, state, upTo, shape);
  const offset = state.offset ?? 0;
  const size = prefs.maxPageSize ?? DEFAULT_PAGE_SIZE;
  const body: Record<string, unknown> = {
    "@odata.context": contextUrl(ctx, upn, "calendarView(delta())"),
    value: entries.slice(offset, offset + size),
  };
  const link = `${ctx.origin}${url.pathname}`;
  if (offset + size < entries.length) {
    const next = encode({ ...state, upTo, offset: offset + size });
    body["@odata.nextLink"] = `${link}?$skiptoken=${next}`;
  } else {
    const next = encode({ ...state, since: upTo, upTo: undefined, offset: undefined });
    body["@odata.deltaLink"] = `${link}?$deltatoken=${next}`;
  }
  const applied = preferenceApplied(prefs, true);
  return json(200, body, applied ? { "preference-applied": applied } : {});
}
