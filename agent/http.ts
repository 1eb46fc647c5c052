/**
 * HTTP plumbing shared by the master client and the sources: an injectable `fetch`, a
 * time limit covering the whole exchange, and URLs made safe to show.
 *
 * @module
 */

/**
 * The `fetch` the agent calls. Injectable so tests can answer in-process, e.g.
 * `(req) => app.fetch(req)` for a Hono app.
 */
export type FetchLike = (request: Request) => Promise<Response>;

/** The default {@linkcode FetchLike}: the runtime's own `fetch`. */
export const defaultFetch: FetchLike = (request) => fetch(request);

/** An exchange that did not finish within its time limit. */
export class HttpTimeoutError extends Error {
  /** Creates the error for a limit of `timeoutMs`. */
  constructor(timeoutMs: number) {
    super(`no answer within ${timeoutMs / 1000} s`);
    this.name = "HttpTimeoutError";
  }
}

/**
 * Sends `request` and reads its answer with `read`, all within `timeoutMs`. The answer
 * body is always consumed or cancelled so no connection is left dangling.
 */
export async function exchange<T>(
  fetchFn: FetchLike,
  request: Request,
  timeoutMs: number,
  read: (response: Response) => Promise<T>,
): Promise<T> {
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), timeoutMs);
  try {
    const response = await fetchFn(new Request(request, { signal: timeout.signal }));
    try {
      return await read(response);
    } finally {
      if (!response.bodyUsed) await response.body?.cancel().catch(() => {});
    }
  } catch (error) {
    if (timeout.signal.aborted) throw new HttpTimeoutError(timeoutMs);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** `url` without user name and password, for messages and logs. */
export function displayUrl(url: string | URL): string {
  const copy = new URL(url);
  copy.username = "";
  copy.password = "";
  return copy.href;
}
