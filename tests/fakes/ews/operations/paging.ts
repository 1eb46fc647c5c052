/**
 * Indexed paging of `FindItem` and `FindFolder` (`IndexedPageItemView`,
 * `IndexedPageFolderView`) under the server's find-count limit. A paged request is never
 * refused for its size: Exchange returns at most the limit and says that more remain
 * (`IncludesLastItemInRange="false"`), so a client that pages gets everything.
 *
 * @module
 */
import { EwsError, SchemaViolation } from "../soap.ts";
import { text, type XmlElement } from "../xml.ts";
import { enumAttribute } from "./common.ts";

/** An indexed view: how many, from where. */
export interface IndexedView {
  max: number | null;
  offset: number;
  basePoint: "Beginning" | "End";
}

/** One page of results with the attributes of `m:RootFolder`. */
export interface Page<T> {
  entries: T[];
  /** `IndexedPagingOffset`: where the next page starts. */
  nextOffset: number;
  total: number;
  includesLast: boolean;
}

function integer(element: XmlElement, name: string): number | null {
  const value = element.attrs[name];
  if (value === undefined) return null;
  if (!/^-?\d+$/.test(value)) {
    throw new SchemaViolation(
      `The '${name}' attribute is invalid - The value '${value}' is invalid.`,
    );
  }
  return Number(value);
}

/** Reads an `IndexedPage…View`. */
export function readIndexedView(element: XmlElement): IndexedView {
  const max = integer(element, "MaxEntriesReturned");
  const offset = integer(element, "Offset");
  if (offset === null) throw new SchemaViolation("The required attribute 'Offset' is missing.");
  if (max !== null && max <= 0) {
    throw new EwsError("ErrorInvalidPagingMaxRows", "The MaxEntriesReturned value is invalid.");
  }
  if (offset < 0) {
    throw new EwsError(
      "ErrorInvalidIndexedPagingParameters",
      "The paging parameters are invalid: the offset is negative.",
    );
  }
  return { max, offset, basePoint: enumAttribute(element, "BasePoint", ["Beginning", "End"]) };
}

/**
 * The page of `all` a view selects, at most `limit` entries. From the end, the offset
 * counts back from the last entry and the page ends there, as Exchange pages backwards.
 */
export function pageOf<T>(all: T[], view: IndexedView, limit: number): Page<T> {
  const size = Math.min(view.max ?? limit, limit);
  if (view.basePoint === "Beginning") {
    const entries = all.slice(view.offset, view.offset + size);
    const nextOffset = Math.min(view.offset, all.length) + entries.length;
    return { entries, nextOffset, total: all.length, includesLast: nextOffset >= all.length };
  }
  const end = Math.max(all.length - view.offset, 0);
  const start = Math.max(end - size, 0);
  return {
    entries: all.slice(start, end),
    nextOffset: all.length - start,
    total: all.length,
    includesLast: start === 0,
  };
}

/** A search without paging must fit the find-count limit, or it fails as a whole. */
export function unpaged<T>(found: T[], limit: number): Page<T> {
  if (found.length > limit) throw findCountExceeded(limit);
  return { entries: found, nextOffset: found.length, total: found.length, includesLast: true };
}

/** `ErrorExceededFindCountLimit` with the policy limit in `MessageXml`, as Exchange writes it. */
export function findCountExceeded(limit: number): EwsError {
  return new EwsError(
    "ErrorExceededFindCountLimit",
    "You have exceeded the maximum number of objects that can be returned for the find " +
      "operation. Use paging to reduce the result size and try your request again.",
    text("t:Value", limit, { Name: "PolicyLimit" }),
  );
}
