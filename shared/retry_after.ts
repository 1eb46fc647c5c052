/**
 * The `Retry-After` header, as CalDAV servers, Exchange and the master send it.
 *
 * @module
 */

/**
 * `Retry-After` in milliseconds: the header holds seconds or an HTTP date (RFC 9110
 * §10.2.3). A date in the past means no wait; an unreadable value means none given.
 */
export function retryAfterMs(header: string | null, now = Date.now()): number | null {
  if (header === null) return null;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}
