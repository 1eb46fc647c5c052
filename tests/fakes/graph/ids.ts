/**
 * Exchange item ids as Graph shows them: opaque base64 strings starting `AAMk`. A stored
 * event's id names it; an occurrence's id names its series and its original start, so an
 * occurrence can be read, changed or deleted by id like Graph allows.
 *
 * @module
 */
import { malformedId } from "./errors.ts";

/** What an id points at: a stored event, or one occurrence of a stored series. */
export type IdTarget =
  | { kind: "event"; mailbox: string; serial: number }
  | { kind: "occurrence"; mailbox: string; serial: number; originalStartMs: number };

const PREFIX = "AAMkAG";

function encode(text: string): string {
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_");
}

/** The id of a stored event. */
export function eventId(mailbox: string, serial: number): string {
  return PREFIX + encode(`E|${mailbox}|${serial}`);
}

/** The id of an occurrence of a stored series. */
export function occurrenceId(mailbox: string, serial: number, originalStartMs: number): string {
  return PREFIX + encode(`O|${mailbox}|${serial}|${originalStartMs}`);
}

/** What an id points at; `ErrorInvalidIdMalformed` when it is not one of these ids. */
export function decodeId(id: string): IdTarget {
  if (!id.startsWith(PREFIX)) throw malformedId();
  let text: string;
  try {
    text = atob(id.slice(PREFIX.length).replace(/-/g, "+").replace(/_/g, "/"));
  } catch {
    throw malformedId();
  }
  const parts = text.split("|");
  const serial = Number(parts[2]);
  if (parts[0] === "E" && parts.length === 3 && Number.isInteger(serial)) {
    return { kind: "event", mailbox: parts[1], serial };
  }
  const start = Number(parts[3]);
  if (parts[0] === "O" && parts.length === 4 && Number.isInteger(serial) && !isNaN(start)) {
    return { kind: "occurrence", mailbox: parts[1], serial, originalStartMs: start };
  }
  throw malformedId();
}
