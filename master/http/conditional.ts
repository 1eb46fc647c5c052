/**
 * Conditional GET: whether an `If-None-Match` header matches the current entity tag,
 * compared as RFC 9110 §13.1.2 says: weakly (`W/"x"` and `"x"` are the same tag), and
 * `*` matches any current representation.
 *
 * @module
 */

/** The opaque part of an entity tag, without `W/` and quotes; null when it is no tag. */
function opaqueTag(tag: string): string | null {
  const match = /^(?:W\/)?"([^"]*)"$/.exec(tag.trim());
  return match ? match[1] : null;
}

/**
 * True when the `If-None-Match` value names `etag` (weak comparison) or is `*`: the client
 * holds the current representation, so a GET answers 304.
 *
 * @example
 * ```ts
 * ifNoneMatchHits('"abc"', 'W/"abc"'); // true
 * ifNoneMatchHits("*", 'W/"abc"'); // true
 * ```
 */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === "*") return true;
  const current = opaqueTag(etag);
  // Entity tags contain no commas (RFC 9110 §8.8.3), so the list splits on them.
  return header.split(",").some((tag) => {
    const sent = opaqueTag(tag);
    return sent !== null && sent === current;
  });
}
