/**
 * Who is asking: the client's address and whether it reached the master over HTTPS, read
 * from the connection, or from the reverse proxy's headers when `TRUST_PROXY` says the
 * master sits behind one (otherwise any client could forge them).
 *
 * @module
 */
import type { Context } from "hono";

/** What `Deno.serve` hands the app as its environment. */
type ServeEnv = { remoteAddr?: { hostname?: string } } | undefined;

/**
 * The client's address: with `trustProxy`, the last `X-Forwarded-For` entry (the one the
 * proxy itself appended; earlier entries come from the client and prove nothing), else
 * the connection's peer. `unknown` when neither is known, as in `app.request()` tests.
 */
export function clientAddress(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = c.req.header("x-forwarded-for")?.split(",").map((s) => s.trim());
    const last = forwarded?.filter((s) => s !== "").at(-1);
    if (last) return last;
  }
  return (c.env as ServeEnv)?.remoteAddr?.hostname ?? "unknown";
}

/** Whether the client's own connection is HTTPS, so cookies may be marked `Secure`. */
export function isHttps(c: Context, trustProxy: boolean): boolean {
  if (trustProxy) {
    const proto = c.req.header("x-forwarded-proto")?.split(",")[0].trim().toLowerCase();
    if (proto) return proto === "https";
  }
  return new URL(c.req.url).protocol === "https:";
}

/** The origin clients use to reach the master, for absolute links such as feed addresses. */
export function publicOrigin(c: Context, trustProxy: boolean): string {
  const url = new URL(c.req.url);
  const host = (trustProxy && c.req.header("x-forwarded-host")?.split(",")[0].trim()) ||
    c.req.header("host") || url.host;
  return `${isHttps(c, trustProxy) ? "https" : "http"}://${host}`;
}
