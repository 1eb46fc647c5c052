/**
 * The HTTP side of the stand-in: the token endpoint, bearer-token checks on every Graph
 * call, injected faults, the request log, and `$batch` ("Combine multiple HTTP requests
 * using JSON batching", https://learn.microsoft.com/en-us/graph/json-batching): up to 20
 * requests with relative URLs, each answered with its own status, headers and body (the
 * answers in reverse order: the page says any order), a request whose `dependsOn` failed
 * answering 424 Failed Dependency, more than 20 refused with 400.
 *
 * @module
 */
import type { RequestKind, RequestRecord } from "./context.ts";
import type { GraphAnswer, GraphContext, GraphRequest } from "./context.ts";
import type { Directory, TokenGrant } from "./directory.ts";
import { errorBody, GraphError } from "./errors.ts";
import { Faults, type HeldBatches } from "./faults.ts";
import { mailboxOfPath, route } from "./routes/mod.ts";
import type { Store } from "./store.ts";
import { TokenIssuer } from "./token_endpoint.ts";

/** The most requests one `$batch` may carry. */
export const MAX_BATCH = 20;

interface BatchItem {
  id: string;
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  dependsOn?: string[];
}

/** One answer inside a `$batch` answer. */
export interface BatchResponse {
  id: string;
  status: number;
  headers: Record<string, string>;
  body?: unknown;
}

const unauthenticated = (message: string) =>
  new GraphError(401, "InvalidAuthenticationToken", message, {
    "www-authenticate": 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/' +
      'common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"',
  });

/** The stand-in's server: state, switches and the handler. */
export class GraphServer {
  readonly requests: RequestRecord[] = [];
  readonly faults = new Faults();
  readonly tokens: TokenIssuer;
  origin = "";
  /** Delta tokens of older generations answer 410 (see `expireDeltaTokens`). */
  deltaGeneration = 1;

  constructor(
    readonly directory: Directory,
    readonly store: Store,
    readonly now: () => number,
  ) {
    this.tokens = new TokenIssuer(directory, now, () => this.origin);
  }

  #log(kind: RequestKind, method: string, url: URL, batch: number | null): RequestRecord {
    const record: RequestRecord = {
      kind,
      method,
      url: url.pathname.replace(/^\/v1\.0/i, "") + url.search,
      mailbox: null,
      batch,
      status: 0,
    };
    this.requests.push(record);
    return record;
  }

  /** The `Deno.serve` handler. */
  handle = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const token = url.pathname.match(/^\/([^/]+)\/oauth2\/v2\.0\/token$/);
    if (token && request.method === "POST") {
      const record = this.#log("token", "POST", url, null);
      const answer = await this.tokens.handle(decodeURIComponent(token[1]), request);
      record.status = answer.status;
      return answer;
    }
    if (!/^\/v1\.0\//i.test(url.pathname)) {
      await request.body?.cancel();
      return new Response("Not Found", { status: 404 });
    }
    const requestId = crypto.randomUUID();
    const clientRequestId = request.headers.get("client-request-id");
    const isBatch = url.pathname.toLowerCase() === "/v1.0/$batch";
    const record = this.#log(isBatch ? "batch" : "unknown", request.method, url, null);
    const text = await request.text();
    let answer: GraphAnswer;
    let kill = false;
    try {
      const grant = this.#authenticate(request.headers);
      const body = text === "" ? undefined : this.#parse(text);
      const graphRequest = { method: request.method, url, headers: request.headers, body };
      if (isBatch) {
        const held = this.#heldFor(graphRequest.body);
        if (held?.started) {
          await held.gate;
          // A client that went away while its batch waited never had it carried out.
          if (request.signal.aborted) return new Response(null, { status: 499 });
        }
        kill = this.faults.takeBatchKill();
        answer = this.#batch(graphRequest, grant, this.requests.indexOf(record));
        if (held && !held.started) {
          held.started = true;
          held.reached();
          await held.gate;
        }
      } else {
        answer = this.#one(graphRequest, grant, record);
      }
    } catch (error) {
      if (!(error instanceof GraphError)) throw error;
      answer = this.#error(error, requestId, clientRequestId);
    }
    record.status = answer.status;
    const headers = new Headers(answer.headers);
    headers.set("request-id", requestId);
    headers.set("client-request-id", clientRequestId ?? requestId);
    const payload = answer.body === undefined ? null : JSON.stringify(answer.body);
    if (kill && payload !== null) return this.#cutOff(payload, headers);
    return new Response(payload, { status: answer.status, headers });
  };

  /** The batches being held, when `body` (a `$batch` payload) is one of them. */
  #heldFor(body: unknown): HeldBatches | null {
    const held = this.faults.heldBatches();
    if (held === null || held.mailbox === null) return held;
    const requests = (body as { requests?: { url?: unknown }[] } | undefined)?.requests;
    const addressed = (requests ?? []).map((r) =>
      typeof r?.url === "string" ? mailboxOfPath(`/v1.0/${r.url.replace(/^\//, "")}`) : null
    );
    return addressed.some((upn) => upn !== null && this.directory.resolve(upn) === held.mailbox)
      ? held
      : null;
  }

  /**
   * An answer whose body stops halfway: it announces the full length, sends half and ends,
   * so the client's read fails as on a dropped connection.
   */
  #cutOff(payload: string, headers: Headers): Response {
    const bytes = new TextEncoder().encode(payload);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.slice(0, Math.floor(bytes.length / 2)));
        controller.close();
      },
    });
    headers.set("content-length", String(bytes.length));
    return new Response(body, { status: 200, headers });
  }

  #parse(text: string): unknown {
    try {
      return JSON.parse(text);
    } catch {
      throw new GraphError(
        400,
        "BadRequest",
        "Unable to read JSON request payload. Please ensure Content-Type header is set and " +
          "payload is of valid JSON format.",
      );
    }
  }

  #authenticate(headers: Headers): TokenGrant {
    const header = headers.get("authorization") ?? "";
    const match = header.match(/^Bearer\s+(\S+)$/i);
    if (!match) throw unauthenticated("Access token is empty.");
    const grant = this.tokens.grantOf(match[1]);
    if (!grant) throw unauthenticated("IDX14100: JWT is not well formed, there are no dots (.).");
    if (grant.expiresAtMs <= this.now()) {
      throw unauthenticated("Lifetime validation failed, the token is expired.");
    }
    return grant;
  }

  #error(error: GraphError, requestId: string, clientRequestId: string | null): GraphAnswer {
    return {
      status: error.status,
      headers: { "content-type": "application/json", ...error.headers },
      body: errorBody(error, requestId, clientRequestId, this.now()),
    };
  }

  /** One Graph request (top level or inside `$batch`), faults first. */
  #one(request: GraphRequest, grant: TokenGrant, record: RequestRecord): GraphAnswer {
    const named = mailboxOfPath(request.url.pathname);
    const fault = this.faults.next(named === null ? null : this.directory.resolve(named) ?? named);
    if (fault) throw fault;
    const ctx: GraphContext = {
      request,
      grant,
      directory: this.directory,
      store: this.store,
      origin: this.origin,
      record,
    };
    return route(ctx, this.deltaGeneration);
  }

  #batch(request: GraphRequest, grant: TokenGrant, batchIndex: number): GraphAnswer {
    const body = request.body as { requests?: unknown } | undefined;
    if (!body || !Array.isArray(body.requests)) {
      throw new GraphError(400, "BadRequest", "Invalid batch payload format.");
    }
    const items = body.requests as BatchItem[];
    if (items.length > MAX_BATCH) {
      throw new GraphError(
        400,
        "BadRequest",
        `The batch holds ${items.length} requests; the limit is ${MAX_BATCH}.`,
      );
    }
    const ids = new Set<string>();
    for (const item of items) {
      if (
        typeof item?.id !== "string" || !item.id || typeof item.method !== "string" ||
        typeof item.url !== "string"
      ) {
        throw new GraphError(400, "BadRequest", "Each batch request needs id, method and url.");
      }
      if (ids.has(item.id)) {
        throw new GraphError(400, "BadRequest", `Request id '${item.id}' is not unique.`);
      }
      for (const dependency of item.dependsOn ?? []) {
        if (!ids.has(dependency)) {
          throw new GraphError(
            400,
            "BadRequest",
            `Request '${item.id}' depends on '${dependency}', which is not an earlier request.`,
          );
        }
      }
      ids.add(item.id);
    }
    const statuses = new Map<string, number>();
    const responses = items.map((item) => {
      const response = this.#batchItem(item, request, grant, batchIndex, statuses);
      statuses.set(item.id, response.status);
      return response;
    });
    // JSON batching says answers may come in any order; reversed, a client that pairs them
    // with its requests by position instead of by id fails here rather than in production.
    responses.reverse();
    return { status: 200, headers: { "content-type": "application/json" }, body: { responses } };
  }

  #batchItem(
    item: BatchItem,
    outer: GraphRequest,
    grant: TokenGrant,
    batchIndex: number,
    statuses: Map<string, number>,
  ): BatchResponse {
    const requestId = crypto.randomUUID();
    const failed = (item.dependsOn ?? []).some((id) => (statuses.get(id) ?? 0) >= 400);
    const absolute = /^[a-z]+:/i.test(item.url);
    const url = new URL(
      `/v1.0${item.url.startsWith("/") ? "" : "/"}${item.url}`,
      this.origin || "http://localhost",
    );
    const record = this.#log("unknown", item.method.toUpperCase(), url, batchIndex);
    let answer: GraphAnswer;
    try {
      if (failed) {
        throw new GraphError(424, "FailedDependency", "The dependent request failed.");
      }
      if (absolute) {
        throw new GraphError(400, "BadRequest", "Invalid request URI: use a relative URL.");
      }
      const headers = new Headers(item.headers ?? {});
      if (item.body !== undefined && !headers.has("content-type")) {
        throw new GraphError(
          400,
          "BadRequest",
          "A request with a body needs a Content-Type header in its headers.",
        );
      }
      headers.set("authorization", outer.headers.get("authorization") ?? "");
      const sub = { method: item.method.toUpperCase(), url, headers, body: item.body };
      answer = this.#one(sub, grant, record);
    } catch (error) {
      if (!(error instanceof GraphError)) throw error;
      answer = this.#error(error, requestId, null);
    }
    record.status = answer.status;
    const response: BatchResponse = {
      id: item.id,
      status: answer.status,
      headers: answer.headers ?? {},
    };
    if (answer.body !== undefined) response.body = answer.body;
    return response;
  }
}
