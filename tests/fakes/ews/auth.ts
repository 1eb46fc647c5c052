/**
 * Authentication as IIS does it for `/EWS`: Basic on every request, or NTLM, which
 * authenticates the TCP connection rather than a request.
 *
 * NTLM takes three legs on one kept-alive connection: the client sends
 * `Authorization: NTLM <negotiate>` and gets 401 with `WWW-Authenticate: NTLM <challenge>`,
 * then resends the request with `Authorization: NTLM <authenticate>`. From then on the
 * connection is the user's: later requests on it need no `Authorization` header, and a new
 * connection must authenticate again. A client must therefore keep one connection open
 * across the handshake (HTTP/1.1 keep-alive, one socket) and may keep using it.
 * Connections are told apart by the client's address and port (`Deno.serve` shows no
 * connection object); a connection unused for IIS's two-minute keep-alive timeout is
 * forgotten, so that a later socket on the same port starts unauthenticated.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { challenge, messageType, readAuthenticate, verifyNtlmV2 } from "./ntlm.ts";

/** The schemes the server can offer. */
export type AuthScheme = "basic" | "ntlm";

const KEEP_ALIVE_MS = 120_000;
const SERVER = { domain: "CORP", computer: "EXCH01", dnsDomain: "corp.example" };

interface ConnectionState {
  user?: string;
  serverChallenge?: Buffer;
  lastSeen: number;
}

/** The users and schemes of a server, and the NTLM state of its connections. */
export class Authenticator {
  readonly #users: Map<string, { name: string; password: string }>;
  readonly #connections = new Map<string, ConnectionState>();

  constructor(users: Record<string, string>, readonly schemes: readonly AuthScheme[]) {
    this.#users = new Map(
      Object.entries(users).map(([name, password]) => [name.toLowerCase(), { name, password }]),
    );
  }

  /**
   * The user a request authenticates as, or the 401 to answer. `connection` names the TCP
   * connection the request came on; `host` is the realm of Basic.
   */
  authenticate(request: Request, connection: string, host: string): string | Response {
    const now = Date.now();
    for (const [key, state] of this.#connections) {
      if (now - state.lastSeen > KEEP_ALIVE_MS) this.#connections.delete(key);
    }
    const state = this.#connections.get(connection) ?? { lastSeen: now };
    state.lastSeen = now;
    this.#connections.set(connection, state);
    const header = request.headers.get("authorization") ?? "";
    const [scheme, token = ""] = header.trim().split(/\s+/, 2);
    const kind = scheme?.toLowerCase();
    if (kind === "basic" && this.schemes.includes("basic")) {
      return this.#basic(token) ?? this.#unauthorized(host);
    }
    if ((kind === "ntlm" || kind === "negotiate") && this.schemes.includes("ntlm")) {
      return this.#ntlm(token, state, host);
    }
    if (header === "" && state.user) return state.user;
    return this.#unauthorized(host);
  }

  #basic(token: string): string | null {
    const decoded = Buffer.from(token, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) return null;
    const user = this.#users.get(decoded.slice(0, colon).toLowerCase());
    return user && user.password === decoded.slice(colon + 1) ? user.name : null;
  }

  #ntlm(token: string, state: ConnectionState, host: string): string | Response {
    const type = messageType(token);
    if (type === 1) {
      const { message, serverChallenge } = challenge(token, SERVER);
      state.user = undefined;
      state.serverChallenge = serverChallenge;
      return this.#response(401, [`NTLM ${message}`]);
    }
    const authenticate = type === 3 ? readAuthenticate(token) : null;
    const serverChallenge = state.serverChallenge;
    state.serverChallenge = undefined;
    if (!authenticate || !serverChallenge) return this.#unauthorized(host);
    const account = [
      authenticate.user,
      `${authenticate.domain}\\${authenticate.user}`,
      `${authenticate.user}@${authenticate.domain}`,
    ].map((name) => this.#users.get(name.toLowerCase())).find(Boolean);
    if (!account || !verifyNtlmV2(authenticate, serverChallenge, account.password)) {
      return this.#unauthorized(host);
    }
    state.user = account.name;
    return account.name;
  }

  /** 401 offering every configured scheme, in the order IIS lists them. */
  #unauthorized(host: string): Response {
    const offers = [
      ...(this.schemes.includes("ntlm") ? ["NTLM"] : []),
      ...(this.schemes.includes("basic") ? [`Basic realm="${host}"`] : []),
    ];
    return this.#response(401, offers);
  }

  #response(status: number, offers: string[]): Response {
    const headers = new Headers({ "content-type": "text/html" });
    for (const offer of offers) headers.append("www-authenticate", offer);
    return new Response(UNAUTHORIZED_PAGE, { status, headers });
  }
}

/** IIS 10's page for 401.2, which Exchange's EWS virtual directory sends. */
const UNAUTHORIZED_PAGE = `<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" ` +
  `"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"/>
<title>401 - Unauthorized: Access is denied due to invalid credentials.</title>
</head>
<body>
<div id="header"><h1>Server Error</h1></div>
<div id="content">
 <div class="content-container"><fieldset>
  <h2>401 - Unauthorized: Access is denied due to invalid credentials.</h2>
  <h3>You do not have permission to view this directory or page using the credentials that you supplied.</h3>
 </fieldset></div>
</div>
</body>
</html>
`;
