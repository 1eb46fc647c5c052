/**
 * Response shapes: which properties an answer carries, from `BaseShape` (`IdOnly`,
 * `Default`, `AllProperties`) plus `AdditionalProperties`, and the writing of an item in
 * that shape. `FindItem` cannot return the properties Exchange keeps out of searches (the
 * body, attendee lists, occurrence lists): asking for one fails with
 * `ErrorInvalidPropertyRequest`, and `AllProperties` leaves them out.
 *
 * @module
 */
import { extendedKey, type ExtendedUri, type ItemView } from "./model.ts";
import {
  ITEM_PROPERTIES,
  type ItemProperty,
  propertyOf,
  readExtendedUri,
  type WriteContext,
  writeExtendedProperty,
} from "./properties.ts";
import { EwsError, NS, SchemaViolation } from "./soap.ts";
import { child, el, type XmlElement } from "./xml.ts";

/** What a request asked to get back for each item. */
export interface ItemShape {
  base: "IdOnly" | "Default" | "AllProperties";
  bodyType: "Best" | "Text" | "HTML";
  additional: ItemProperty[];
  extended: ExtendedUri[];
}

const FIELD_URI = /^[a-zA-Z]+:[A-Za-z0-9]+$/;

function readEnumElement<T extends string>(
  element: XmlElement | undefined,
  values: readonly T[],
  fallback: T | undefined,
  type: string,
): T {
  const value = (element?.text.trim() ?? fallback) as T | undefined;
  if (value === undefined || !values.includes(value)) {
    throw new SchemaViolation(
      `The '${element?.name ?? type}' value '${value ?? ""}' is invalid according to its ` +
        `datatype '${NS.t}:${type}'.`,
    );
  }
  return value;
}

/** Reads an `m:ItemShape`; `forFind` applies the limits of `FindItem`. */
export function readItemShape(element: XmlElement | undefined, forFind: boolean): ItemShape {
  if (!element) throw new SchemaViolation("The element 'ItemShape' is missing.");
  const shape: ItemShape = {
    base: readEnumElement(
      child(element, NS.t, "BaseShape"),
      ["IdOnly", "Default", "AllProperties"] as const,
      undefined,
      "DefaultShapeNamesType",
    ),
    bodyType: readEnumElement(
      child(element, NS.t, "BodyType"),
      ["Best", "Text", "HTML"] as const,
      "Best",
      "BodyTypeResponseType",
    ),
    additional: [],
    extended: [],
  };
  for (const path of child(element, NS.t, "AdditionalProperties")?.children ?? []) {
    if (path.name === "ExtendedFieldURI") {
      shape.extended.push(readExtendedUri(path));
    } else if (path.name === "FieldURI") {
      const uri = path.attrs.FieldURI ?? "";
      if (!FIELD_URI.test(uri)) {
        throw new SchemaViolation(
          `The 'FieldURI' attribute is invalid - The value '${uri}' is invalid.`,
        );
      }
      // A valid URI of another item type (message:From…) is simply not on calendar items.
      const property = propertyOf(uri);
      if (property && forFind && !property.findable) {
        throw new EwsError(
          "ErrorInvalidPropertyRequest",
          `The property '${uri}' can't be used in FindItem requests.`,
        );
      }
      if (property) shape.additional.push(property);
    } else if (path.name !== "IndexedFieldURI") {
      throw new SchemaViolation(
        `The element 'AdditionalProperties' has invalid child '${path.name}'.`,
      );
    }
  }
  return shape;
}

function included(property: ItemProperty, shape: ItemShape, forFind: boolean): boolean {
  if (forFind && !property.findable) return false;
  if (property.uri === "item:ItemId" || shape.additional.includes(property)) return true;
  if (shape.base === "Default") return property.shape === "Default";
  return shape.base === "AllProperties" && property.shape !== "explicit";
}

/** Writes one item as a `t:CalendarItem` in a shape. */
export function writeItem(
  view: ItemView,
  shape: ItemShape,
  ctx: WriteContext,
  forFind: boolean,
): string {
  const parts: string[] = [];
  for (const property of ITEM_PROPERTIES) {
    if (included(property, shape, forFind)) {
      const markup = property.write(view, ctx);
      if (markup !== null) parts.push(markup);
    }
    if (property.element === "HasAttachments") {
      for (const uri of shape.extended) {
        const value = view.item.extended.get(extendedKey(uri));
        if (value) parts.push(writeExtendedProperty(value));
      }
    }
  }
  return el("t:CalendarItem", {}, ...parts);
}
