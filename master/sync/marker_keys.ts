/**
 * Occurrence keys back from markers that hold only a digest of them.
 *
 * A destination with `markerOf` (EWS) answers each owned item's marker digest as its
 * `key`. The reconciler works with keys, so before planning, every listed or read item
 * gets its key again by looking the digest up among the keys calsync knows: the desired
 * items and the status table. A digest of no known key stays as it is, still owned: a
 * stray, as any owned item nothing asks for.
 *
 * @module
 */
import type { Destination, RemoteItem } from "../destinations/types.ts";

/**
 * `destination` as the reconciler sees it: its items carry occurrence keys, whatever its
 * markers hold. Writes pass through unchanged. Without `markerOf` it is `destination`.
 */
export function keyedByMarker(destination: Destination, keys: Iterable<string>): Destination {
  const markerOf = destination.markerOf?.bind(destination);
  if (!markerOf) return destination;
  const byMarker = new Map<string, string>();
  for (const key of keys) byMarker.set(markerOf(key), key);
  const keyed = (item: RemoteItem): RemoteItem =>
    item.key === null ? item : { ...item, key: byMarker.get(item.key) ?? item.key };
  const getMany = destination.getMany?.bind(destination);
  return {
    id: destination.id,
    type: destination.type,
    displayUrl: destination.displayUrl,
    batch: destination.batch,
    hrefFor: destination.hrefFor?.bind(destination),
    changeToken: () => destination.changeToken(),
    list: async (options) => (await destination.list(options)).map(keyed),
    get: async (href) => {
      const item = await destination.get(href);
      return item === null ? null : keyed(item);
    },
    getMany: getMany && (async (hrefs) => (await getMany(hrefs)).map(keyed)),
    create: (item) => destination.create(item),
    update: (href, etag, item) => destination.update(href, etag, item),
    remove: (href, etag) => destination.remove(href, etag),
  };
}
