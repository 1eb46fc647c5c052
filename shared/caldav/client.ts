/**
 * A small CalDAV client for one calendar collection: its change token, its objects with
 * etags, and conditional writes (`If-None-Match: *` to create, `If-Match` to replace or
 * delete), so that no write ever overwrites or duplicates what it did not see.
 *
 * Reads go through tsdav; writes and single-object reads use plain HTTP because their
 * status codes and headers (ETag, Retry-After) decide what happens next.
 *
 * @example
 * ```ts
 * const client = await CalDavClient.open({ url, username, password });
 * const token = await client.changeToken();
 * const objects = await client.listObjects();
 * ```
 *
 * @module
 */
import { calendarQuery, propfind } from "tsdav";
import { CalDavError } from "./errors.ts";
import { DavHttp, type FetchLike } from "./http.ts";
import { type DavResponse, parseMultistatus, xmlText } from "./multistatus.ts";
import { propText } from "./props.ts";
import { noCalendarError, resolveCalendar } from "./resolve.ts";

export { CalDavError, type CalDavErrorKind } from "./errors.ts";
export type { FetchLike } from "./http.ts";

/** Where and how to connect. */
export interface CalDavClientOptions {
  /** A calendar collection, or a server/principal URL to discover the calendar from. */
  url: string;
  /** Default: the user name in `url`, else none. */
  username?: string;
  /** Default: the password in `url`, else none. */
  password?: string;
  /** Default: the runtime's `fetch`. */
  fetch?: FetchLike;
  /** Limit for each request, body included; default 30 s. */
  timeoutMs?: number;
}

/** One resource of the collection. */
export interface CalendarObject {
  /** Absolute URL of the resource. */
  href: string;
  etag: string | null;
  /** The iCalendar text. */
  data: string;
}

/** A member of the collection as a listing without data names it. */
export interface MemberEtag {
  /** Absolute URL of the resource. */
  href: string;
  etag: string | null;
}

/** What changed in the collection since a sync-token (RFC 6578). */
export interface CollectionChanges {
  /** The token to ask with next time. */
  token: string;
  /** Members added or changed, with their new etags. */
  changed: MemberEtag[];
  /** Absolute URLs of members removed. */
  removed: string[];
}

/** A time range `[start, end)` of ISO 8601 instants. */
export interface TimeRange {
  start: string;
  end: string;
}

const ICS_TYPE = "text/calendar; charset=utf-8";
const XML_TYPE = "application/xml; charset=utf-8";
const XML_HEAD = '<?xml version="1.0" encoding="utf-8"?>';
/** Hrefs per calendar-multiget: large enough to save requests, small enough for any server. */
const MULTIGET_CHUNK = 100;
/** Rounds of a sync-collection answer truncated with 507 before giving up. */
const MAX_SYNC_ROUNDS = 1000;

/** An instant as CalDAV time-range attributes want it: `20260301T000000Z`. */
function caldavTime(instant: string): string {
  return new Date(instant).toISOString().replace(/\.\d{3}/, "").replace(/[-:]/g, "");
}

/** `url` without credentials, and the credentials it carried. */
function splitCredentials(raw: string): { url: string; username: string; password: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CalDavError("rejected", `"${raw}" is no URL; expected https://host/path/`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new CalDavError(
      "rejected",
      `${url.protocol} is no CalDAV scheme; use https:// or http://`,
    );
  }
  const username = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  url.username = "";
  url.password = "";
  return { url: url.href, username, password };
}

/** Characters a path segment may hold unencoded (RFC 3986 pchar), kept readable. */
const PCHAR_KEPT = /%(21|24|26|27|28|29|2A|2B|2C|3B|3D|3A|40)/g;

/**
 * One spelling of `url`'s path: each segment decoded and encoded again, so that hrefs
 * the server writes (`unified%40example.org`) and those calsync builds (`unified@…`)
 * compare equal.
 */
function canonical(url: URL): string {
  const segments = url.pathname.split("/").map((segment) => {
    let decoded = segment;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      // A malformed escape stays as written.
    }
    return encodeURIComponent(decoded).replace(PCHAR_KEPT, (e) => decodeURIComponent(e));
  });
  return `${url.origin}${segments.join("/")}`;
}

/** A client bound to one calendar collection. */
export class CalDavClient {
  /** The collection's absolute URL, ending with `/`; never carries credentials. */
  readonly collectionUrl: string;
  readonly #http: DavHttp;

  private constructor(http: DavHttp, collectionUrl: string) {
    this.#http = http;
    this.collectionUrl = canonical(new URL(collectionUrl));
  }

  /**
   * Connects to the calendar at `options.url` (see `resolveCalendar`): one PROPFIND when
   * it is a calendar collection, discovery otherwise. Throws a {@link CalDavError} that
   * says what to fix.
   */
  static async open(options: CalDavClientOptions): Promise<CalDavClient> {
    const parts = splitCredentials(options.url);
    const http = new DavHttp({
      username: options.username ?? parts.username,
      password: options.password ?? parts.password,
      fetch: options.fetch,
      timeoutMs: options.timeoutMs,
      displayUrl: parts.url,
    });
    return new CalDavClient(http, await resolveCalendar(http, parts.url));
  }

  /**
   * The absolute URL of `name` (relative to the collection, or absolute), spelled in
   * one canonical way so that hrefs compare equal however the server encoded them. A
   * URL on another origin is refused: the credentials must not travel where an href
   * points.
   */
  resolve(name: string): string {
    const url = new URL(name, this.collectionUrl);
    if (url.origin !== new URL(this.collectionUrl).origin) {
      throw new CalDavError(
        "rejected",
        `${url.href} is not on the server of ${this.collectionUrl}`,
      );
    }
    return canonical(url);
  }

  /**
   * The collection's `{DAV:}sync-token`, else its `getctag`, with one PROPFIND of depth
   * 0; null when the server offers neither.
   */
  async changeToken(): Promise<string | null> {
    const [self] = await this.#collectionRequest("PROPFIND", () =>
      propfind({
        url: this.collectionUrl,
        props: { "d:sync-token": {}, "cs:getctag": {} },
        depth: "0",
        fetch: this.#http.fetch,
      }));
    return propText(self?.props?.syncToken) ?? propText(self?.props?.getctag);
  }

  /**
   * Every object in the collection that holds an event, with its etag and data (REPORT
   * calendar-query); with `range`, only those with an event overlapping it, recurring
   * series whole. The filter always names VEVENT: SOGo answers a filter that names only
   * VCALENDAR with nothing at all.
   */
  async listObjects(range?: TimeRange): Promise<CalendarObject[]> {
    const timeRange = range
      ? {
        "time-range": {
          _attributes: { start: caldavTime(range.start), end: caldavTime(range.end) },
        },
      }
      : {};
    const events = { "comp-filter": { _attributes: { name: "VEVENT" }, ...timeRange } };
    const responses = await this.#collectionRequest("REPORT", () =>
      calendarQuery({
        url: this.collectionUrl,
        props: { "d:getetag": {}, "c:calendar-data": {} },
        filters: { "comp-filter": { _attributes: { name: "VCALENDAR" }, ...events } },
        depth: "1",
        fetch: this.#http.fetch,
      }));
    const objects: CalendarObject[] = [];
    for (const response of responses) {
      const data = propText(response.props?.calendarData);
      if (response.href === undefined || data === null) continue;
      const href = this.resolve(response.href);
      if (href === this.collectionUrl) continue;
      objects.push({ href, etag: propText(response.props?.getetag), data });
    }
    return objects;
  }

  /**
   * Every member of the collection with its etag (PROPFIND of depth 1), sub-collections
   * left out: the listing that every WebDAV server gives, whatever its reports.
   */
  async listEtags(): Promise<MemberEtag[]> {
    const body = `${XML_HEAD}<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/><D:resourcetype/>` +
      `</D:prop></D:propfind>`;
    const { responses } = await this.#xmlRequest("PROPFIND", this.collectionUrl, body, "1");
    return this.#members(responses).filter((r) => r.status === 200 && !r.collection)
      .map((r) => ({ href: r.href, etag: r.etag }));
  }

  /**
   * The changes since `token` (RFC 6578 sync-collection), or everything with `token`
   * null; null when the server refuses the token (expired, or from before a restore),
   * so that the caller lists in full. Throws `rejected` when the server offers no
   * sync-collection at all.
   */
  async syncCollection(token: string | null): Promise<CollectionChanges | null> {
    const changed = new Map<string, MemberEtag>();
    const removed = new Set<string>();
    let current = token;
    for (let round = 0; round < MAX_SYNC_ROUNDS; round++) {
      const body = `${XML_HEAD}<D:sync-collection xmlns:D="DAV:">` +
        `<D:sync-token>${xmlText(current ?? "")}</D:sync-token><D:sync-level>1</D:sync-level>` +
        `<D:prop><D:getetag/></D:prop></D:sync-collection>`;
      let answer;
      try {
        answer = await this.#xmlRequest("REPORT", this.collectionUrl, body, "0");
      } catch (error) {
        // RFC 6578 §3.2: a token the server no longer knows is refused with a
        // valid-sync-token precondition (403, some servers 409 or 400).
        const status = error instanceof CalDavError ? error.status : null;
        if (current !== null && (status === 403 || status === 409 || status === 400)) return null;
        throw error;
      }
      let truncated = false;
      for (const r of this.#members(answer.responses, true)) {
        if (this.#isCollection(r.href)) {
          truncated ||= r.status === 507;
          continue;
        }
        if (r.status === 404 || r.status === 410) {
          changed.delete(r.href);
          removed.add(r.href);
        } else if (r.status === 200 && !r.collection) {
          removed.delete(r.href);
          changed.set(r.href, { href: r.href, etag: r.etag });
        }
      }
      if (answer.syncToken === null) {
        throw new CalDavError(
          "server",
          `REPORT ${this.collectionUrl}: no sync-token in the answer`,
        );
      }
      current = answer.syncToken;
      if (!truncated) {
        return { token: current, changed: [...changed.values()], removed: [...removed] };
      }
    }
    throw new CalDavError("server", `REPORT ${this.collectionUrl}: the changes never ended`);
  }

  /**
   * The objects at `hrefs` with etags and data (REPORT calendar-multiget, in chunks);
   * those that are gone are left out.
   */
  async getObjects(hrefs: readonly string[]): Promise<CalendarObject[]> {
    const objects: CalendarObject[] = [];
    for (let i = 0; i < hrefs.length; i += MULTIGET_CHUNK) {
      const paths = hrefs.slice(i, i + MULTIGET_CHUNK)
        .map((href) => `<D:href>${xmlText(new URL(this.resolve(href)).pathname)}</D:href>`);
      const body = `${XML_HEAD}<C:calendar-multiget xmlns:D="DAV:" ` +
        `xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/>` +
        `</D:prop>${paths.join("")}</C:calendar-multiget>`;
      const { responses } = await this.#xmlRequest("REPORT", this.collectionUrl, body, "1");
      for (const r of this.#members(responses)) {
        if (r.status !== 200 || r.calendarData === null) continue;
        objects.push({ href: r.href, etag: r.etag, data: r.calendarData });
      }
    }
    return objects;
  }

  /** The object at `href`, or null when there is none. */
  async getObject(href: string): Promise<CalendarObject | null> {
    const url = this.resolve(href);
    const response = await this.#http.send(
      new Request(url, { headers: { accept: "text/calendar" } }),
    );
    if (response.status === 404 || response.status === 410) return null;
    if (!response.ok) throw this.#http.statusError("GET", url, response);
    const data = await response.text();
    return { href: url, etag: response.headers.get("etag") ?? await this.getEtag(url), data };
  }

  /** The etag of `href` (one PROPFIND of depth 0), or null when there is nothing there. */
  async getEtag(href: string): Promise<string | null> {
    const url = this.resolve(href);
    try {
      const [self] = await propfind({
        url,
        props: { "d:getetag": {} },
        depth: "0",
        fetch: this.#http.fetch,
      });
      return propText(self?.props?.getetag);
    } catch (error) {
      if (error instanceof CalDavError && error.kind === "not_found") return null;
      throw error;
    }
  }

  /**
   * Stores `data` at `href` only if nothing is there (`If-None-Match: *`); when
   * something is, throws `precondition_failed`.
   */
  async create(href: string, data: string): Promise<{ etag: string | null }> {
    const url = this.resolve(href);
    const response = await this.#put(url, data, { "if-none-match": "*" });
    if (response.status === 412) {
      throw new CalDavError("precondition_failed", `${url} exists already`, 412);
    }
    return { etag: await this.#etagAfterWrite("PUT", url, response) };
  }

  /**
   * Replaces the object at `href` only if its etag is still `etag` (`If-Match`); else
   * throws `precondition_failed`.
   */
  async update(href: string, etag: string, data: string): Promise<{ etag: string | null }> {
    const url = this.resolve(href);
    const response = await this.#put(url, data, { "if-match": etag });
    if (response.status === 412) {
      throw new CalDavError("precondition_failed", `${url} changed since etag ${etag}`, 412);
    }
    return { etag: await this.#etagAfterWrite("PUT", url, response) };
  }

  /**
   * Deletes the object at `href` only if its etag is still `etag` (`If-Match`). Nothing
   * there is success; a different etag throws `precondition_failed`.
   */
  async remove(href: string, etag: string): Promise<void> {
    const url = this.resolve(href);
    const response = await this.#http.send(
      new Request(url, { method: "DELETE", headers: { "if-match": etag } }),
    );
    if (response.ok || response.status === 404 || response.status === 410) return;
    // Some servers (Radicale) answer 412 rather than 404 when the object is gone.
    if (response.status === 412) {
      if (await this.getEtag(url) === null) return;
      throw new CalDavError("precondition_failed", `${url} changed since etag ${etag}`, 412);
    }
    throw this.#http.statusError("DELETE", url, response);
  }

  /**
   * Sends an XML request to `url` and reads the multistatus it answers; a 404 on the
   * collection means it is gone.
   */
  async #xmlRequest(method: string, url: string, body: string, depth: string) {
    const response = await this.#http.send(
      new Request(url, { method, headers: { "content-type": XML_TYPE, depth }, body }),
    );
    if (response.status === 404 && url === this.collectionUrl) {
      throw noCalendarError(this.collectionUrl, this.#http.username);
    }
    if (response.status !== 207) throw this.#http.statusError(method, url, response);
    const text = await response.text();
    try {
      return parseMultistatus(text);
    } catch (error) {
      throw new CalDavError(
        "server",
        `${method} ${url}: unreadable answer (${(error as Error).message})`,
      );
    }
  }

  /**
   * Responses with absolute hrefs, those pointing off this server left out (the
   * credentials must not follow them). The collection itself is kept only with `self`.
   */
  #members(responses: DavResponse[], self = false): DavResponse[] {
    const members: DavResponse[] = [];
    for (const r of responses) {
      if (r.href === "") continue;
      let href: string;
      try {
        href = this.resolve(r.href);
      } catch {
        continue;
      }
      if (!self && this.#isCollection(href)) continue;
      members.push({ ...r, href });
    }
    return members;
  }

  /** Whether `href` (canonical) names the collection itself, with or without its slash. */
  #isCollection(href: string): boolean {
    return href.replace(/\/$/, "") === this.collectionUrl.replace(/\/$/, "");
  }

  #put(url: string, data: string, condition: Record<string, string>): Promise<Response> {
    return this.#http.send(
      new Request(url, {
        method: "PUT",
        headers: { "content-type": ICS_TYPE, ...condition },
        body: data,
      }),
    );
  }

  /** The new etag after a write: the ETag header, else one PROPFIND. */
  async #etagAfterWrite(method: string, url: string, response: Response): Promise<string | null> {
    if (!response.ok) throw this.#http.statusError(method, url, response);
    return response.headers.get("etag") ?? await this.getEtag(url);
  }

  /**
   * Runs a tsdav request on the collection: a 404 means the collection is gone, and
   * tsdav's own errors (which carry raw responses) become a short `server` error.
   */
  async #collectionRequest<T>(method: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof CalDavError) {
        throw error.kind === "not_found"
          ? noCalendarError(this.collectionUrl, this.#http.username)
          : error;
      }
      const reason = (error as Error).message.replace(/\s*Raw response:[\s\S]*$/, "");
      throw new CalDavError("server", `${method} ${this.collectionUrl}: ${reason}`);
    }
  }
}
