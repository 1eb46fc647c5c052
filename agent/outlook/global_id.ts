/**
 * Outlook's GlobalAppointmentID turned into the iCalendar UID that the same meeting has
 * everywhere else (ICS feeds, CalDAV, EWS `ICalUid`), so the consolidated calendar can
 * tell it is one meeting and not two.
 *
 * `AppointmentItem.GlobalAppointmentID` is the PidLidGlobalObjectId byte array in hex.
 * Its layout, [MS-OXOCAL] 2.2.1.27 PidLidGlobalObjectId
 * (https://learn.microsoft.com/en-us/openspecs/exchange_server_protocols/ms-oxocal/1d3aac05-a7b9-45cc-a213-47f0a0a2c5c1):
 *
 * | bytes   | field                                                              |
 * | ------- | ------------------------------------------------------------------ |
 * | 0..15   | Byte Array ID 04 00 00 00 82 00 E0 00 74 C5 B7 10 1A 82 E0 08      |
 * | 16..19  | YH YL M D: the original date of an exception, zero otherwise       |
 * | 20..27  | Creation Time (FILETIME)                                           |
 * | 28..35  | X, reserved                                                        |
 * | 36..39  | Size of Data, UInt32 little-endian                                 |
 * | 40..    | Data                                                               |
 *
 * How it becomes a UID is settled by [MS-OXCICAL] 2.1.3.1.1.20.26 Property: UID
 * (https://learn.microsoft.com/en-us/openspecs/exchange_server_protocols/ms-oxcical/ac8c1e68-de58-4230-a2e2-79aae754a055)
 * and shown step by step in [MS-ASEMAIL] 4.3 "Converting a GlobalObjId to a UID"
 * (https://learn.microsoft.com/en-us/openspecs/exchange_server_protocols/ms-asemail/e7424ddc-dd10-431e-a0b7-5c794863370e),
 * whose Data grammar is [MS-ASEMAIL] 2.2.2.37 GlobalObjId: a meeting that came from
 * another iCalendar system keeps that UID inside Data after a "vCal-Uid" marker; any
 * other id's UID is the hex of the id with the instance date zeroed, which is
 * PidLidCleanGlobalObjectId ([MS-OXOCAL] 2.2.1.28).
 *
 * @module
 */

/** [MS-OXOCAL] 2.2.1.27: the 16 bytes every Global Object ID starts with. */
const BYTE_ARRAY_ID = "040000008200E00074C5B7101A82E008";

/** Byte Array ID, instance date, Creation Time, X and Size: 16 + 4 + 8 + 8 + 4 bytes. */
const HEADER_BYTES = 40;

/** Where YH YL M D sit, and where Size does. */
const INSTANCE_DATE = 16;
const SIZE = 36;

/** [MS-ASEMAIL] 2.2.2.37: VCALSTRING "vCal-Uid" then VERSION 01 00 00 00. */
const VCAL_MARKER = [..."vCal-Uid"].map((c) => c.charCodeAt(0)).concat([1, 0, 0, 0]);

/** Fatal, so bytes that are not UTF-8 are noticed rather than turned into U+FFFD. */
const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** The bytes `hex` spells, or null when it is not an even run of hex digits. */
function bytesOf(hex: string): Uint8Array | null {
  if (hex.length % 2 !== 0 || !/^[0-9A-F]*$/.test(hex)) return null;
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) {
    bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  }
  return bytes;
}

function hexOf(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("").toUpperCase();
}

/**
 * The UID Data carries after the vCal-Uid marker, or null when Data is an Outlook id, or
 * its embedded UID is empty or not UTF-8 (then the hex form is the better key).
 */
function embeddedUid(data: Uint8Array): string | null {
  if (data.length <= VCAL_MARKER.length) return null;
  if (!VCAL_MARKER.every((b, i) => data[i] === b)) return null;
  const rest = data.subarray(VCAL_MARKER.length);
  // The UID is null-terminated; the terminator is inside Size, but stop at the first NUL
  // whether or not it is the last byte.
  const nul = rest.indexOf(0);
  try {
    const uid = UTF8.decode(nul === -1 ? rest : rest.subarray(0, nul)).trim();
    return uid === "" ? null : uid;
  } catch {
    return null;
  }
}

/**
 * The iCalendar UID of the meeting whose Outlook `GlobalAppointmentID` (the hex of its
 * PidLidGlobalObjectId) is `hex`:
 *
 * - a meeting that came from another system (Google, iCloud, …) carries that system's UID
 *   after a "vCal-Uid" marker, and gets it back;
 * - any other id becomes uppercase hex with the instance date (bytes 16..19) zeroed, the
 *   PidLidCleanGlobalObjectId. That is the UID Exchange reports through EWS (`UID`,
 *   `ICalUid`) and Outlook exports to ICS, and it is the same for a series and each of
 *   its exceptions, which are told apart by their RECURRENCE-ID instead.
 *
 * Case and whitespace in `hex` do not matter. Anything that is not a well-formed Global
 * Object ID (another prefix, too short, odd length, not hex, a Size beyond the bytes
 * given) is returned as it came, trimmed, so that a key is never lost: the script falls
 * back to the EntryID when an item has no GlobalAppointmentID, and that must pass.
 */
export function icalUidFromGlobalId(hex: string): string {
  const trimmed = hex.trim();
  const bytes = bytesOf(trimmed.replace(/\s+/g, "").toUpperCase());
  if (bytes === null || bytes.length < HEADER_BYTES) return trimmed;
  if (hexOf(bytes.subarray(0, 16)) !== BYTE_ARRAY_ID) return trimmed;
  const size = new DataView(bytes.buffer).getUint32(SIZE, true);
  if (size > bytes.length - HEADER_BYTES) return trimmed;

  const uid = embeddedUid(bytes.subarray(HEADER_BYTES, HEADER_BYTES + size));
  if (uid !== null) return uid;

  // Bytes past Size, if any, are kept: Exchange hex-encodes the whole clean id, and
  // dropping them could make two ids one.
  const clean = bytes.slice();
  clean.fill(0, INSTANCE_DATE, INSTANCE_DATE + 4);
  return hexOf(clean);
}
