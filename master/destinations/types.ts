/**
 * The destination interface, one small surface in the manner of vdirsyncer's storages:
 * list, get, create, update and delete with etags. CalDAV, EWS and the in-memory test
 * destination implement it; the reconciler depends on nothing else.
 *
 * @module
 */
import type { Occurrence } from "../../shared/model.ts";
import { isRetryable, type RemoteErrorKind } from "../../shared/remote_error.ts";

/**
 * One consolidated item as calsync writes it. `uid` and the resource name derive from
 * `key`, so a retried write lands on the same resource and never duplicates.
 */
export type DestinationItem = {
  /** The occurrence key `(uid, recurrence_id)` as `occurrenceKey` writes it. */
  key: string;
  /** The UID written to the destination: `calsync-` and a hash of `key`. */
  uid: string;
  /** Content hash of `event`; written as part of the calsync marker. */
  hash: string;
  /** What to write: the consolidated occurrence after privacy and labels. */
  event: Occurrence;
  /**
   * When the master last stored a change of an occurrence behind the item (ISO), null or
   * absent when unknown; the ICS feed's DTSTAMP.
   */
  changed_at?: string | null;
};

/** An item found in the destination. `key` is null for items calsync does not own. */
export type RemoteItem = {
  href: string;
  etag: string | null;
  /**
   * From the calsync marker (see {@link Destination.markerOf}); null means foreign:
   * never modified, never deleted.
   */
  key: string | null;
  /** The content hash in the calsync marker; null (also when owned) counts as changed. */
  hash: string | null;
};

/** Why a destination operation failed. */
export type DestinationErrorKind = RemoteErrorKind;

/** A failed destination operation; `retryAfterMs` comes from `Retry-After` or the server. */
export class DestinationError extends Error {
  /** `kind` says what went wrong; `retryAfterMs` when the server asked to wait. */
  constructor(
    readonly kind: DestinationErrorKind,
    message: string,
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
    this.name = "DestinationError";
  }

  /** Whether trying again later may succeed. */
  get retryable(): boolean {
    return isRetryable(this.kind);
  }
}

/** The outcome of one item of a batch: its value, or why it failed. */
export type ItemResult<T> = { ok: true; value: T } | { ok: false; error: DestinationError };

/** One update of a batch. */
export type UpdateRequest = { href: string; etag: string | null; item: DestinationItem };

/** One removal of a batch. */
export type RemoveRequest = { href: string; etag: string | null };

/**
 * Writes many items per request, for servers that take batches (EWS). Each method
 * answers one result per input, in order; a failure of the request as a whole (server
 * busy, unreachable) is thrown instead.
 */
export interface BatchWrites {
  /** The largest number of items one request carries. */
  readonly batchSize: number;
  createBatch(
    items: DestinationItem[],
  ): Promise<ItemResult<{ href: string; etag: string | null }>[]>;
  updateBatch(requests: UpdateRequest[]): Promise<ItemResult<{ etag: string | null }>[]>;
  removeBatch(requests: RemoveRequest[]): Promise<ItemResult<void>[]>;
}

/** A calendar calsync writes into. */
export interface Destination {
  /** Configured id, unique among destinations. */
  readonly id: string;
  /** `caldav`, `ews`, `memory`. */
  readonly type: string;
  /** Where it is, without credentials, for status and logs. */
  readonly displayUrl: string;
  /**
   * A token that changes whenever the collection changes (CalDAV `getctag` or sync-token),
   * read with one small request; null when the server offers none.
   */
  changeToken(): Promise<string | null>;
  /**
   * Every item in the destination, owned or not, with its etag and marker. A destination
   * may answer from what it remembers of an earlier listing plus what changed since;
   * `fresh` reads everything again.
   */
  list(options?: { fresh?: boolean }): Promise<RemoteItem[]>;
  /** One item, or null when there is none at `href`. */
  get(href: string): Promise<RemoteItem | null>;
  /**
   * The items at `hrefs` that exist, in fewer requests than one `get` each, for servers
   * that can (CalDAV calendar-multiget).
   */
  getMany?(hrefs: readonly string[]): Promise<RemoteItem[]>;
  /**
   * The deterministic location of an item, derived from its key, for servers where the
   * client names resources (CalDAV). Where the server names them (EWS) there is none:
   * an item written just before a crash is found again by its marker when listing.
   */
  hrefFor?(item: DestinationItem): string;
  /**
   * What the ownership marker holds for `key`, for servers that cannot give a long key
   * back whole (EWS: FindItem cuts strings at 255 characters, so the marker is a digest).
   * `list`, `get` and `getMany` then answer that as each item's `key`, and the reconciler
   * matches it against the keys it knows. Without it the marker holds the key itself.
   */
  markerOf?(key: string): string;
  /**
   * Creates the item; with `hrefFor`, only if nothing is at that location yet
   * (else `precondition_failed`).
   */
  create(item: DestinationItem): Promise<{ href: string; etag: string | null }>;
  /** Replaces the item at `href` only if its etag is still `etag`. */
  update(
    href: string,
    etag: string | null,
    item: DestinationItem,
  ): Promise<{ etag: string | null }>;
  /** Deletes the item at `href` only if its etag is still `etag`; gone already is success. */
  remove(href: string, etag: string | null): Promise<void>;
  /** Batch writes, for destinations whose server takes them. */
  readonly batch?: BatchWrites;
}
