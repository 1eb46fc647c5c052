/**
 * HTTP Basic credentials, encoded as UTF-8 (RFC 7617) so that non-ASCII user names and
 * passwords reach the server intact.
 *
 * @module
 */

/** The `Authorization` header value for `username` and `password`. */
export function basicAuthorization(username: string, password: string): string {
  const bytes = new TextEncoder().encode(`${username}:${password}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}
