/**
 * The calsync marker on a Microsoft 365 event: two single-value extended properties in
 * calsync's own MAPI property set, the same named properties the EWS destination writes
 * (`CalsyncId`, a 43-character digest of the occurrence key, and `CalsyncHash`, the
 * content hash; see `shared/ews/appointment.ts`). So a copy written through EWS to a
 * mailbox that later moved to Exchange Online is still recognised as calsync's.
 *
 * Graph names such a property `String {guid} Name CalsyncId` and returns it only when
 * asked with `$expand=singleValueExtendedProperties($filter=id eq '…')` ("Get
 * singleValueLegacyExtendedProperty",
 * https://learn.microsoft.com/en-us/graph/api/singlevaluelegacyextendedproperty-get?view=graph-rest-1.0).
 *
 * @module
 */
import type { SingleValueLegacyExtendedProperty } from "@microsoft/microsoft-graph-types";
import { CALSYNC_PROPERTY_SET, markerOf } from "../../../shared/marker.ts";

/** The extended property holding the digest of the occurrence key. */
export const ID_PROPERTY = `String {${CALSYNC_PROPERTY_SET}} Name CalsyncId`;

/** The extended property holding the content hash. */
export const HASH_PROPERTY = `String {${CALSYNC_PROPERTY_SET}} Name CalsyncHash`;

/** The `$expand` value that returns both marker properties and nothing else. */
export const MARKER_EXPAND =
  `singleValueExtendedProperties($filter=id eq '${ID_PROPERTY}' or id eq '${HASH_PROPERTY}')`;

/** What the marker of a written item holds. */
export interface Marker {
  /** {@link markerOf} of the occurrence key. */
  id: string;
  hash: string;
}

/** The marker properties to write for `key` and `hash`. */
export function markerProperties(key: string, hash: string): SingleValueLegacyExtendedProperty[] {
  return [{ id: ID_PROPERTY, value: markerOf(key) }, { id: HASH_PROPERTY, value: hash }];
}

/**
 * The marker of an event as Graph returned it with {@link MARKER_EXPAND}, or null when it
 * lacks either property (foreign). Graph may spell the property id in another letter
 * case than it was written, so ids compare case-insensitively.
 */
export function readMarker(
  properties: readonly SingleValueLegacyExtendedProperty[] | null | undefined,
): Marker | null {
  const value = (name: string) =>
    properties?.find((p) => p.id?.toLowerCase() === name.toLowerCase())?.value ?? null;
  const id = value(ID_PROPERTY);
  const hash = value(HASH_PROPERTY);
  return id === null || hash === null ? null : { id, hash };
}

export { markerOf };
