/**
 * What the Microsoft 365 destination remembers of its calendar between reconciles, so an
 * unchanged calendar costs one small delta request instead of a listing: every item seen
 * (by a listing, a read or calsync's own write) with its etag, its marker and whether it
 * has attendees, whether that is the whole calendar (after a full listing), and which
 * items a delta round reported changed and must be read again. Pure bookkeeping; the
 * destination does the requests.
 *
 * calsync writes single events only. Delta reports occurrences and exceptions of a series
 * by their own ids with the series' `seriesMasterId`: a change to one counts as a change
 * to its master, and a series calsync has not seen is someone else's.
 *
 * @module
 */
import type { RemoteItem } from "../types.ts";

/** One item as last seen. */
export interface SeenItem extends RemoteItem {
  /** It has attendees (someone made calsync's copy a meeting): writing it would mail them. */
  meeting: boolean;
}

/** One entry of a delta page: a changed event, or `removed`. */
export interface DeltaEntry {
  id: string;
  etag: string | null;
  seriesMasterId: string | null;
  removed: boolean;
}

/** The remembered state of one calendar. */
export class Listing {
  readonly #items = new Map<string, SeenItem>();
  readonly #dirty = new Set<string>();
  #complete = false;
  #version = 0;

  /** Whether the items are the whole calendar (a full listing was read). */
  get complete(): boolean {
    return this.#complete;
  }

  /** Changes each time what is remembered changes, by calsync's writes or anyone's. */
  get version(): number {
    return this.#version;
  }

  /** Ids a delta round reported changed, to read again before the next listing answers. */
  dirty(): string[] {
    return [...this.#dirty];
  }

  /** The item last seen at `href`, if any. */
  seen(href: string): SeenItem | undefined {
    return this.#items.get(href);
  }

  /**
   * Replaces everything by a full listing. The version stays: a listing shows what is
   * there without changing it, and whatever changed since the delta round began (which
   * the destination starts before listing) is reported by that round.
   */
  replace(items: SeenItem[]): void {
    this.#items.clear();
    this.#dirty.clear();
    for (const item of items) this.#items.set(item.href, item);
    this.#complete = true;
  }

  /** Forgets everything: the next listing reads the whole calendar again. */
  forget(): void {
    this.#items.clear();
    this.#dirty.clear();
    this.#complete = false;
    this.#version++;
  }

  /**
   * Notes an item as read now (null: nothing is at `href`). Only a difference from what
   * was seen before changes the version; a first sight only adds to what is known.
   */
  noteRead(href: string, item: SeenItem | null): void {
    this.#dirty.delete(href);
    const before = this.#items.get(href);
    if (before !== undefined && (item === null || before.etag !== item.etag)) this.#version++;
    if (item === null) this.#items.delete(href);
    else this.#items.set(href, item);
  }

  /** Notes calsync's own write at `href` (null: deleted), which changes the calendar. */
  noteWrite(href: string, item: SeenItem | null): void {
    this.#dirty.delete(href);
    this.#version++;
    if (item === null) this.#items.delete(href);
    else this.#items.set(href, item);
  }

  /**
   * Takes one delta page: an event removed is forgotten; one changed is marked to read
   * again unless it is as last seen (the etag calsync's own write returned, say). Before
   * a full listing anything reported counts as a change.
   */
  apply(entries: readonly DeltaEntry[]): void {
    for (const entry of entries) {
      if (entry.seriesMasterId !== null && entry.seriesMasterId !== entry.id) {
        if (this.#items.has(entry.seriesMasterId)) this.#mark(entry.seriesMasterId);
        continue;
      }
      if (entry.removed) {
        this.#dirty.delete(entry.id);
        if (this.#items.delete(entry.id) || !this.#complete) this.#version++;
        continue;
      }
      const before = this.#items.get(entry.id);
      if (before !== undefined && entry.etag !== null && before.etag === entry.etag) continue;
      this.#mark(entry.id);
    }
  }

  #mark(id: string): void {
    if (!this.#dirty.has(id)) this.#version++;
    this.#dirty.add(id);
  }

  /** The remembered items, owned and foreign, for a listing. */
  items(): RemoteItem[] {
    return [...this.#items.values()].map(({ href, etag, key, hash }) => ({
      href,
      etag,
      key,
      hash,
    }));
  }
}
