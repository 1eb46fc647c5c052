/**
 * What the tests of the Graph stand-in share: a started stand-in with one app and one
 * mailbox, a token fetched the way a client fetches it, and plain `fetch` calls.
 *
 * @module
 */
import type { Event } from "@microsoft/microsoft-graph-types";
import {
  type AppPermission,
  type FakeApp,
  type FakeGraph,
  type FakeMailbox,
  startFakeGraph,
} from "../graph/mod.ts";

/** The mailbox every test starts with. */
export const ANN = "ann@contoso.com";
/** The stand-in's clock at start: Monday 2026-11-30 12:00 UTC. */
export const NOW_MS = Date.UTC(2026, 10, 30, 12);

/** An answer read back: status, headers and the parsed JSON body (null when none). */
export interface Answer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

/** A started stand-in with an app, Ann's mailbox and a token for the app. */
export interface Setup extends AsyncDisposable {
  graph: FakeGraph;
  app: FakeApp;
  ann: FakeMailbox;
  token: string;
  /** A Graph call with the token (path relative to `/v1.0`). */
  call<T = Record<string, unknown>>(
    method: string,
    path: string,
    options?: { body?: unknown; headers?: Record<string, string> },
  ): Promise<Answer<T>>;
}

/** Posts a client-credentials form to the token endpoint. */
export async function requestToken(
  graph: FakeGraph,
  form: Record<string, string>,
  tenant?: string,
): Promise<Answer> {
  const response = await fetch(graph.tokenUrl(tenant), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

/** A token for an app with its secret. */
export async function tokenFor(graph: FakeGraph, app: FakeApp): Promise<string> {
  const answer = await requestToken(graph, {
    grant_type: "client_credentials",
    client_id: app.clientId,
    client_secret: app.secret,
    scope: "https://graph.microsoft.com/.default",
  });
  return answer.body.access_token as string;
}

/** A Graph call with `token`. */
export async function graphCall<T = Record<string, unknown>>(
  graph: FakeGraph,
  token: string | null,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(path.startsWith("http") ? path : `${graph.graphUrl}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? JSON.parse(text) : null,
  };
}

/** Starts the stand-in with an app holding `permissions` and Ann's mailbox (Berlin time). */
export async function setup(
  permissions: AppPermission[] = ["Calendars.ReadWrite", "MailboxSettings.Read"],
): Promise<Setup> {
  const graph = await startFakeGraph({ nowMs: NOW_MS });
  const app = graph.addApp({ permissions });
  const ann = graph.addMailbox(ANN, { timeZone: "W. Europe Standard Time" });
  const token = await tokenFor(graph, app);
  return {
    graph,
    app,
    ann,
    token,
    call: (method, path, options) => graphCall(graph, token, method, path, options),
    [Symbol.asyncDispose]: () => graph.close(),
  };
}

/** A timed event in UTC. */
export function utcEvent(subject: string, start: string, end: string, more: Event = {}): Event {
  return {
    subject,
    start: { dateTime: start, timeZone: "UTC" },
    end: { dateTime: end, timeZone: "UTC" },
    ...more,
  };
}

/** The `value` of a collection answer. */
export type Collection<T = Event> = {
  value: T[];
  "@odata.nextLink"?: string;
  "@odata.deltaLink"?: string;
};

/** Follows `@odata.nextLink` to the end; returns every page. */
export async function allPages(
  s: Setup,
  first: string,
  headers: Record<string, string> = {},
): Promise<Answer<Collection>[]> {
  const pages: Answer<Collection>[] = [];
  let next: string | undefined = first;
  while (next) {
    const page: Answer<Collection> = await s.call<Collection>("GET", next, { headers });
    pages.push(page);
    next = page.body["@odata.nextLink"];
  }
  return pages;
}
