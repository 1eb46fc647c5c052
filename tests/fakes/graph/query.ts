/**
 * The query options and preferences Graph's calendar endpoints take: `Prefer:
 * outlook.timezone="..."` and `Prefer: odata.maxpagesize=n`, `$top`, `$select`, `$expand`
 * of `singleValueExtendedProperties`, and the one `$filter` form the stand-in evaluates,
 * `singleValueExtendedProperties/Any(ep: ep/id eq '...' and ep/value eq '...')` ("Get
 * singleValueLegacyExtendedProperty",
 * https://learn.microsoft.com/en-us/graph/api/singlevaluelegacyextendedproperty-get?view=graph-rest-1.0).
 *
 * @module
 */
import { badRequest } from "./errors.ts";
import { parseSelect, type Shape } from "./shape.ts";
import type { StoredEvent } from "./store.ts";
import { ianaOf } from "./zones.ts";

/** The preferences of a `Prefer` header that the stand-in honours. */
export interface Preferences {
  /** `outlook.timezone`, when given and known. */
  timeZone: string | null;
  /** `odata.maxpagesize`, when given. */
  maxPageSize: number | null;
}

/** Reads the `Prefer` header(s): comma-separated preferences, values possibly quoted. */
export function preferences(headers: Headers): Preferences {
  const found: Preferences = { timeZone: null, maxPageSize: null };
  for (const part of (headers.get("prefer") ?? "").split(",")) {
    const [name, ...rest] = part.split("=");
    const value = rest.join("=").trim().replace(/^"(.*)"$/, "$1");
    const key = name.trim().toLowerCase();
    if (key === "outlook.timezone" && ianaOf(value) !== null) found.timeZone = value;
    if (key === "odata.maxpagesize" && /^\d+$/.test(value)) found.maxPageSize = Number(value);
  }
  return found;
}

/** The `Preference-Applied` header for the preferences a response honoured. */
export function preferenceApplied(prefs: Preferences, pageSizeApplied: boolean): string | null {
  const applied = [];
  if (prefs.timeZone) applied.push(`outlook.timezone="${prefs.timeZone}"`);
  if (pageSizeApplied && prefs.maxPageSize !== null) {
    applied.push(`odata.maxpagesize=${prefs.maxPageSize}`);
  }
  return applied.length ? applied.join(", ") : null;
}

/** Reads `$expand`; only `singleValueExtendedProperties` (with an optional `id eq` filter). */
export function parseExpand(value: string | null): string[] | null {
  if (value === null) return null;
  const match = value.trim().match(
    /^singleValueExtendedProperties(?:\(\$filter=(.*)\))?$/i,
  );
  if (!match) {
    throw badRequest(`Parsing OData Select and Expand failed: '${value}' is not expandable.`);
  }
  if (match[1] === undefined) return [];
  return match[1].split(/\s+or\s+/i).map((clause) => {
    const id = clause.trim().match(/^id eq '((?:[^']|'')*)'$/i);
    if (!id) throw badRequest(`The stand-in cannot evaluate the $expand filter '${clause}'.`);
    return id[1].replace(/''/g, "'");
  });
}

/** The response shape a request asks for. */
export function shapeOf(url: URL, prefs: Preferences): Shape {
  return {
    zone: prefs.timeZone ?? "UTC",
    select: parseSelect(url.searchParams.get("$select")),
    expandExtended: parseExpand(url.searchParams.get("$expand")),
  };
}

/** A compiled `$filter`: which stored events pass. */
export type EventFilter = (event: StoredEvent) => boolean;

const ANY = new RegExp(
  String.raw`^singleValueExtendedProperties/any\((\w+):\s*\1/id eq '((?:[^']|'')*)'\s+and\s+` +
    String.raw`\1/value eq '((?:[^']|'')*)'\)$`,
  "i",
);

/** Compiles `$filter`; null when absent, 400 for a form the stand-in does not evaluate. */
export function parseFilter(value: string | null): EventFilter | null {
  if (value === null) return null;
  const match = value.trim().match(ANY);
  if (!match) {
    throw badRequest(
      `The stand-in evaluates only singleValueExtendedProperties/Any(ep: ep/id eq '...' and ` +
        `ep/value eq '...'), not '${value}'.`,
    );
  }
  const id = match[2].replace(/''/g, "'").toLowerCase();
  const wanted = match[3].replace(/''/g, "'");
  return (event) => event.extended.some((p) => p.id!.toLowerCase() === id && p.value === wanted);
}

/** Reads `$top` (1…1000 for Outlook collections). */
export function parseTop(value: string | null): number | null {
  if (value === null) return null;
  const top = Number(value);
  if (!Number.isInteger(top) || top < 1) {
    throw badRequest(`Invalid value '${value}' for $top query option.`, "BadRequest");
  }
  return Math.min(top, 1000);
}
