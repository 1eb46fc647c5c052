/**
 * HTTP for one Exchange account: Basic or NTLM, a custom CA or an explicit opt-out of
 * certificate checks, one time limit per exchange, and answers read in full so that
 * status, headers and body can all be judged.
 *
 * NTLM authenticates a TCP connection, not a request, so each NTLM connection is an
 * agent of its own with one kept-alive socket: the handshake (negotiate, challenge,
 * authenticate) runs on that socket, and later requests on it go without a header until
 * the server asks again. Connections are pooled, so requests in flight at once each get
 * one.
 *
 * @module
 */
import { basicAuthorization } from "../basic_auth.ts";
import http from "node:http";
import https from "node:https";
import { gunzipSync, inflateSync } from "node:zlib";
import type { HttpAnswer } from "./errors.ts";
import { authenticateHeader, challengeOf, negotiateHeader } from "./ntlm.ts";

/** How to authenticate: `basic` sends the password with every request. */
export type EwsAuth = "basic" | "ntlm";

/** Options of {@link EwsTransport}. */
export interface TransportOptions {
  username: string;
  password: string;
  auth: EwsAuth;
  /** PEM text of the CA certificates to trust instead of the system's; null for those. */
  ca: string | null;
  /** Skip certificate checks (a user's explicit choice). */
  tlsInsecure: boolean;
  /** Limit for each exchange, body included. */
  timeoutMs: number;
}

/** A request whose answer did not come in time. */
export class TransportTimeout extends Error {
  /** Node-style code, so callers can tell it from other network errors. */
  readonly code = "EWS_TIMEOUT";

  /** Creates the error for a limit of `timeoutMs`. */
  constructor(timeoutMs: number) {
    super(`no answer within ${timeoutMs / 1000} s`);
    this.name = "TransportTimeout";
  }
}

type Agent = http.Agent | https.Agent;

/** One NTLM connection: its single-socket agent and whether its socket is authenticated. */
interface NtlmConnection {
  agent: Agent;
  authenticated: boolean;
}

/** The body of an answer as text, decompressed when the server compressed it. */
function decode(chunks: Uint8Array[], encoding: string | undefined): string {
  const body = new Uint8Array(chunks.reduce((size, chunk) => size + chunk.byteLength, 0));
  chunks.reduce((offset, chunk) => (body.set(chunk, offset), offset + chunk.byteLength), 0);
  const bytes = encoding === "gzip"
    ? gunzipSync(body)
    : encoding === "deflate"
    ? inflateSync(body)
    : body;
  return new TextDecoder().decode(bytes);
}

/** Sends SOAP requests for one account to one EWS URL. */
export class EwsTransport {
  readonly #options: TransportOptions;
  readonly #basicAgent: Agent | null;
  readonly #idle: NtlmConnection[] = [];
  readonly #agents = new Set<Agent>();
  readonly #https: boolean;

  /** Prepares connections to `url`; nothing is sent yet. */
  constructor(readonly url: string, options: TransportOptions) {
    this.#options = options;
    this.#https = new URL(url).protocol === "https:";
    this.#basicAgent = options.auth === "basic" ? this.#newAgent(8) : null;
  }

  #newAgent(maxSockets: number): Agent {
    const agent = this.#https
      ? new https.Agent({
        keepAlive: true,
        maxSockets,
        ca: this.#options.ca ?? undefined,
        rejectUnauthorized: !this.#options.tlsInsecure,
      })
      : new http.Agent({ keepAlive: true, maxSockets });
    this.#agents.add(agent);
    return agent;
  }

  /**
   * POSTs `body` to the EWS URL with credentials and returns the answer, whatever its
   * status. Throws only when there is no answer (refused, DNS, TLS, {@link TransportTimeout}).
   */
  async post(body: string, headers: Record<string, string>): Promise<HttpAnswer> {
    if (this.#basicAgent !== null) {
      const authorization = basicAuthorization(this.#options.username, this.#options.password);
      return await this.#send(this.#basicAgent, "POST", this.url, body, {
        ...headers,
        authorization,
      });
    }
    const connection = this.#idle.pop() ?? { agent: this.#newAgent(1), authenticated: false };
    try {
      return await this.#ntlmPost(connection, body, headers);
    } finally {
      this.#idle.push(connection);
    }
  }

  /** A plain GET without credentials, for cheap probes such as "is there a /SOGo/?". */
  get(url: string, timeoutMs: number): Promise<HttpAnswer> {
    const agent = this.#basicAgent ?? this.#newAgent(1);
    return this.#send(agent, "GET", url, "", {}, timeoutMs);
  }

  /** Closes every kept-alive connection. */
  close(): void {
    for (const agent of this.#agents) agent.destroy();
    this.#agents.clear();
    this.#idle.length = 0;
  }

  async #ntlmPost(
    connection: NtlmConnection,
    body: string,
    headers: Record<string, string>,
  ): Promise<HttpAnswer> {
    const { username, password } = this.#options;
    if (connection.authenticated) {
      const answer = await this.#send(connection.agent, "POST", this.url, body, headers);
      if (answer.status !== 401) return answer;
      // The server dropped the connection's authentication (or the connection): start over.
      connection.authenticated = false;
    }
    const negotiated = await this.#send(connection.agent, "POST", this.url, "", {
      ...headers,
      authorization: negotiateHeader(username),
    });
    const challenge = challengeOf(negotiated.headers["www-authenticate"]);
    if (negotiated.status !== 401 || challenge === null) {
      // No challenge: the server does not do NTLM here. Its answer to the real request
      // tells the user what it offers instead.
      return negotiated.status === 401
        ? negotiated
        : await this.#send(connection.agent, "POST", this.url, body, headers);
    }
    const answer = await this.#send(connection.agent, "POST", this.url, body, {
      ...headers,
      authorization: authenticateHeader(challenge, username, password),
    });
    connection.authenticated = answer.status !== 401;
    return answer;
  }

  /** One exchange on `agent`, read in full within the time limit. */
  #send(
    agent: Agent,
    method: string,
    url: string,
    body: string,
    headers: Record<string, string>,
    timeoutMs = this.#options.timeoutMs,
  ): Promise<HttpAnswer> {
    const target = new URL(url);
    const client = target.protocol === "https:" ? https : http;
    const payload = new TextEncoder().encode(body);
    return new Promise((resolve, reject) => {
      const request = client.request(
        target,
        {
          method,
          agent,
          headers: { ...headers, "content-length": String(payload.byteLength) },
          // Certificate options go on the request too: the probe may use a fresh agent.
          ...(target.protocol === "https:"
            ? {
              ca: this.#options.ca ?? undefined,
              rejectUnauthorized: !this.#options.tlsInsecure,
            }
            : {}),
        },
        (response) => {
          const chunks: Uint8Array[] = [];
          response.on("data", (chunk: Uint8Array) => chunks.push(chunk));
          response.on("error", reject);
          response.on("end", () => {
            clearTimeout(timer);
            const headerMap: Record<string, string> = {};
            for (const [name, value] of Object.entries(response.headers)) {
              if (value !== undefined) {
                headerMap[name] = Array.isArray(value) ? value.join(", ") : value;
              }
            }
            try {
              resolve({
                status: response.statusCode ?? 0,
                statusText: response.statusMessage ?? "",
                headers: headerMap,
                body: decode(chunks, headerMap["content-encoding"]),
              });
            } catch (error) {
              reject(error);
            }
          });
        },
      );
      const timer = setTimeout(() => request.destroy(new TransportTimeout(timeoutMs)), timeoutMs);
      request.on("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      request.end(payload);
    });
  }
}
