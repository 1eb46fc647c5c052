/**
 * `FindItem` on calendar folders, with the two views calsync uses.
 *
 * `CalendarView` expands series into occurrences and exceptions overlapping
 * `[StartDate, EndDate)`, sorted by start. Exchange refuses a range over two years
 * (`ErrorCalendarViewRangeTooBig`) and cannot page a calendar view, so its size rules are:
 * with `MaxEntriesReturned` it returns the first that many and
 * `IncludesLastItemInRange="false"` when more fall in the range; a view that would return
 * more than the find-count limit (`EWSFindCountLimit`, `maxCalendarViewItems` here) fails
 * with `ErrorExceededFindCountLimit` and the `PolicyLimit` — which the EWSFindCountLimit
 * documentation describes for requests that do not page, and which a client avoids by
 * asking for no more than the limit and narrowing the range when `IncludesLastItemInRange`
 * is false.
 *
 * `IndexedPageItemView` lists the stored items themselves (singles and recurring masters,
 * not occurrences), optionally filtered by a `Restriction` and ordered by `SortOrder`
 * (creation order otherwise), in pages capped at the find-count limit.
 *
 * Both views return summaries: string values cut to 255 characters (see `summary.ts`).
 *
 * @module
 */
import { extendedKey, type ItemView } from "../model.ts";
import { propertyOf, type WriteContext } from "../properties.ts";
import { itemView, viewsInRange } from "../recurrence.ts";
import { type Lookup, readRestriction } from "../restriction.ts";
import { readItemShape, writeItem } from "../shapes.ts";
import { findSummary } from "../summary.ts";
import { EwsError, NS, SchemaViolation, successMessage } from "../soap.ts";
import type { Mailbox } from "../store.ts";
import { parseDateTime } from "../timezones.ts";
import { child, el, type XmlElement } from "../xml.ts";
import { eachTarget, enumAttribute, type Handler, required, resolveFolder } from "./common.ts";
import { findCountExceeded, type Page, pageOf, readIndexedView, unpaged } from "./paging.ts";

const TWO_YEARS_DAYS = 731;

/** The value of a property of an item for restrictions and sorting. */
function itemLookup(view: ItemView, mailbox: Mailbox): Lookup {
  return (path) => {
    if (path.kind === "field") return propertyOf(path.uri)?.value?.(view, mailbox);
    const value = view.item.extended.get(extendedKey(path.uri));
    if (!value) return undefined;
    if (value.uri.propertyType.endsWith("Array")) return value.values;
    const [single] = value.values;
    switch (value.uri.propertyType) {
      case "Integer":
      case "Long":
      case "Short":
      case "Double":
      case "Float":
      case "Currency":
        return Number(single);
      case "Boolean":
        return single === "true" || single === "1";
      case "SystemTime":
        return parseDateTime(single, "UTC") ?? undefined;
      default:
        return single;
    }
  };
}

function dateAttribute(view: XmlElement, name: string, timeZone: string): number {
  const value = view.attrs[name];
  const instant = value === undefined ? null : parseDateTime(value, timeZone);
  if (instant === null) {
    throw new SchemaViolation(
      `The '${name}' attribute is invalid - The value '${value ?? ""}' is invalid.`,
    );
  }
  return instant;
}

function calendarPage(views: ItemView[], max: number | null, limit: number): Page<ItemView> {
  const returned = Math.min(views.length, max ?? Infinity);
  if (returned > limit) throw findCountExceeded(limit);
  return {
    entries: views.slice(0, returned),
    nextOffset: returned,
    total: views.length,
    includesLast: returned === views.length,
  };
}

/** Orders items by the `SortOrder` of a request (the first field decides first). */
function sorter(sortOrder: XmlElement | undefined, mailbox: Mailbox) {
  const orders = (sortOrder?.children ?? []).map((fieldOrder) => {
    const uri = child(fieldOrder, NS.t, "FieldURI")?.attrs.FieldURI ?? "";
    const descending = enumAttribute(fieldOrder, "Order", ["Ascending", "Descending"]) ===
      "Descending";
    return { uri, sign: descending ? -1 : 1 };
  });
  return (a: ItemView, b: ItemView) => {
    for (const { uri, sign } of orders) {
      const x = itemLookup(a, mailbox)({ kind: "field", uri });
      const y = itemLookup(b, mailbox)({ kind: "field", uri });
      if (x === y || x === undefined || y === undefined) continue;
      return (x < y ? -1 : 1) * sign;
    }
    return 0;
  };
}

/** `FindItem`: one message per parent folder. */
export const findItem: Handler = (body, ctx) => {
  enumAttribute(body, "Traversal", ["Shallow", "SoftDeleted", "Associated"]);
  const shape = readItemShape(required(body, NS.m, "ItemShape"), true);
  const calendarView = child(body, NS.m, "CalendarView");
  const indexedView = child(body, NS.m, "IndexedPageItemView");
  const restrictionElement = child(body, NS.m, "Restriction");
  const sortOrder = child(body, NS.m, "SortOrder");
  if (calendarView && (restrictionElement || sortOrder)) {
    throw new EwsError(
      "ErrorInvalidRestriction",
      "Restrictions and sort order may not be specified for a CalendarView.",
    );
  }
  const restriction = restrictionElement ? readRestriction(restrictionElement) : null;
  const paging = indexedView ? readIndexedView(indexedView) : null;
  const parents = required(body, NS.m, "ParentFolderIds").children;
  return eachTarget("FindItem", parents, (id) => {
    const { mailbox, folder } = resolveFolder(id, ctx);
    let page: Page<ItemView>;
    if (calendarView) {
      if (folder.folderClass !== "IPF.Appointment") {
        throw new EwsError(
          "ErrorCalendarFolderIsInvalidForCalendarView",
          "CalendarView can only be used with calendar folders.",
        );
      }
      const from = dateAttribute(calendarView, "StartDate", ctx.timeZone);
      const to = dateAttribute(calendarView, "EndDate", ctx.timeZone);
      if (to < from) {
        throw new EwsError(
          "ErrorCalendarEndDateIsEarlierThanStartDate",
          "EndDate is earlier than StartDate",
        );
      }
      if (to - from > TWO_YEARS_DAYS * 86_400_000) {
        throw new EwsError(
          "ErrorCalendarViewRangeTooBig",
          "The specified view range exceeds the maximum range of two years.",
        );
      }
      const max = calendarView.attrs.MaxEntriesReturned;
      if (max !== undefined && !/^\d+$/.test(max)) {
        throw new SchemaViolation(`The 'MaxEntriesReturned' value '${max}' is invalid.`);
      }
      const views = mailbox.itemsIn(folder.object)
        .flatMap((item) => viewsInRange(item, from, to))
        .sort((a, b) => a.fields.start - b.fields.start || a.fields.end - b.fields.end);
      page = calendarPage(views, max === undefined ? null : Number(max), ctx.findCountLimit);
    } else {
      const views = mailbox.itemsIn(folder.object).map(itemView)
        .filter((view) => !restriction || restriction(itemLookup(view, mailbox)))
        .sort(sorter(sortOrder, mailbox));
      page = paging
        ? pageOf(views, paging, ctx.findCountLimit)
        : unpaged(views, ctx.findCountLimit);
    }
    ctx.record.itemCount += page.entries.length;
    const writeCtx: WriteContext = { mailbox, bodyType: shape.bodyType };
    return successMessage(
      "FindItem",
      el(
        "m:RootFolder",
        {
          IndexedPagingOffset: paging ? page.nextOffset : undefined,
          TotalItemsInView: page.total,
          IncludesLastItemInRange: page.includesLast,
        },
        el(
          "t:Items",
          {},
          ...page.entries.map((view) => writeItem(findSummary(view), shape, writeCtx, true)),
        ),
      ),
    );
  });
};
