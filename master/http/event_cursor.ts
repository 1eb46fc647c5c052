/**
 * The `cursor` of `GET /api/events`: where the previous page ended, opaque to clients.
 *
 * A cursor is the base64url of a JSON array: a format version, a digest of the listing's
 * filters (range, agent, source), and the `EventPosition` of the page's last event. The
 * position is a place in the listing's total order, not an offset, so events added or
 * removed between pages move no page boundary. The digest binds the cursor to its query:
 * reused with other filters it is refused rather than silently skipping or repeating
 * events. A cursor needs no secret: all it lets a caller do is start a listing it may
 * read anyway at another place; and every master sharing a store reads the others'.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { z } from "zod";
import { sha256Hex } from "../../shared/hash.ts";
import { Identifier } from "../../shared/protocol.ts";
import { toMillis } from "../../shared/time.ts";
import type { EventPosition, EventQuery } from "../store/types.ts";
import { HttpError } from "./errors.ts";

/** The cursor format this master writes; another is refused as malformed. */
const FORMAT = 1;

/**
 * Longer than any cursor this master writes: an occurrence key holds a uid of at most
 * 1,024 characters, each at most 6 once escaped in JSON, and base64 adds a third.
 */
export const MAX_CURSOR_LENGTH = 16_384;

const Payload = z.tuple([
  z.literal(FORMAT),
  z.string(),
  z.number().int().min(-(2 ** 52)).max(2 ** 52),
  Identifier,
  Identifier,
  z.string().min(1),
]);

/** A digest of the filters a cursor is valid for; instants compared as epoch ms. */
function filtersDigest(query: EventQuery): string {
  const filters = [
    toMillis(query.start),
    toMillis(query.end),
    query.agent_id ?? null,
    query.source_id ?? null,
  ];
  return sha256Hex(JSON.stringify(filters)).slice(0, 16);
}

/** The cursor of the page after `position` in the listing of `query`. */
export function encodeCursor(position: EventPosition, query: EventQuery): string {
  const payload = [
    FORMAT,
    filtersDigest(query),
    position.start_ms,
    position.agent_id,
    position.source_id,
    position.key,
  ];
  return Buffer.from(JSON.stringify(payload), "utf8").toString("base64url");
}

/** The 400 for a cursor, saying what to do instead. */
function cursorError(problem: string): HttpError {
  return new HttpError(
    400,
    "invalid_cursor",
    `cursor: ${problem}; pass the next_cursor of the previous page unchanged, with the same ` +
      "start, end, agent_id and source_id, or leave cursor out to start at the first page",
    "cursor",
  );
}

/**
 * The position a cursor from `encodeCursor` names, or a 400 naming `cursor` when it is
 * malformed or was issued for a listing with other filters.
 */
export function decodeCursor(cursor: string, query: EventQuery): EventPosition {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor) || cursor.length > MAX_CURSOR_LENGTH) {
    throw cursorError("not a cursor this master issued");
  }
  let json: unknown;
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(cursor, "base64url"));
    json = JSON.parse(text);
  } catch {
    throw cursorError("not a cursor this master issued");
  }
  const parsed = Payload.safeParse(json);
  if (!parsed.success) throw cursorError("not a cursor this master issued");
  const [, digest, start_ms, agent_id, source_id, key] = parsed.data;
  if (digest !== filtersDigest(query)) {
    throw cursorError("this cursor belongs to a listing with other filters");
  }
  return { start_ms, agent_id, source_id, key };
}
