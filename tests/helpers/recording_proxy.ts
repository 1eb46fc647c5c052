/**
 * An HTTP proxy for tests that stands between a client and a real server: it records
 * every request (method and path) and can simulate an outage, either answering 503 with
 * `Retry-After: 1` or refusing connections altogether. It can also hold requests, so
 * that a test stops a client in the middle of its work without racing it.
 *
 * @module
 */
import { sendRepeatingOnClosedConnection } from "../../shared/closed_connection.ts";

/** How the proxy treats requests. */
export type ProxyMode = "up" | "unavailable" | "refuse";

/** One forwarded (or refused with 503) request. */
export interface RecordedRequest {
  method: string;
  /** Path and query, as the client sent them. */
  path: string;
  /** The request's headers, such as `If-Match`. */
  headers: Headers;
}

/** A running proxy; `await using` closes it. */
export interface RecordingProxy extends AsyncDisposable {
  /** The proxy's base URL: the target's URL with the proxy's origin. */
  url: string;
  /** Turns `url` of the target into the same URL through the proxy. */
  via(targetUrl: string): string;
  /** Requests seen since start or the last {@linkcode reset}, in order. */
  readonly requests: readonly RecordedRequest[];
  /** Requests per method, such as `{PROPFIND: 1, PUT: 2}`. */
  counts(): Record<string, number>;
  /** Forgets the recorded requests. */
  reset(): void;
  /**
   * `unavailable` answers 503 with `Retry-After: 1`; `refuse` stops listening so that
   * connections are refused; `up` forwards again (on the same port).
   */
  setMode(mode: ProxyMode): Promise<void>;
  /**
   * Lets the first `count` requests of `method` through and holds every later one until
   * {@linkcode release}; resolves once the `count`-th has been forwarded. A held request
   * whose client went away meanwhile is answered 502 and never forwarded.
   */
  holdAfter(method: string, count: number): Promise<void>;
  /** Forwards the held requests and holds no more. */
  release(): void;
  /** Stops the proxy (releasing held requests first). */
  close(): Promise<void>;
}

/** Requests of one method held back after a number of them passed. */
type Hold = {
  method: string;
  count: number;
  seen: number;
  reached: () => void;
  gate: Promise<void>;
  open: () => void;
};

/** Headers that describe one hop, not the message; fetch sets its own. */
const HOP_HEADERS = ["connection", "keep-alive", "transfer-encoding", "host"];

/**
 * Starts a proxy on a free loopback port that forwards to `target` (an origin such as
 * `http://127.0.0.1:5232`). Response bodies stream through; request bodies are read
 * first, because servers such as Radicale do not accept chunked uploads.
 */
export function startRecordingProxy(target: string): RecordingProxy {
  const origin = new URL(target).origin;
  const requests: RecordedRequest[] = [];
  let mode: ProxyMode = "up";
  let hold: Hold | null = null;

  const handler = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    requests.push({
      method: request.method,
      path: url.pathname + url.search,
      headers: new Headers(request.headers),
    });
    const counted = hold !== null && request.method === hold.method ? hold : null;
    const index = counted ? ++counted.seen : 0;
    if (counted && index > counted.count) {
      await counted.gate;
      if (request.signal.aborted) return new Response("client went away", { status: 502 });
    }
    if (mode === "unavailable") {
      await request.body?.cancel();
      return new Response("down for a test", { status: 503, headers: { "retry-after": "1" } });
    }
    const headers = new Headers(request.headers);
    for (const name of HOP_HEADERS) headers.delete(name);
    const body = request.body ? await request.arrayBuffer() : undefined;
    let upstream: Response;
    try {
      // As a gateway such as nginx does, an idempotent request whose connection the target
      // closed before answering goes once more (SOGo closes kept-alive ones under load).
      upstream = await sendRepeatingOnClosedConnection(
        fetch,
        new Request(origin + url.pathname + url.search, {
          method: request.method,
          headers,
          body,
          redirect: "manual",
        }),
      );
    } catch {
      // The target is down (a test may stop it): say so as a gateway would, quietly.
      return new Response("target unreachable", { status: 502 });
    }
    if (counted && index === counted.count) counted.reached();
    const answer = new Headers(upstream.headers);
    // fetch has decoded the body already, so its encoding and length no longer hold.
    for (const name of ["content-encoding", "content-length", ...HOP_HEADERS]) {
      answer.delete(name);
    }
    const empty = [101, 204, 205, 304].includes(upstream.status) || request.method === "HEAD";
    if (empty) await upstream.body?.cancel();
    return new Response(empty ? null : upstream.body, {
      status: upstream.status,
      statusText: upstream.statusText,
      headers: answer,
    });
  };

  const listen = (port: number) =>
    Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, handler);
  let server: Deno.HttpServer<Deno.NetAddr> | null = listen(0);
  const port = server.addr.port;
  const base = `http://127.0.0.1:${port}`;
  const release = () => {
    hold?.open();
    hold = null;
  };
  const stop = async () => {
    release();
    const current = server;
    server = null;
    await current?.shutdown();
  };

  return {
    url: `${base}${new URL(target).pathname}`,
    via: (targetUrl) => {
      const parsed = new URL(targetUrl);
      return `${base}${parsed.pathname}${parsed.search}`;
    },
    get requests() {
      return requests;
    },
    counts() {
      const counts: Record<string, number> = {};
      for (const r of requests) counts[r.method] = (counts[r.method] ?? 0) + 1;
      return counts;
    },
    reset() {
      requests.length = 0;
    },
    async setMode(next) {
      if (next === "refuse") await stop();
      else if (server === null) server = listen(port);
      mode = next;
    },
    holdAfter(method, count) {
      release();
      const { promise: reached, resolve } = Promise.withResolvers<void>();
      const { promise: gate, resolve: open } = Promise.withResolvers<void>();
      hold = { method, count, seen: 0, reached: resolve, gate, open };
      return reached;
    },
    release,
    close: stop,
    [Symbol.asyncDispose]: stop,
  };
}
