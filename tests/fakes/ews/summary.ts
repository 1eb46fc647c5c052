/**
 * What `FindItem` returns of an item: a summary whose string values are cut to 255
 * characters. The FindItem operation reference
 * (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/finditem-operation)
 * says FindItem gives only the first 512 bytes of a streamable property, for Unicode the
 * first 255 characters (a null-terminated string of 256 UTF-16 units). `GetItem` returns
 * the full values; restrictions still compare the stored ones.
 *
 * @module
 */
import type { ExtendedValue, ItemView } from "./model.ts";

/** The most UTF-16 units of a string that `FindItem` returns. */
export const FIND_STRING_LIMIT = 255;

/**
 * A string as `FindItem` returns it. A high surrogate left alone at the cut is dropped,
 * since XML cannot carry half a character.
 */
export function cutForFind(value: string): string {
  if (value.length <= FIND_STRING_LIMIT) return value;
  const cut = value.slice(0, FIND_STRING_LIMIT);
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
}

function cutExtended(value: ExtendedValue): ExtendedValue {
  return value.uri.propertyType === "String"
    ? { uri: value.uri, values: value.values.map(cutForFind) }
    : value;
}

/**
 * The view of an item that `FindItem` writes: the string fields calendar searches return
 * (subject, location) and extended properties of type `String` cut to the limit.
 */
export function findSummary(view: ItemView): ItemView {
  const extended = new Map(
    [...view.item.extended].map(([key, value]) => [key, cutExtended(value)]),
  );
  return {
    ...view,
    item: { ...view.item, extended },
    fields: {
      ...view.fields,
      subject: cutForFind(view.fields.subject),
      location: cutForFind(view.fields.location),
    },
  };
}
