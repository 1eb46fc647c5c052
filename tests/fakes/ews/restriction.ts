/**
 * `m:Restriction` of `FindItem` and `FindFolder`: the search expressions EWS clients send
 * (`And`, `Or`, `Not`, `Exists`, the comparisons and `Contains`) on field URIs and extended
 * properties, evaluated the way a store query does: a comparison with a property the
 * object does not have is false, and strings compare without regard to case.
 *
 * @module
 */
import type { ExtendedUri } from "./model.ts";
import { type Comparable, readExtendedUri } from "./properties.ts";
import { EwsError, NS, SchemaViolation } from "./soap.ts";
import { parseDateTime } from "./timezones.ts";
import { child, type XmlElement } from "./xml.ts";

/** A property a restriction names. */
export type PropertyPath = { kind: "field"; uri: string } | { kind: "extended"; uri: ExtendedUri };

/** Gives the value of a property of the object being tested, undefined when it has none. */
export type Lookup = (path: PropertyPath) => Comparable | undefined;

/** A compiled restriction. */
export type Restriction = (lookup: Lookup) => boolean;

const COMPARISONS: Record<string, (order: number) => boolean> = {
  IsEqualTo: (order) => order === 0,
  IsNotEqualTo: (order) => order !== 0,
  IsGreaterThan: (order) => order > 0,
  IsGreaterThanOrEqualTo: (order) => order >= 0,
  IsLessThan: (order) => order < 0,
  IsLessThanOrEqualTo: (order) => order <= 0,
};

function readPath(expression: XmlElement): PropertyPath {
  const path = expression.children.find((c) =>
    c.ns === NS.t && ["FieldURI", "ExtendedFieldURI", "IndexedFieldURI"].includes(c.name)
  );
  if (!path) throw new SchemaViolation(`The element '${expression.name}' needs a property path.`);
  if (path.name === "ExtendedFieldURI") return { kind: "extended", uri: readExtendedUri(path) };
  if (path.name === "IndexedFieldURI") {
    throw new EwsError("ErrorInvalidRestriction", "Indexed properties cannot be searched here.");
  }
  return { kind: "field", uri: path.attrs.FieldURI ?? "" };
}

function readConstant(expression: XmlElement, container: string): string {
  const holder = container === "" ? expression : child(expression, NS.t, container);
  const constant = holder && child(holder, NS.t, "Constant");
  if (!constant) {
    throw new EwsError(
      "ErrorInvalidRestriction",
      "Restrictions can only compare a property with a constant.",
    );
  }
  return constant.attrs.Value ?? "";
}

/** Orders a property value against a constant; null when they cannot be compared. */
function order(value: Exclude<Comparable, string[]>, constant: string): number | null {
  if (typeof value === "number") {
    const other = /^\d{4}-\d{2}-\d{2}T/.test(constant)
      ? parseDateTime(constant, "UTC")
      : Number(constant);
    return other === null || Number.isNaN(other) ? null : Math.sign(value - other);
  }
  if (typeof value === "boolean") {
    if (!["true", "false"].includes(constant.toLowerCase())) return null;
    return value === (constant.toLowerCase() === "true") ? 0 : 1;
  }
  return Math.sign(value.toLowerCase().localeCompare(constant.toLowerCase()));
}

function compare(test: (order: number) => boolean, value: Comparable, constant: string): boolean {
  const values = Array.isArray(value) ? value : [value];
  return values.some((v) => {
    const result = order(v, constant);
    return result !== null && test(result);
  });
}

function contains(expression: XmlElement, path: PropertyPath): Restriction {
  const constant = readConstant(expression, "");
  const mode = expression.attrs.ContainmentMode ?? "FullString";
  const exact = (expression.attrs.ContainmentComparison ?? "Exact") === "Exact";
  const norm = (s: string) => exact ? s : s.toLowerCase();
  const wanted = norm(constant);
  const test = (s: string) =>
    mode === "FullString"
      ? s === wanted
      : mode === "Prefixed"
      ? s.startsWith(wanted)
      : mode === "PrefixOnWords"
      ? s.split(/\s+/).some((word) => word.startsWith(wanted))
      : s.includes(wanted);
  return (lookup) => {
    const value = lookup(path);
    const values = Array.isArray(value) ? value : value === undefined ? [] : [String(value)];
    return values.some((v) => test(norm(v)));
  };
}

function compile(expression: XmlElement): Restriction {
  const name = expression.name;
  if (name === "And" || name === "Or") {
    const parts = expression.children.map(compile);
    return name === "And"
      ? (lookup) => parts.every((part) => part(lookup))
      : (lookup) => parts.some((part) => part(lookup));
  }
  if (name === "Not") {
    if (expression.children.length !== 1) throw new SchemaViolation("'Not' takes one expression.");
    const inner = compile(expression.children[0]);
    return (lookup) => !inner(lookup);
  }
  if (name === "Exists") {
    const path = readPath(expression);
    return (lookup) => lookup(path) !== undefined;
  }
  if (name === "Contains") return contains(expression, readPath(expression));
  const test = COMPARISONS[name];
  if (!test) {
    throw new SchemaViolation(`The element '${name}' is not a valid search expression.`);
  }
  const path = readPath(expression);
  const constant = readConstant(expression, "FieldURIOrConstant");
  return (lookup) => {
    const value = lookup(path);
    return value !== undefined && compare(test, value, constant);
  };
}

/** Compiles an `m:Restriction` (which holds exactly one search expression). */
export function readRestriction(restriction: XmlElement): Restriction {
  if (restriction.children.length !== 1 || restriction.children[0].ns !== NS.t) {
    throw new SchemaViolation("The element 'Restriction' must hold one search expression.");
  }
  return compile(restriction.children[0]);
}
