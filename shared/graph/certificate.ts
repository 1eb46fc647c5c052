/**
 * A certificate credential of an Entra app: the PEM file holding the private key and the
 * certificate, and the client assertion signed with it, as "Microsoft identity platform
 * application authentication certificate credentials"
 * (https://learn.microsoft.com/en-us/entra/identity-platform/certificate-credentials)
 * describes it: a JWT signed with RS256 whose header carries `x5t#S256`, the base64url
 * SHA-256 thumbprint of the certificate, and whose claims are `aud` (the token endpoint),
 * `iss` and `sub` (the client id), `jti`, `nbf` and `exp`.
 *
 * @module
 */

/** How long an assertion is valid: long enough for a slow network, short if it leaks. */
const ASSERTION_LIFETIME_S = 600;

/** The key and thumbprint read from a PEM file. */
export interface AppCertificate {
  key: CryptoKey;
  /** base64url SHA-256 of the certificate's DER bytes. */
  thumbprintS256: string;
}

function base64url(bytes: Uint8Array | string): string {
  const raw = typeof bytes === "string"
    ? String.fromCharCode(...new TextEncoder().encode(bytes))
    : Array.from(bytes, (b) => String.fromCharCode(b)).join("");
  return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The DER bytes of every PEM block labelled `label`. */
function pemBlocks(pem: string, label: string): Uint8Array<ArrayBuffer>[] {
  const pattern = new RegExp(`-----BEGIN ${label}-----([^-]*)-----END ${label}-----`, "g");
  return [...pem.matchAll(pattern)].map((m) =>
    Uint8Array.from(atob(m[1].replace(/\s+/g, "")), (c) => c.charCodeAt(0))
  );
}

/** A DER length. */
function derLength(length: number): number[] {
  if (length < 0x80) return [length];
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
  return [0x80 | bytes.length, ...bytes];
}

/**
 * An RSA key in PKCS#1 (`BEGIN RSA PRIVATE KEY`, what older OpenSSL writes) wrapped as the
 * PKCS#8 WebCrypto imports: version 0, the rsaEncryption algorithm, the key as an octet string.
 */
function pkcs1ToPkcs8(pkcs1: Uint8Array): Uint8Array<ArrayBuffer> {
  const algorithm = [0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
  const body = [
    0x02,
    0x01,
    0x00,
    ...algorithm,
    0x05,
    0x00,
    0x04,
    ...derLength(pkcs1.length),
    ...pkcs1,
  ];
  return new Uint8Array([0x30, ...derLength(body.length), ...body]);
}

/**
 * Reads the private key and the certificate from a PEM file's text. `setting` names the
 * file in error messages.
 */
export async function readAppCertificate(pem: string, setting: string): Promise<AppCertificate> {
  const certificates = pemBlocks(pem, "CERTIFICATE");
  if (certificates.length === 0) {
    throw new Error(
      `${setting} holds no certificate: the PEM file needs the private key and the ` +
        "certificate (-----BEGIN CERTIFICATE-----) uploaded to the app registration",
    );
  }
  if (pemBlocks(pem, "ENCRYPTED PRIVATE KEY").length > 0) {
    throw new Error(
      `${setting} holds an encrypted private key: store it unencrypted, e.g. ` +
        "openssl pkcs8 -topk8 -nocrypt -in key.pem, and keep the file readable by calsync only",
    );
  }
  const pkcs8 = pemBlocks(pem, "PRIVATE KEY")[0] ??
    pemBlocks(pem, "RSA PRIVATE KEY").map(pkcs1ToPkcs8)[0];
  if (!pkcs8) {
    throw new Error(
      `${setting} holds no private key: the PEM file needs the private key ` +
        "(-----BEGIN PRIVATE KEY-----) beside the certificate",
    );
  }
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey(
      "pkcs8",
      pkcs8,
      { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
      false,
      ["sign"],
    );
  } catch (error) {
    throw new Error(
      `${setting}: the private key is not an RSA key calsync can use (${(error as Error).message})`,
    );
  }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", certificates[0]));
  return { key, thumbprintS256: base64url(digest) };
}

/** A client assertion for `clientId` at the token endpoint `audience`, at `nowMs`. */
export async function clientAssertion(
  certificate: AppCertificate,
  clientId: string,
  audience: string,
  nowMs: number,
): Promise<string> {
  const now = Math.floor(nowMs / 1000);
  const header = { alg: "RS256", typ: "JWT", "x5t#S256": certificate.thumbprintS256 };
  const claims = {
    aud: audience,
    iss: clientId,
    sub: clientId,
    jti: crypto.randomUUID(),
    nbf: now,
    iat: now,
    exp: now + ASSERTION_LIFETIME_S,
  };
  const signed = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const signature = await crypto.subtle.sign(
    "RSASSA-PKCS1-v1_5",
    certificate.key,
    new TextEncoder().encode(signed),
  );
  return `${signed}.${base64url(new Uint8Array(signature))}`;
}
