/**
 * A small Microsoft Graph v1.0 client for app-only calendar access, shared by the agent's
 * `microsoft365` source and the master's `microsoft365` destination: tokens (see
 * `token.ts`), one call, paging through `@odata.nextLink` up to the `@odata.deltaLink`
 * ("Paging Microsoft Graph data in your app", https://learn.microsoft.com/en-us/graph/paging),
 * `$batch` ("Combine multiple HTTP requests using JSON batching",
 * https://learn.microsoft.com/en-us/graph/json-batching), and the waits of "Microsoft
 * Graph throttling guidance" (https://learn.microsoft.com/en-us/graph/throttling): a 429,
 * 503 or 504 is tried again after its `Retry-After`, a few times, and requests of a
 * `$batch` answered 429 are sent again as a smaller batch.
 *
 * Tokens come from plain OAuth 2.0 client credentials rather than `@azure/msal-node`: the
 * grant is one form post, and the library would bring its own network client, cache and
 * logger that each would need wiring to keep tokens out of logs and to run on the
 * stand-in in tests.
 *
 * @module
 */
import { retryAfterMs } from "../retry_after.ts";
import { type AppCertificate, readAppCertificate } from "./certificate.ts";
import {
  type CalendarPermission,
  GraphError,
  graphError,
  type GraphErrorBody,
  type GraphSettingNames,
  siblingSettings,
} from "./errors.ts";
import { TokenSource } from "./token.ts";

/** How to reach Graph. */
export type GraphClientOptions = {
  tenantId: string;
  clientId: string;
  /** Exactly one of `clientSecret` and `certificatePem` is set (not empty). */
  clientSecret?: string;
  /** The text of a PEM file holding the private key and the certificate. */
  certificatePem?: string;
  /** The sign-in host, e.g. `https://login.microsoftonline.com`. */
  authority: string;
  /** The Graph host without `/v1.0`, e.g. `https://graph.microsoft.com`. */
  graphUrl: string;
  fetch?: typeof fetch;
  /** the setting to name when the credentials are refused, e.g. 'calendar_sources[2].client_secret' */
  credentialsSetting: string;
  userAgent?: string;
  /** The permission a 403 asks to grant; default `Calendars.Read`. */
  permission?: CalendarPermission;
  /** The setting naming the mailbox; default `mailbox` beside `credentialsSetting`. */
  mailboxSetting?: string;
  /** Waits between tries; injectable so tests need no real timers. */
  sleep?: (ms: number) => Promise<void>;
  /** The clock for token expiry and assertions; default `Date.now`. */
  now?: () => number;
  /** Tries after a throttled answer before giving up; default 4. */
  maxRetries?: number;
  /** The longest wait before a retry; a longer `Retry-After` is handed to the caller. Default 60 s. */
  maxWaitMs?: number;
  /** Time limit of one HTTP exchange; default 60 s. */
  timeoutMs?: number;
};

/** A Graph client. */
export interface GraphClient {
  /**
   * One Graph call, path relative to `${graphUrl}/v1.0` or an absolute nextLink/deltaLink.
   * Throws a {@link GraphError} for an answer that is not 2xx (after the retries).
   */
  request<T>(
    method: string,
    pathOrUrl: string,
    init?: { body?: unknown; headers?: Record<string, string> },
  ): Promise<GraphResponse<T>>;
  /** Follows @odata.nextLink until @odata.deltaLink or the end; yields each page's value array. */
  pages<T>(
    pathOrUrl: string,
    headers?: Record<string, string>,
  ): AsyncIterable<{ value: T[]; deltaLink: string | null }>;
  /** POST /$batch with up to 20 requests; answers one GraphBatchResult per request, in request order (Graph answers in any order). */
  batch(requests: GraphBatchRequest[]): Promise<GraphBatchResult[]>;
  /** The error a failed batch result stands for, worded as {@link GraphClient.request} words it. */
  errorOf(result: GraphBatchResult, url: string): GraphError;
  /** Requests made so far (for benchmarks). */
  readonly requestCount: number;
  /** Token requests made so far. */
  readonly tokenRequestCount: number;
}

/** One answer. `body` is null when the answer had none (204). */
export type GraphResponse<T> = { status: number; headers: Headers; body: T };
/** One request of a `$batch`; `url` relative to the version (`/users/…`) or absolute. */
export type GraphBatchRequest = {
  id: string;
  method: string;
  url: string;
  body?: unknown;
  headers?: Record<string, string>;
};
/** One answer of a `$batch`. */
export type GraphBatchResult = {
  id: string;
  status: number;
  headers: Record<string, string>;
  body: unknown;
};

/** Graph's limit of requests in one `$batch`. */
export const BATCH_LIMIT = 20;

const RETRY_STATUSES = new Set([429, 503, 504]);
/** Waits without `Retry-After`: 1, 2, 4, 8 s. */
const backoffMs = (attempt: number) => 1000 * 2 ** attempt;

/** The mailbox a Graph path names (`/users/{upn}/…`), for messages. */
function mailboxOf(url: string): string | null {
  const match = url.match(/\/users\/([^/?]+)/i);
  return match ? decodeURIComponent(match[1]).replace(/^'(.*)'$/, "$1") : null;
}

function headerOf(headers: Record<string, string> | undefined, name: string): string | null {
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (key.toLowerCase() === name) return value;
  }
  return null;
}

/** Creates a client; nothing is sent until the first call. */
export function createGraphClient(options: GraphClientOptions): GraphClient {
  const secret = options.clientSecret ?? "";
  const pem = options.certificatePem ?? "";
  if ((secret === "") === (pem === "")) {
    throw new Error(
      `${options.credentialsSetting}: set exactly one of client_secret and certificate_file`,
    );
  }
  const fetchFn = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const maxRetries = options.maxRetries ?? 4;
  const maxWaitMs = options.maxWaitMs ?? 60_000;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const permission = options.permission ?? "Calendars.Read";
  const names: GraphSettingNames = {
    ...siblingSettings(options.credentialsSetting),
    ...(options.mailboxSetting ? { mailbox: options.mailboxSetting } : {}),
  };
  const base = `${options.graphUrl.replace(/\/+$/, "")}/v1.0`;
  let certificate: Promise<AppCertificate> | null = null;
  const tokens = new TokenSource({
    authority: options.authority.replace(/\/+$/, ""),
    tenantId: options.tenantId,
    clientId: options.clientId,
    secret: secret === "" ? null : secret,
    certificate: pem === ""
      ? null
      : () => certificate ??= readAppCertificate(pem, options.credentialsSetting),
    graphUrl: options.graphUrl.replace(/\/+$/, ""),
    names,
    fetch: fetchFn,
    now,
    timeoutMs,
  });
  let requestCount = 0;

  const absolute = (pathOrUrl: string) =>
    /^https?:\/\//i.test(pathOrUrl) ? pathOrUrl : `${base}${pathOrUrl}`;
  const relative = (pathOrUrl: string) =>
    pathOrUrl.startsWith(base) ? pathOrUrl.slice(base.length) : pathOrUrl;
  const failure = (status: number, body: unknown, url: string, waitMs: number | null) =>
    graphError(status, body as GraphErrorBody | null, {
      names,
      permission,
      mailbox: mailboxOf(url),
    }, waitMs);

  /** The wait before another try, or null when the caller should be told instead. */
  const waitFor = (attempt: number, askedMs: number | null): number | null => {
    if (attempt >= maxRetries) return null;
    const wait = askedMs ?? backoffMs(attempt);
    return wait > maxWaitMs ? null : wait;
  };

  async function send(
    method: string,
    url: string,
    token: string,
    init: { body?: unknown; headers?: Record<string, string> },
  ): Promise<Response> {
    const headers: Record<string, string> = {
      accept: "application/json",
      "user-agent": options.userAgent ?? "calsync",
      "client-request-id": crypto.randomUUID(),
      ...init.headers,
      authorization: `Bearer ${token}`,
    };
    if (init.body !== undefined) headers["content-type"] = "application/json";
    requestCount++;
    try {
      return await fetchFn(url, {
        method,
        headers,
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new GraphError(
        0,
        "unreachable",
        "unreachable",
        `Microsoft Graph at ${new URL(url).origin} did not answer (${(error as Error).message})`,
      );
    }
  }

  async function readBody(response: Response, url: string): Promise<unknown> {
    let text;
    try {
      text = await response.text();
    } catch (error) {
      // The connection broke during the answer: Graph may or may not have acted, which a
      // retry settles (creates carry a transactionId).
      throw new GraphError(
        0,
        "unreachable",
        "unreachable",
        `the connection to Microsoft Graph at ${new URL(url).origin} broke during the answer ` +
          `(${(error as Error).message})`,
      );
    }
    if (text === "") return null;
    try {
      return JSON.parse(text);
    } catch {
      return null;
    }
  }

  async function request<T>(
    method: string,
    pathOrUrl: string,
    init: { body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<GraphResponse<T>> {
    const url = absolute(pathOrUrl);
    let refreshed = false;
    for (let attempt = 0;; attempt++) {
      const token = await tokens.token();
      const response = await send(method, url, token, init);
      const body = await readBody(response, url);
      if (response.ok) {
        return { status: response.status, headers: response.headers, body: body as T };
      }
      const code = (body as GraphErrorBody | null)?.error?.code;
      if (response.status === 401 && code === "InvalidAuthenticationToken" && !refreshed) {
        // Expired or revoked before our clock said so: one new token, then the verdict.
        refreshed = true;
        tokens.discard(token);
        attempt--;
        continue;
      }
      const asked = retryAfterMs(response.headers.get("retry-after"), now());
      if (RETRY_STATUSES.has(response.status)) {
        const wait = waitFor(attempt, asked);
        if (wait !== null) {
          await sleep(wait);
          continue;
        }
      }
      throw failure(response.status, body, url, asked);
    }
  }

  async function* pages<T>(
    pathOrUrl: string,
    headers: Record<string, string> = {},
  ): AsyncIterable<{ value: T[]; deltaLink: string | null }> {
    let next: string | undefined = pathOrUrl;
    while (next !== undefined) {
      const answer: GraphResponse<Record<string, unknown> | null> = await request("GET", next, {
        headers,
      });
      const body = answer.body;
      const value = Array.isArray(body?.value) ? body.value as T[] : [];
      const deltaLink = typeof body?.["@odata.deltaLink"] === "string"
        ? body["@odata.deltaLink"] as string
        : null;
      const nextLink: unknown = body?.["@odata.nextLink"];
      next = typeof nextLink === "string" ? nextLink : undefined;
      yield { value, deltaLink };
    }
  }

  async function batch(requests: GraphBatchRequest[]): Promise<GraphBatchResult[]> {
    if (requests.length > BATCH_LIMIT) {
      throw new RangeError(
        `a $batch holds at most ${BATCH_LIMIT} requests, not ${requests.length}`,
      );
    }
    const results = new Map<string, GraphBatchResult>();
    let pending = requests;
    for (let attempt = 0; pending.length > 0; attempt++) {
      const { body } = await request<{ responses?: GraphBatchResult[] }>("POST", "/$batch", {
        body: {
          requests: pending.map((r) => ({
            id: r.id,
            method: r.method,
            url: relative(r.url),
            ...(r.body === undefined ? {} : { body: r.body }),
            headers: r.body === undefined
              ? r.headers
              : { "content-type": "application/json", ...r.headers },
          })),
        },
      });
      const throttled: GraphBatchRequest[] = [];
      let askedMs: number | null = null;
      for (const answer of body?.responses ?? []) {
        const sent = pending.find((r) => r.id === String(answer.id));
        if (!sent) continue;
        const result: GraphBatchResult = {
          id: String(answer.id),
          status: answer.status,
          headers: answer.headers ?? {},
          body: answer.body ?? null,
        };
        results.set(result.id, result);
        if (RETRY_STATUSES.has(answer.status)) {
          throttled.push(sent);
          const asked = retryAfterMs(headerOf(answer.headers, "retry-after"), now());
          if (asked !== null) askedMs = Math.max(askedMs ?? 0, asked);
        }
      }
      const missing = pending.filter((r) => !results.has(r.id));
      if (missing.length > 0) {
        throw new GraphError(
          502,
          "BatchIncomplete",
          "server",
          `Microsoft Graph's $batch answer lacked ${missing.length} of its requests`,
        );
      }
      const wait = throttled.length > 0 ? waitFor(attempt, askedMs) : null;
      if (wait === null) break;
      await sleep(wait);
      pending = throttled;
    }
    return requests.map((r) => results.get(r.id)!);
  }

  return {
    request,
    pages,
    batch,
    errorOf: (result, url) =>
      failure(
        result.status,
        result.body,
        absolute(url),
        retryAfterMs(headerOf(result.headers, "retry-after"), now()),
      ),
    get requestCount() {
      return requestCount;
    },
    get tokenRequestCount() {
      return tokens.requests;
    },
  };
}
