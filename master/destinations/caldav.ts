/**
 * CalDAV destination: one calendar collection (mailcow/SOGo, Nextcloud, Radicale, …)
 * holding one VEVENT resource per consolidated occurrence.
 *
 * Each resource is `<collection>/<uid>.ics`, where the UID is `calsync-` and a hash of
 * the occurrence key, so a retried create meets its own earlier write (412) instead of
 * duplicating it. The VEVENT is standalone (no RECURRENCE-ID) and carries the calsync
 * marker `X-CALSYNC-KEY` (the occurrence key) and `X-CALSYNC-HASH` (its content hash);
 * anything without both the `calsync-` UID and the key is foreign and never touched.
 *
 * @module
 */
import { CalDavClient, CalDavError, type FetchLike } from "../../shared/caldav/client.ts";
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

/** The resource calsync writes for `item`: one standalone VEVENT with the marker. */
export function renderItem(item: DestinationItem): string {
  return generateIcs([{ ...item.event, uid: item.uid, recurrence_id: null }], {
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

class CalDavDestination implements Destination {
  readonly type = "caldav";
  readonly displayUrl: string;

  constructor(readonly id: string, private readonly client: CalDavClient) {
    this.displayUrl = client.collectionUrl;
  }

  changeToken(): Promise<string | null> {
    return translated(() => this.client.changeToken());
  }

  list(): Promise<RemoteItem[]> {
    return translated(async () =>
      (await this.client.listObjects()).map((o) => remoteItem(o.href, o.etag, o.data))
    );
  }

  get(href: string): Promise<RemoteItem | null> {
    return translated(async () => {
      const found = await this.client.getObject(href);
      return found && remoteItem(found.href, found.etag, found.data);
    });
  }

  hrefFor(item: DestinationItem): string {
    return this.client.resolve(`${encodeURIComponent(item.uid)}.ics`);
  }

  create(item: DestinationItem): Promise<{ href: string; etag: string | null }> {
    const href = this.hrefFor(item);
    return translated(async () => ({ href, ...await this.client.create(href, renderItem(item)) }));
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
      return this.client.update(href, current, renderItem(item));
    });
  }

  remove(href: string, etag: string | null): Promise<void> {
    return translated(async () => {
      const current = etag ?? await this.#ownedEtag(href, "remove");
      if (current !== null) await this.client.remove(href, current);
    });
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
  return new CalDavDestination(options.id, client);
}
