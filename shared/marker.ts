/**
 * The parts of calsync's ownership marker that Exchange over EWS and Microsoft 365 over
 * Graph share, without either client library: a copy written through one is recognised
 * through the other, as a mailbox moves from on-premises Exchange to Exchange Online.
 *
 * @module
 */
import { createHash } from "node:crypto";

/**
 * calsync's MAPI property set: the namespace of the marker's named properties. A GUID
 * made once for calsync; never change it, or every item written before looks foreign.
 */
export const CALSYNC_PROPERTY_SET = "9c7db95a-d0a7-4a78-9d5d-af0c6db8e46d";

/**
 * What the marker holds for an occurrence key: its SHA-256 in base64url, 43 characters
 * whatever the key's length.
 */
export function markerOf(key: string): string {
  return createHash("sha256").update(key).digest("base64url");
}
