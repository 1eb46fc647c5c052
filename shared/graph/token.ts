/**
 * App-only access tokens for Microsoft Graph: the OAuth 2.0 client credentials grant of
 * "Microsoft identity platform and the OAuth 2.0 client credentials flow"
 * (https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow),
 * with a client secret or a certificate's client assertion, scope `{graph}/.default`.
 *
 * A token is kept until shortly before `expires_in` runs out and shared by concurrent
 * callers, so a pass asks Entra once an hour at most. It is never logged nor put in an
 * error message.
 *
 * @module
 */
import { retryAfterMs } from "../retry_after.ts";
import { type AppCertificate, clientAssertion } from "./certificate.ts";
import { GraphError, type GraphSettingNames, tokenError, type TokenErrorBody } from "./errors.ts";

/** Renew this long before the token expires, so a long request does not outlive it. */
const RENEW_BEFORE_S = 300;
const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/** How to ask for tokens. */
export interface TokenSourceOptions {
  authority: string;
  tenantId: string;
  clientId: string;
  /** Exactly one of secret and certificate. */
  secret: string | null;
  certificate: (() => Promise<AppCertificate>) | null;
  /** The Graph host, whose `/.default` scope is asked for. */
  graphUrl: string;
  names: GraphSettingNames;
  fetch: typeof fetch;
  now: () => number;
  timeoutMs: number;
}

/** Hands out a current token, asking Entra only when the kept one is (nearly) expired. */
export class TokenSource {
  #token: { value: string; renewAtMs: number } | null = null;
  #pending: Promise<string> | null = null;
  /** Token requests made so far. */
  requests = 0;

  /** Creates the source; nothing is asked until {@link TokenSource.token}. */
  constructor(private readonly options: TokenSourceOptions) {}

  /** The token endpoint of the tenant. */
  get endpoint(): string {
    return `${this.options.authority}/${
      encodeURIComponent(this.options.tenantId)
    }/oauth2/v2.0/token`;
  }

  /** A current token. */
  token(): Promise<string> {
    const kept = this.#token;
    if (kept && this.options.now() < kept.renewAtMs) return Promise.resolve(kept.value);
    this.#pending ??= this.#fetch().finally(() => this.#pending = null);
    return this.#pending;
  }

  /** Forgets `token` (refused by Graph), so the next call asks for a new one. */
  discard(token: string): void {
    if (this.#token?.value === token) this.#token = null;
  }

  async #form(): Promise<URLSearchParams> {
    const o = this.options;
    const form = new URLSearchParams({
      grant_type: "client_credentials",
      client_id: o.clientId,
      scope: `${o.graphUrl}/.default`,
    });
    if (o.secret !== null) {
      form.set("client_secret", o.secret);
    } else {
      const certificate = await o.certificate!();
      form.set("client_assertion_type", JWT_BEARER);
      form.set(
        "client_assertion",
        await clientAssertion(certificate, o.clientId, this.endpoint, o.now()),
      );
    }
    return form;
  }

  async #fetch(): Promise<string> {
    const o = this.options;
    const form = await this.#form();
    this.requests++;
    let response: Response;
    try {
      response = await o.fetch(this.endpoint, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: form,
        signal: AbortSignal.timeout(o.timeoutMs),
      });
    } catch (error) {
      throw new GraphError(
        0,
        "unreachable",
        "unreachable",
        `Microsoft Entra at ${o.authority} did not answer (${(error as Error).message}); ` +
          "check authority and the network",
      );
    }
    const text = await response.text();
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: a proxy's page, say; the status alone decides below.
    }
    const value = body.access_token;
    if (response.ok && typeof value === "string") {
      const lifetimeS = Number(body.expires_in) || 3600;
      const renewAtMs = o.now() + Math.max(lifetimeS - RENEW_BEFORE_S, lifetimeS / 2) * 1000;
      this.#token = { value, renewAtMs };
      return value;
    }
    throw tokenError(
      response.status,
      body as TokenErrorBody,
      o.names,
      retryAfterMs(response.headers.get("retry-after"), o.now()),
    );
  }
}
