/**
 * CalDAV destination: one calendar collection (mailcow/SOGo, Nextcloud, Radicale, …)
 * holding one VEVENT resource per consolidated occurrence.
 *
 * Each resource is `<collection>/<uid>.ics`, where the UID is `calsync-` and a hash of
 * the occurrence key, so a retried create lands on its own earlier write instead of
 * duplicating it (even on SOGo, which ignores `If-None-Match: *`). The VEVENT is
 * standalone (no RECURRENCE-ID) and carries the calsync marker `X-CALSYNC-KEY` (the
 * occurrence key) and `X-CALSYNC-HASH` (its content hash); anything without both the
 * `calsync-` UID and the key is foreign and never touched.
 *
 * Copies are inert: no ORGANIZER, ATTENDEE, METHOD or VALARM, which would make the
 * server schedule (mail attendees, write into colleagues' calendars) or ring.
 *
 * Listing keeps a copy of what the collection held in memory and asks only for what
 * changed since: RFC 6578 sync-collection where the server has it, else a PROPFIND of
 * etags; then the data of changed members alone, with calendar-multiget. Neither
 * depends on calendar-query filters, which servers answer differently.
 *
 * @module
 */
import {
  CalDavClient,
  CalDavError,
  type FetchLike,
  type MemberEtag,
} from "../../shared/caldav/client.ts";
import { inertCopy } from "../../shared/inert_copy.ts";
import { generateIcs } from "../../shared/ics/generate.ts";
import { parseComponents } from "../../shared/ics/syntax.ts";
import { unescapeText } from "../../shared/ics/values.ts";
import {
  type Destination,
  DestinationError,
  type DestinationItem,
  type RemoteItem,
} from "./types.ts";

/** Property holding the occurrence key of an item calsync wrote. */
export const KEY_PROPERTY = "X-CALSYNC-KEY";
/** Property holding the content hash of an item calsync wrote. */
export const HASH_PROPERTY = "X-CALSYNC-HASH";
/** Prefix of the UIDs calsync gives the items it writes. */
export const UID_PREFIX = "calsync-";

/** How to reach the calendar. */
export interface CalDavDestinationOptions {
  /** Configured id of the destination. */
  id: string;
  /** The calendar collection, or a server URL whose user has exactly one calendar. */
  url: string;
  username: string;
  password: string;
  /** Default: the runtime's `fetch`. */
  fetch?: FetchLike;
  /** Limit for each request; default 30 s. */
  timeoutMs?: number;
  /**
   * How long after its last write the destination waits before reading the change
   * token; default 1.1 s, because SOGo's tokens move in whole seconds and a token read
   * in the second of a write could stay put through a later change in that second.
   */
  tokenSettleMs?: number;
}

/** The calsync marker of iCalendar data, or null when calsync does not own it. */
export function readMarker(data: string): { key: string; hash: string | null } | null {
  try {
    const events = parseComponents(data).flatMap((calendar) =>
      calendar.components.filter((c) => c.name === "VEVENT")
    );
    // calsync writes exactly one VEVENT per resource; anything else was made by others.
    if (events.length !== 1) return null;
    const value = (name: string) => {
      const property = events[0].properties.find((p) => p.name === name);
      return property === undefined ? null : unescapeText(property.value);
    };
    const uid = value("UID")?.trim() ?? "";
    const key = value(KEY_PROPERTY);
    if (!uid.startsWith(UID_PREFIX) || key === null) return null;
    return { key, hash: value(HASH_PROPERTY) };
  } catch {
    // Data that cannot be read cannot carry our marker: foreign, listed and left alone.
    return null;
  }
}

/**
 * The resource calsync writes for `item`: one standalone, inert VEVENT (organizer and
 * attendees in the description) with the marker.
 */
export function renderItem(item: DestinationItem): string {
  return generateIcs([{ ...inertCopy(item.event), uid: item.uid, recurrence_id: null }], {
    extraProperties: () => ({ [KEY_PROPERTY]: item.key, [HASH_PROPERTY]: item.hash }),
  });
}

/** Runs `operation`, turning CalDAV failures into {@link DestinationError}s. */
async function translated<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof CalDavError) {
      throw new DestinationError(error.kind, error.message, error.retryAfterMs);
    }
    throw error;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

class CalDavDestination implements Destination {
  readonly type = "caldav";
  readonly displayUrl: string;
  /** What the collection held when last listed, by href, kept up to date by own writes. */
  readonly #mirror = new Map<string, RemoteItem>();
  /** The sync-token the mirror is at; null before the first sync-collection. */
  #syncToken: string | null = null;
  /** Whether the server answers sync-collection; null until tried. */
  #canSync: boolean | null = null;
  /** `performance.now()` of the last write. */
  #lastWrite = -Infinity;
  /** Hrefs whose data is known to hold no organizer or attendee (see `#disarmed`). */
  readonly #inert = new Set<string>();

  constructor(
    readonly id: string,
    private readonly client: CalDavClient,
    private readonly tokenSettleMs: number,
  ) {
    this.displayUrl = client.collectionUrl;
  }

  changeToken(): Promise<string | null> {
    return translated(async () => {
      const wait = this.#lastWrite + this.tokenSettleMs - performance.now();
      if (wait > 0) await sleep(wait);
      return await this.client.changeToken();
    });
  }

  list(options: { fresh?: boolean } = {}): Promise<RemoteItem[]> {
    return translated(async () => {
      if (options.fresh) {
        this.#mirror.clear();
        this.#inert.clear();
        this.#syncToken = null;
      }
      const { changed, removed } = await this.#changes();
      for (const href of removed) {
        this.#mirror.delete(href);
        this.#inert.delete(href);
      }
      const stale = changed
        .filter((m) => m.etag === null || this.#mirror.get(m.href)?.etag !== m.etag)
        .map((m) => m.href);
      for (const href of stale) this.#mirror.delete(href);
      for (const o of await this.client.getObjects(stale)) {
        this.#mirror.set(o.href, remoteItem(o.href, o.etag, o.data));
        if (withoutScheduling(o.data) === o.data) this.#inert.add(o.href);
        else this.#inert.delete(o.href);
      }
      return [...this.#mirror.values()];
    });
  }

  /**
   * What changed since the mirror was made: a sync-collection delta, or a full listing
   * of etags compared with the mirror where the server has no sync-collection (or
   * refused the token).
   */
  async #changes(): Promise<{ changed: MemberEtag[]; removed: string[] }> {
    if (this.#canSync !== false) {
      try {
        const delta = await this.client.syncCollection(this.#syncToken);
        this.#canSync = true;
        if (delta !== null) {
          this.#syncToken = delta.token;
          return delta;
        }
        // The token was refused: start over from an empty mirror with a new token.
        this.#mirror.clear();
        this.#syncToken = null;
        return await this.#changes();
      } catch (error) {
        const unsupported = error instanceof CalDavError && this.#canSync === null &&
          (error.kind === "rejected" || error.kind === "server");
        if (!unsupported) throw error;
        this.#canSync = false;
      }
    }
    const members = await this.client.listEtags();
    const present = new Set(members.map((m) => m.href));
    return { changed: members, removed: [...this.#mirror.keys()].filter((h) => !present.has(h)) };
  }

  get(href: string): Promise<RemoteItem | null> {
    return translated(async () => {
      const found = await this.client.getObject(href);
      return found && remoteItem(found.href, found.etag, found.data);
    });
  }

  getMany(hrefs: readonly string[]): Promise<RemoteItem[]> {
    return translated(async () =>
      (await this.client.getObjects(hrefs)).map((o) => remoteItem(o.href, o.etag, o.data))
    );
  }

  hrefFor(item: DestinationItem): string {
    return this.client.resolve(`${encodeURIComponent(item.uid)}.ics`);
  }

  create(item: DestinationItem): Promise<{ href: string; etag: string | null }> {
    const href = this.hrefFor(item);
    return translated(async () => {
      const { etag } = await this.#written(href, item, this.client.create(href, renderItem(item)));
      return { href, etag };
    });
  }

  update(
    href: string,
    etag: string | null,
    item: DestinationItem,
  ): Promise<{ etag: string | null }> {
    return translated(async () => {
      const current = etag ?? await this.#ownedEtag(href, "update");
      if (current === null) {
        throw new DestinationError("not_found", `${href}: nothing there to update`);
      }
      return await this.#written(href, item, this.client.update(href, current, renderItem(item)));
    });
  }

  remove(href: string, etag: string | null): Promise<void> {
    return translated(async () => {
      let current = etag ?? await this.#ownedEtag(href, "remove");
      if (current === null) return;
      if (!this.#inert.has(href)) current = await this.#disarmed(href, current);
      if (current === null) return;
      this.#lastWrite = performance.now();
      await this.client.remove(href, current);
      this.#mirror.delete(href);
      this.#inert.delete(href);
    });
  }

  /**
   * Before deleting an item not known to be inert (written by a calsync version that kept
   * attendees): rewrites it without them, since deleting a meeting makes SOGo and DAViCal
   * mail a cancellation to every attendee, while this rewrite and the delete after it
   * send nothing. Answers the etag to delete with, or null when nothing is there.
   */
  async #disarmed(href: string, etag: string): Promise<string | null> {
    const found = await this.client.getObject(href);
    if (found === null) return null;
    const inert = withoutScheduling(found.data);
    if (inert === found.data) return found.etag ?? etag;
    this.#lastWrite = performance.now();
    const { etag: rewritten } = await this.client.update(href, found.etag ?? etag, inert);
    return rewritten ?? "*";
  }

  /** Awaits a PUT of `item` at `href` and keeps the mirror in step with it. */
  async #written(
    href: string,
    item: DestinationItem,
    put: Promise<{ etag: string | null }>,
  ): Promise<{ etag: string | null }> {
    this.#lastWrite = performance.now();
    const result = await put;
    this.#lastWrite = performance.now();
    this.#inert.add(href);
    if (result.etag === null) this.#mirror.delete(href);
    else this.#mirror.set(href, { href, etag: result.etag, key: item.key, hash: item.hash });
    return result;
  }

  /**
   * The etag to make a write conditional on, read because the caller had none: null when
   * nothing is there, `*` (exists) when the server gives none. Refuses foreign items,
   * since without an etag nothing proves the caller saw our marker.
   */
  async #ownedEtag(href: string, action: string): Promise<string | null> {
    const found = await this.client.getObject(href);
    if (found === null) return null;
    if (readMarker(found.data) === null) {
      throw new DestinationError(
        "rejected",
        `${href} was not written by calsync; refusing to ${action} it`,
      );
    }
    return found.etag ?? "*";
  }
}

/** Properties and components that make a server schedule or ring. */
const SCHEDULING_PROPERTY = /^(ORGANIZER|ATTENDEE|METHOD)[;:]/i;

/**
 * `ics` without ORGANIZER, ATTENDEE, METHOD and VALARM, or `ics` itself when it has
 * none: content lines are unfolded, filtered and written again with CRLF.
 */
export function withoutScheduling(ics: string): string {
  const lines = ics.replace(/\r?\n[ \t]/g, "").split(/\r?\n/);
  let alarm = 0;
  const kept = lines.filter((line) => {
    if (/^BEGIN:VALARM$/i.test(line)) alarm++;
    const keep = alarm === 0 && !SCHEDULING_PROPERTY.test(line);
    if (/^END:VALARM$/i.test(line)) alarm--;
    return keep;
  });
  if (kept.length === lines.length) return ics;
  return kept.join("\r\n");
}

function remoteItem(href: string, etag: string | null, data: string): RemoteItem {
  const marker = readMarker(data);
  return { href, etag, key: marker?.key ?? null, hash: marker?.hash ?? null };
}

/**
 * Connects to the calendar at `options.url` (discovering it from a server URL when the
 * user has exactly one) and returns it as a {@link Destination}. Fails with a
 * {@link DestinationError} whose message says what to fix: wrong username or password,
 * no calendar collection at the URL, several calendars to choose from, or a server that
 * cannot be reached.
 */
export async function createCalDavDestination(
  options: CalDavDestinationOptions,
): Promise<Destination> {
  const client = await translated(() =>
    CalDavClient.open({
      url: options.url,
      username: options.username,
      password: options.password,
      fetch: options.fetch,
      timeoutMs: options.timeoutMs,
    })
  );
  return new CalDavDestination(options.id, client, options.tokenSettleMs ?? 1100);
}
