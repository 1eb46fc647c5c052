/**
 * The Microsoft identity platform's token endpoint, `POST /{tenant}/oauth2/v2.0/token`, for
 * the OAuth 2.0 client credentials grant ("Microsoft identity platform and the OAuth 2.0
 * client credentials flow",
 * https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow):
 * a shared secret (`client_secret`) or a certificate (`client_assertion`, a JWT signed with
 * RS256), scope `https://graph.microsoft.com/.default`, and the errors Entra answers with
 * ("Microsoft Entra authentication and authorization error codes",
 * https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes).
 *
 * @module
 */
import type { Directory, TokenGrant } from "./directory.ts";

/** The lifetime Entra gives app-only Graph tokens, in seconds. */
export const TOKEN_LIFETIME_S = 3599;

const GRAPH_SCOPE = "https://graph.microsoft.com/.default";
const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/** The success body of the token endpoint. */
export interface TokenAnswer {
  token_type: "Bearer";
  expires_in: number;
  ext_expires_in: number;
  access_token: string;
}

/** The error body of the token endpoint. */
export interface TokenError {
  error: string;
  error_description: string;
  error_codes: number[];
  timestamp: string;
  trace_id: string;
  correlation_id: string;
  error_uri: string;
}

class EntraError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly aadsts: number,
    description: string,
  ) {
    super(description);
  }
}

const invalidRequest = (aadsts: number, text: string) =>
  new EntraError(400, "invalid_request", aadsts, text);

function b64urlDecode(text: string): Uint8Array<ArrayBuffer> {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "=".repeat((4 - base64.length % 4) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

function jsonPart(text: string): Record<string, unknown> {
  return JSON.parse(new TextDecoder().decode(b64urlDecode(text)));
}

/** Issues and remembers access tokens for one directory. */
export class TokenIssuer {
  readonly #tokens = new Map<string, TokenGrant>();

  constructor(
    private readonly directory: Directory,
    private readonly now: () => number,
    private readonly origin: () => string,
  ) {}

  /** The grant behind a bearer token, or null when the token was never issued. */
  grantOf(token: string): TokenGrant | null {
    return this.#tokens.get(token) ?? null;
  }

  /** Answers one token request for `tenant`. */
  async handle(tenant: string, request: Request): Promise<Response> {
    const correlation = crypto.randomUUID();
    try {
      const form = new URLSearchParams(await request.text());
      const answer = await this.#issue(tenant, form);
      return Response.json(answer, {
        headers: { "cache-control": "no-store, no-cache", "x-ms-request-id": correlation },
      });
    } catch (error) {
      if (!(error instanceof EntraError)) throw error;
      const now = new Date(this.now());
      const stamp = now.toISOString().slice(0, 19).replace("T", " ") + "Z";
      const body: TokenError = {
        error: error.error,
        error_description: `AADSTS${error.aadsts}: ${error.message}\r\nTrace ID: ${correlation}` +
          `\r\nCorrelation ID: ${correlation}\r\nTimestamp: ${stamp}`,
        error_codes: [error.aadsts],
        timestamp: stamp,
        trace_id: correlation,
        correlation_id: correlation,
        error_uri: `https://login.microsoftonline.com/error?code=${error.aadsts}`,
      };
      return Response.json(body, { status: error.status });
    }
  }

  async #issue(tenant: string, form: URLSearchParams): Promise<TokenAnswer> {
    for (const name of ["grant_type", "client_id", "scope"]) {
      if (!form.get(name)) {
        throw invalidRequest(
          900144,
          `The request body must contain the following parameter: '${name}'.`,
        );
      }
    }
    if (!this.directory.isTenant(tenant)) {
      throw invalidRequest(
        90002,
        `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and ` +
          "are signing into the correct cloud.",
      );
    }
    if (form.get("grant_type") !== "client_credentials") {
      throw new EntraError(
        400,
        "unsupported_grant_type",
        70003,
        "The app requested an unsupported grant type.",
      );
    }
    const clientId = form.get("client_id")!;
    const app = this.directory.apps.get(clientId);
    if (!app) {
      throw new EntraError(
        400,
        "unauthorized_client",
        700016,
        `Application with identifier '${clientId}' was not found in the directory ` +
          `'${this.directory.tenantId}'. This can happen if the application has not been ` +
          "installed by the administrator of the tenant or consented to by any user in the tenant.",
      );
    }
    const scope = form.get("scope")!;
    // The stand-in is the Graph host at its origin, as a national cloud's Graph is at its
    // own (scope https://graph.microsoft.us/.default, "National cloud deployments",
    // https://learn.microsoft.com/en-us/graph/deployments), so its own origin names it too.
    if (scope !== GRAPH_SCOPE && scope !== `${this.origin()}/.default`) {
      throw new EntraError(
        400,
        "invalid_scope",
        1002012,
        `The provided value for scope ${scope} is not valid. Client credential flows must have ` +
          "a scope value with /.default suffixed to the resource identifier (application ID URI).",
      );
    }
    const secret = form.get("client_secret");
    const assertion = form.get("client_assertion");
    if (secret !== null) {
      if (!app.secrets.includes(secret)) {
        throw new EntraError(
          401,
          "invalid_client",
          7000215,
          "Invalid client secret provided. Ensure the secret being sent in the request is the " +
            `client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
        );
      }
    } else if (assertion !== null) {
      if (form.get("client_assertion_type") !== JWT_BEARER) {
        throw invalidRequest(
          700025,
          "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
        );
      }
      await this.#checkAssertion(tenant, clientId, assertion, app.certificates);
    } else {
      throw new EntraError(
        401,
        "invalid_client",
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or " +
          "'client_secret'.",
      );
    }
    const token = crypto.randomUUID() + crypto.randomUUID();
    this.#tokens.set(token, {
      tenant: this.directory.tenantId,
      clientId,
      roles: [...app.permissions],
      expiresAtMs: this.now() + TOKEN_LIFETIME_S * 1000,
    });
    return {
      token_type: "Bearer",
      expires_in: TOKEN_LIFETIME_S,
      ext_expires_in: TOKEN_LIFETIME_S,
      access_token: token,
    };
  }

  /** The checks of a certificate credential: signature, audience, issuer, time range. */
  async #checkAssertion(
    tenant: string,
    clientId: string,
    jwt: string,
    keys: CryptoKey[],
  ): Promise<void> {
    const invalid = (aadsts: number, text: string) =>
      new EntraError(401, "invalid_client", aadsts, text);
    const parts = jwt.split(".");
    if (parts.length !== 3) throw invalid(50027, "JWT token is invalid or malformed.");
    let claims: Record<string, unknown>;
    try {
      if (jsonPart(parts[0]).alg !== "RS256") throw new Error("alg");
      claims = jsonPart(parts[1]);
    } catch {
      throw invalid(50027, "JWT token is invalid or malformed.");
    }
    const signed = new TextEncoder().encode(`${parts[0]}.${parts[1]}`);
    const signature = b64urlDecode(parts[2]);
    let verified = false;
    for (const key of keys) {
      if (await crypto.subtle.verify("RSASSA-PKCS1-v1_5", key, signature, signed)) {
        verified = true;
      }
    }
    if (!verified) {
      throw invalid(700027, "Client assertion failed signature validation.");
    }
    const audiences = [
      `https://login.microsoftonline.com/${tenant}/oauth2/v2.0/token`,
      `${this.origin()}/${tenant}/oauth2/v2.0/token`,
    ];
    if (!audiences.includes(String(claims.aud))) {
      throw invalid(700023, "Client assertion audience claim does not match Realm issuer.");
    }
    if (claims.iss !== clientId || claims.sub !== clientId) {
      throw invalid(
        700021,
        `Client assertion application identifier doesn't match 'client_id' parameter.`,
      );
    }
    const nowS = this.now() / 1000;
    const exp = Number(claims.exp);
    const nbf = claims.nbf === undefined ? 0 : Number(claims.nbf);
    if (!(exp > nowS) || nbf > nowS) {
      throw invalid(700024, "Client assertion is not within its valid time range.");
    }
  }
}
