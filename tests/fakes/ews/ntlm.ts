/**
 * The server side of NTLM ([MS-NLMP]) as IIS runs it in front of Exchange: read a
 * NEGOTIATE message, answer a CHALLENGE with a fresh server challenge and the target
 * information a domain member gives, and check the AUTHENTICATE message's NTLMv2
 * response against the user's password. NTLMv1 and LM responses are refused, as on
 * servers that follow Microsoft's hardening guidance (LmCompatibilityLevel 5).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";

const SIGNATURE = Buffer.from("NTLMSSP\0", "latin1");

const FLAGS = {
  unicode: 0x00000001,
  oem: 0x00000002,
  requestTarget: 0x00000004,
  ntlm: 0x00000200,
  alwaysSign: 0x00008000,
  targetTypeDomain: 0x00010000,
  extendedSessionSecurity: 0x00080000,
  targetInfo: 0x00800000,
  version: 0x02000000,
  bits128: 0x20000000,
  keyExchange: 0x40000000,
  bits56: 0x80000000,
} as const;

/** Who the server says it is in its CHALLENGE. */
export interface NtlmServerIdentity {
  /** NetBIOS domain, such as `CORP`. */
  domain: string;
  /** NetBIOS computer name, such as `EXCH01`. */
  computer: string;
  /** DNS domain, such as `corp.example`. */
  dnsDomain: string;
}

/** The fields of an AUTHENTICATE message that verification needs. */
export interface NtlmAuthenticate {
  user: string;
  domain: string;
  workstation: string;
  ntResponse: Buffer;
}

/** The type (1, 2 or 3) of an NTLM message in base64, or null when it is not NTLM. */
export function messageType(base64: string): number | null {
  const bytes = Buffer.from(base64, "base64");
  if (bytes.length < 12 || !bytes.subarray(0, 8).equals(SIGNATURE)) return null;
  return bytes.readUInt32LE(8);
}

const utf16 = (text: string) => Buffer.from(text, "utf16le");

function avPair(id: number, value: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt16LE(id, 0);
  header.writeUInt16LE(value.length, 2);
  return Buffer.concat([header, value]);
}

/** A FILETIME: 100 ns ticks since 1601, as MsvAvTimestamp carries it. */
function fileTime(now: number): Buffer {
  const time = Buffer.alloc(8);
  time.writeBigUInt64LE((BigInt(now) + 11_644_473_600_000n) * 10_000n);
  return time;
}

/**
 * Builds the CHALLENGE (type 2) that answers a NEGOTIATE (type 1), echoing the options the
 * client asked for. Returns the message in base64 and the server challenge to keep for
 * this connection.
 */
export function challenge(
  negotiateBase64: string,
  server: NtlmServerIdentity,
): { message: string; serverChallenge: Buffer } {
  const negotiate = Buffer.from(negotiateBase64, "base64");
  const asked = negotiate.readUInt32LE(12);
  const flags = (asked & FLAGS.unicode ? FLAGS.unicode : FLAGS.oem) |
    FLAGS.requestTarget | FLAGS.ntlm | FLAGS.alwaysSign | FLAGS.targetTypeDomain |
    FLAGS.targetInfo | FLAGS.version |
    (asked & (FLAGS.extendedSessionSecurity | FLAGS.bits128 | FLAGS.keyExchange | FLAGS.bits56));
  const serverChallenge = randomBytes(8);
  const targetName = utf16(server.domain);
  const dnsComputer = `${server.computer.toLowerCase()}.${server.dnsDomain}`;
  const targetInfo = Buffer.concat([
    avPair(2, utf16(server.domain)),
    avPair(1, utf16(server.computer)),
    avPair(4, utf16(server.dnsDomain)),
    avPair(3, utf16(dnsComputer)),
    avPair(5, utf16(server.dnsDomain)),
    avPair(7, fileTime(Date.now())),
    avPair(0, Buffer.alloc(0)),
  ]);
  const header = Buffer.alloc(56);
  SIGNATURE.copy(header, 0);
  header.writeUInt32LE(2, 8);
  header.writeUInt16LE(targetName.length, 12);
  header.writeUInt16LE(targetName.length, 14);
  header.writeUInt32LE(56, 16);
  header.writeUInt32LE(flags >>> 0, 20);
  serverChallenge.copy(header, 24);
  header.writeUInt16LE(targetInfo.length, 40);
  header.writeUInt16LE(targetInfo.length, 42);
  header.writeUInt32LE(56 + targetName.length, 44);
  // Version: Windows Server 2016 (10.0 build 14393), NTLMSSP revision 15.
  Buffer.from([10, 0, 0x39, 0x38, 0, 0, 0, 15]).copy(header, 48);
  return {
    message: Buffer.concat([header, targetName, targetInfo]).toString("base64"),
    serverChallenge,
  };
}

/** Reads an AUTHENTICATE (type 3) message; null when it is malformed. */
export function readAuthenticate(base64: string): NtlmAuthenticate | null {
  const bytes = Buffer.from(base64, "base64");
  if (bytes.length < 64 || messageType(base64) !== 3) return null;
  const flags = bytes.readUInt32LE(60);
  const field = (at: number) => {
    const length = bytes.readUInt16LE(at);
    const offset = bytes.readUInt32LE(at + 4);
    return offset + length <= bytes.length ? bytes.subarray(offset, offset + length) : null;
  };
  const decode = (value: Buffer) => value.toString(flags & FLAGS.unicode ? "utf16le" : "latin1");
  const [nt, domain, user, workstation] = [20, 28, 36, 44].map(field);
  if (!nt || !domain || !user || !workstation) return null;
  return {
    ntResponse: nt,
    domain: decode(domain),
    user: decode(user),
    workstation: decode(workstation),
  };
}

/**
 * Checks an NTLMv2 response: HMAC-MD5 keyed with NTOWFv2 (from the MD4 of the password,
 * the upper-cased user and the domain as sent) over the server challenge and the client's
 * blob must equal the response's first 16 bytes.
 */
export function verifyNtlmV2(
  message: NtlmAuthenticate,
  serverChallenge: Buffer,
  password: string,
): boolean {
  if (message.ntResponse.length <= 24) return false;
  const ntHash = createHash("md4").update(utf16(password)).digest();
  const ntowf = createHmac("md5", ntHash)
    .update(utf16(message.user.toUpperCase() + message.domain)).digest();
  const proof = message.ntResponse.subarray(0, 16);
  const blob = message.ntResponse.subarray(16);
  const expected = createHmac("md5", ntowf).update(serverChallenge).update(blob).digest();
  return timingSafeEqual(expected, proof);
}
