/**
 * From a configured URL to one calendar collection: the URL itself when it is one, else
 * discovery (RFC 6764 well-known URL, current-user-principal, calendar-home-set) and the
 * user's only calendar.
 *
 * @module
 */
import {
  type DAVAccount,
  fetchCalendars,
  fetchHomeUrl,
  fetchPrincipalUrl,
  propfind,
  serviceDiscovery,
} from "tsdav";
import { CalDavError } from "./errors.ts";
import type { DavHttp } from "./http.ts";
import { propText } from "./props.ts";

/** A calendar found by discovery. */
export interface FoundCalendar {
  url: string;
  displayName: string;
}

/** Kinds that say the server or the credentials failed, not that the URL is wrong. */
const DECISIVE = new Set(["unauthorized", "unreachable", "throttled", "server"]);

/** `url` with a trailing slash, as collections are named. */
function asCollectionUrl(url: string): string {
  const copy = new URL(url);
  if (!copy.pathname.endsWith("/")) copy.pathname += "/";
  return copy.href;
}

/**
 * The error for a URL where no calendar could be found, with the mailcow layout on the
 * same scheme and host, for `login` when there is one.
 */
export function noCalendarError(url: string, login = ""): CalDavError {
  const { protocol, host } = new URL(url);
  const user = login === "" ? "LOGIN" : encodeURIComponent(login).replace(/%40/g, "@");
  return new CalDavError(
    "not_found",
    `no calendar collection at ${url}; mailcow (SOGo) calendars live at ` +
      `${protocol}//${host}/SOGo/dav/${user}/Calendar/personal/`,
  );
}

function isCalendar(resourcetype: unknown): boolean {
  return typeof resourcetype === "object" && resourcetype !== null &&
    "calendar" in resourcetype;
}

/** Whether a failure is about the server or the account rather than this URL. */
function decisive(error: unknown): boolean {
  return error instanceof CalDavError && DECISIVE.has(error.kind);
}

/**
 * The collection at `url` when it is a calendar (as the server names it), null when it
 * is something else, "missing" when nothing is there (a 404 below the root: a wrong
 * URL, not a reason to guess).
 */
async function ownCollection(http: DavHttp, url: string): Promise<string | null | "missing"> {
  let responses;
  try {
    responses = await propfind({
      url,
      props: { "d:resourcetype": {} },
      depth: "0",
      fetch: http.fetch,
    });
  } catch (error) {
    if (decisive(error)) throw error;
    if (
      error instanceof CalDavError && error.kind === "not_found" && new URL(url).pathname !== "/"
    ) {
      return "missing";
    }
    return null;
  }
  const self = responses[0];
  if (!self?.ok || !isCalendar(self.props?.resourcetype)) return null;
  return asCollectionUrl(new URL(self.href ?? url, url).href);
}

/** The principal URL, trying the URL the user gave before the discovered root. */
async function principal(
  http: DavHttp,
  account: DAVAccount,
  roots: string[],
): Promise<DAVAccount> {
  let lastError: unknown = null;
  for (const rootUrl of new Set(roots)) {
    try {
      const principalUrl = await fetchPrincipalUrl({
        account: { ...account, rootUrl },
        fetch: http.fetch,
      });
      return { ...account, rootUrl, principalUrl };
    } catch (error) {
      if (decisive(error)) throw error;
      lastError = error;
    }
  }
  throw lastError;
}

/** Every calendar of the user that holds events, found from `url` by discovery. */
export async function discoverCalendars(http: DavHttp, url: string): Promise<FoundCalendar[]> {
  const base: DAVAccount = { accountType: "caldav", serverUrl: url };
  try {
    const discovered = await serviceDiscovery({ account: base, fetch: http.fetch });
    const account = await principal(http, base, [url, discovered, new URL("/", url).href]);
    const homeUrl = await fetchHomeUrl({ account, fetch: http.fetch });
    const calendars = await fetchCalendars({ account: { ...account, homeUrl }, fetch: http.fetch });
    return calendars
      .filter((c) => !c.components?.length || c.components.includes("VEVENT"))
      .map((c) => ({
        url: asCollectionUrl(c.url),
        displayName: propText(c.displayName) ?? "",
      }));
  } catch (error) {
    if (decisive(error)) throw error;
    throw noCalendarError(url, http.username);
  }
}

/**
 * The calendar collection to use for `url`: `url` itself when it is a calendar, else the
 * user's only calendar found by discovery. Several calendars, or a URL where nothing is,
 * are an error that lists the user's calendars, so that the user can pick one.
 */
export async function resolveCalendar(http: DavHttp, url: string): Promise<string> {
  const own = await ownCollection(http, url);
  if (own !== null && own !== "missing") return own;
  let calendars: FoundCalendar[] = [];
  try {
    calendars = await discoverCalendars(http, url);
  } catch (error) {
    if (decisive(error) || own !== "missing") throw error;
  }
  if (own !== "missing" && calendars.length === 1) return calendars[0].url;
  if (calendars.length === 0) throw noCalendarError(url, http.username);
  const list = calendars
    .sort((a, b) => (a.url < b.url ? -1 : a.url > b.url ? 1 : 0))
    .map((c) => `  ${c.url}${c.displayName ? ` (${c.displayName})` : ""}`)
    .join("\n");
  const problem = own === "missing"
    ? `there is no calendar at ${url}; the calendars of "${http.username}" are`
    : `${url} is not a calendar collection and the user has ${calendars.length} calendars`;
  throw new CalDavError(
    own === "missing" ? "not_found" : "rejected",
    `${problem}; set the URL to one of:\n${list}`,
  );
}
