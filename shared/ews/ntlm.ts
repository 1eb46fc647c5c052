/**
 * The NTLM messages of a handshake, from `@ewsjs/ntlm-client` (NTLMv2 when the server's
 * challenge asks for it). The handshake itself, on one kept-alive connection, is the
 * transport's job.
 *
 * @module
 */
import ntlm from "@ewsjs/ntlm-client";

/**
 * User and domain from `DOMAIN\user`; a `user@domain` (UPN) or bare name is sent as is
 * with no domain, which Windows accepts.
 */
function splitAccount(username: string): { user: string; domain: string } {
  const slash = username.indexOf("\\");
  return slash < 0
    ? { user: username, domain: "" }
    : { domain: username.slice(0, slash), user: username.slice(slash + 1) };
}

/**
 * The `Authorization` value that opens a handshake (type 1). The workstation is left
 * empty: Exchange does not need it, and reading the host name needs a permission.
 */
export function negotiateHeader(username: string): string {
  return ntlm.createType1Message("", splitAccount(username).domain);
}

/**
 * The NTLM challenge in a 401's `WWW-Authenticate`, or null when the server sent none
 * (it does not offer NTLM, or it refused the negotiation).
 */
export function challengeOf(wwwAuthenticate: string | undefined): string | null {
  const match = /(?:^|,)\s*NTLM\s+([A-Za-z0-9+/=]+)/.exec(wwwAuthenticate ?? "");
  return match ? match[1] : null;
}

/** The `Authorization` value that answers `challenge` (type 3). */
export function authenticateHeader(challenge: string, username: string, password: string): string {
  const { user, domain } = splitAccount(username);
  return ntlm.createType3Message(ntlm.decodeType2Message(challenge), user, password, "", domain);
}
