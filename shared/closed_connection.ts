/**
 * Sending a request once more when its connection closed before any answer came. A server
 * may close a kept-alive connection just as the client sends the next request on it (SOGo
 * does so under a few requests in flight: "connection closed before message completed");
 * that request never reached it. RFC 9110 §9.2.2 lets a client repeat a request whose
 * method is idempotent after such a failure; any other keeps its error, as it might have
 * been carried out.
 *
 * @module
 */

/**
 * The methods that may be sent again: the safe and idempotent ones of RFC 9110 §9.2 and
 * those WebDAV defines as such (RFC 4918 §9.1 PROPFIND, §9.2 PROPPATCH; RFC 3253 §3.6
 * REPORT). MKCOL, MKCALENDAR, POST, COPY, MOVE, LOCK and PATCH are not among them.
 */
export const REPEATABLE_METHODS: ReadonlySet<string> = new Set([
  "GET",
  "HEAD",
  "OPTIONS",
  "PUT",
  "DELETE",
  "PROPFIND",
  "PROPPATCH",
  "REPORT",
]);

/**
 * Sends `request` through `send`; when that throws without an answer, the request's method
 * is repeatable and its signal was not aborted (a time limit is not a closed connection),
 * sends a copy of it once more, on a new connection since the pool has dropped the closed one.
 */
export async function sendRepeatingOnClosedConnection(
  send: (request: Request) => Promise<Response>,
  request: Request,
): Promise<Response> {
  if (!REPEATABLE_METHODS.has(request.method.toUpperCase())) return await send(request);
  const copy = request.clone();
  try {
    return await send(request);
  } catch (error) {
    if (request.signal.aborted || !(error instanceof TypeError)) throw error;
    return await send(copy);
  }
}
