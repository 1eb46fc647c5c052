/**
 * Item, folder and occurrence ids and change keys, built like Exchange's: opaque base64 of
 * a structure the server reads back. An id names its mailbox (a length-prefixed mailbox
 * GUID, which is why Exchange ids start with `AAMk`) and its object; an occurrence id also
 * carries its series and original start, so occurrences need no storage of their own. A
 * change key carries the change number of the object's last modification, which is what
 * conflict detection compares.
 *
 * @module
 */

/** An object of a mailbox: an item, a folder or one occurrence of a series (by UUID). */
export type ObjectRef =
  | { kind: "item" | "folder"; object: string }
  | { kind: "occurrence"; object: string; originalStart: number };

/** What an id points at: an object and the UUID of its mailbox. */
export type DecodedId = ObjectRef & { mailbox: string };

/** Strict base64 (padding required), as an id that lost characters must not resolve. */
function decodeBase64(text: string): Uint8Array | null {
  try {
    return Uint8Array.fromBase64(text, { lastChunkHandling: "strict" });
  } catch {
    return null;
  }
}

const KINDS = { item: 1, folder: 2, occurrence: 3 } as const;
const GUID_LENGTH = 36;
const HEADER = [0x00, 0x03, GUID_LENGTH];

function uuidBytes(uuid: string): Uint8Array {
  const hex = uuid.replaceAll("-", "");
  return Uint8Array.from({ length: 16 }, (_, i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16));
}

function uuidOf(bytes: Uint8Array): string {
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
    hex.slice(20)
  }`;
}

/** Writes the id of an object (`object` is a UUID) of a mailbox (a UUID). */
export function encodeId(id: DecodedId): string {
  const tail = id.kind === "occurrence" ? 8 : 0;
  const bytes = new Uint8Array(HEADER.length + GUID_LENGTH + 1 + 16 + tail);
  bytes.set(HEADER);
  bytes.set(new TextEncoder().encode(id.mailbox), HEADER.length);
  let at = HEADER.length + GUID_LENGTH;
  bytes[at++] = KINDS[id.kind];
  bytes.set(uuidBytes(id.object), at);
  at += 16;
  if (id.kind === "occurrence") {
    new DataView(bytes.buffer).setBigInt64(at, BigInt(id.originalStart));
  }
  return bytes.toBase64();
}

/** Reads an id back; null when it is not one this server wrote (`ErrorInvalidIdMalformed`). */
export function decodeId(id: string): DecodedId | null {
  const bytes = decodeBase64(id);
  const base = HEADER.length + GUID_LENGTH + 1 + 16;
  if (!bytes || bytes.length < base || HEADER.some((b, i) => bytes[i] !== b)) return null;
  const mailbox = new TextDecoder().decode(bytes.subarray(HEADER.length, HEADER.length + 36));
  const kind = bytes[HEADER.length + GUID_LENGTH];
  const object = uuidOf(bytes.subarray(base - 16, base));
  if (kind === KINDS.item && bytes.length === base) return { kind: "item", mailbox, object };
  if (kind === KINDS.folder && bytes.length === base) return { kind: "folder", mailbox, object };
  if (kind === KINDS.occurrence && bytes.length === base + 8) {
    const originalStart = Number(new DataView(bytes.buffer).getBigInt64(base));
    return { kind: "occurrence", mailbox, object, originalStart };
  }
  return null;
}

/** The object class written at the start of a change key (Exchange: 0x0F calendar items). */
export type ChangeKeyClass = "calendarItem" | "folder";

const CLASSES: Record<ChangeKeyClass, number> = { calendarItem: 0x0f, folder: 0x01 };
const KEY_LENGTH = 8 + 16 + 6;

/** Writes a change key: class, length 22, the mailbox's replica GUID, the change number. */
export function encodeChangeKey(cls: ChangeKeyClass, mailbox: string, change: number): string {
  const bytes = new Uint8Array(KEY_LENGTH);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, CLASSES[cls], true);
  view.setUint32(4, 22, true);
  bytes.set(uuidBytes(mailbox), 8);
  view.setUint16(24, Math.floor(change / 2 ** 32));
  view.setUint32(26, change % 2 ** 32);
  return bytes.toBase64();
}

/** Reads the change number of a change key of this mailbox; null when it is malformed. */
export function decodeChangeKey(key: string, mailbox: string): number | null {
  const bytes = decodeBase64(key);
  if (!bytes || bytes.length !== KEY_LENGTH) return null;
  const view = new DataView(bytes.buffer);
  if (view.getUint32(4, true) !== 22 || uuidOf(bytes.subarray(8, 24)) !== mailbox) return null;
  return view.getUint16(24) * 2 ** 32 + view.getUint32(26);
}
