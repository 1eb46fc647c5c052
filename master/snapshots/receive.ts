/**
 * Receiving a snapshot body into a staging. A body up to 16 MiB (about 20,000 events) is
 * parsed at once, as native `JSON.parse` is about five times faster than a streaming
 * parser; a larger one is parsed as it arrives, each event validated, turned into a row
 * and staged in chunks, so that neither the body nor its events are ever held whole.
 *
 * @module
 */
import { JSONParser } from "@streamparser/json";
import { SnapshotEventChecker } from "../../shared/protocol.ts";
import { bodyChunks, concatBytes, malformedJson, parseJsonBytes } from "../http/body.ts";
import { HttpError, validationError } from "../http/errors.ts";
import type { SnapshotStaging, StageOptions } from "../store/staging.ts";
import type { OccurrenceRow, SnapshotHeader } from "./plan.ts";
import { eventRow, prepareSnapshot, refuseEventIssues, SnapshotHeaderBody } from "./prepare.ts";

/**
 * Bodies up to this many bytes (about 20,000 events) are parsed at once: the streaming
 * parser is about five times slower, and a body this small costs a bounded 100 MiB or so
 * while parsed whole.
 */
export const PARSE_WHOLE_BYTES = 16 * 1024 * 1024;

/** How many bytes of a streamed body are parsed at a time. */
const SLICE_BYTES = 16 * 1024;

/** How many rows a streamed body hands the staging at a time. */
const CHUNK_ROWS = 200;

/** How long a streamed body is parsed at most before other work gets a turn. */
const TURN_MS = 20;

/** The most events one snapshot may hold, as `SnapshotEnvelope` says. */
const MAX_EVENTS = 200_000;

/** A received snapshot: its validated header and how many events it held. */
export type ReceivedSnapshot = SnapshotHeader & { events: number };

/**
 * Reads the snapshot body of `request` (at most `limit` bytes) into `staging`, validating
 * as `prepareSnapshot` does; `knownHashes` are the content hashes the source holds, and a
 * body over `parseWholeBytes` is streamed.
 * Throws a 400 `HttpError` naming the first bad field, having staged what came before it.
 */
export async function receiveSnapshot(
  request: Request,
  limit: number,
  knownHashes: ReadonlySet<string>,
  staging: SnapshotStaging,
  parseWholeBytes = PARSE_WHOLE_BYTES,
): Promise<ReceivedSnapshot> {
  const chunks = bodyChunks(request, limit);
  try {
    const head: Uint8Array[] = [];
    let size = 0;
    while (size <= parseWholeBytes) {
      const next = await chunks.next();
      if (next.done) {
        const body = parseJsonBytes(concatBytes(head));
        const { rows, ...header } = prepareSnapshot(body, knownHashes);
        await stage(rows, knownHashes, staging, { inMemory: true });
        return { ...header, events: rows.length };
      }
      head.push(next.value);
      size += next.value.byteLength;
    }
    return await streamSnapshot(head, chunks, knownHashes, staging);
  } finally {
    // A body refused halfway is not read on: its stream is cancelled.
    await chunks.return(undefined);
  }
}

/**
 * Hands rows to the staging: those whose hash the source holds are kept as they are, the
 * others staged to be written, so that an unchanged resend stages no JSON at all.
 */
async function stage(
  rows: readonly OccurrenceRow[],
  knownHashes: ReadonlySet<string>,
  staging: SnapshotStaging,
  options?: StageOptions,
): Promise<void> {
  if (knownHashes.size === 0) return await staging.add(rows, options);
  staging.keep(rows.filter((r) => knownHashes.has(r.hash)));
  await staging.add(rows.filter((r) => !knownHashes.has(r.hash)), options);
}

/** Parses a large body as it arrives; see `receiveSnapshot`. */
async function streamSnapshot(
  head: Uint8Array[],
  rest: AsyncIterator<Uint8Array>,
  knownHashes: ReadonlySet<string>,
  staging: SnapshotStaging,
): Promise<ReceivedSnapshot> {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  // Only the header's parts and each event are built; emitted events are not kept in
  // their array (keepStack: false).
  const parser = new JSONParser({
    paths: ["$.window", "$.generated_at", "$.settings", "$.warnings", "$.events.*"],
    keepStack: false,
  });
  const header: Record<string, unknown> = {};
  let arrived: unknown[] = [];
  let eventsNotArray = false;
  parser.onValue = ({ value, key, stack }) => {
    if (stack.length === 1) header[key as string] = value;
    else if (typeof key === "number") arrived.push(value);
    else eventsNotArray = true;
  };
  const checker = new SnapshotEventChecker();
  let count = 0;
  let batch: OccurrenceRow[] = [];
  const parse = (text: string) => {
    if (text === "") return;
    try {
      parser.write(text);
    } catch (err) {
      throw malformedJson(err instanceof Error ? err.message : String(err));
    }
    if (eventsNotArray) {
      throw new HttpError(400, "invalid_field", "events: expected an array of events", "events");
    }
    for (const item of arrived) {
      if (count === MAX_EVENTS) {
        throw new HttpError(
          400,
          "invalid_field",
          `events: at most ${MAX_EVENTS} events in one snapshot; split the source`,
          "events",
        );
      }
      const row = eventRow(item, count++, knownHashes);
      checker.add(row.key, row.start_ms, row.end_ms);
      batch.push(row);
    }
    arrived = [];
  };
  const decode = (bytes?: Uint8Array) => {
    try {
      return bytes ? decoder.decode(bytes, { stream: true }) : decoder.decode();
    } catch {
      throw malformedJson("the body is not UTF-8 text");
    }
  };
  let lastTurn = performance.now();
  const feed = async (bytes: Uint8Array) => {
    // A decompressed chunk can hold a megabyte and thousands of events: parsed whole,
    // they would all live until staged and outlast young-generation collections.
    for (let at = 0; at < bytes.length; at += SLICE_BYTES) {
      parse(decode(bytes.subarray(at, at + SLICE_BYTES)));
      if (batch.length >= CHUNK_ROWS) {
        await stage(batch, knownHashes, staging);
        batch = [];
      }
    }
    // A body that has fully arrived is read without waiting on the network, so the event
    // loop would not turn until it is done: let other requests and timers run between.
    if (performance.now() - lastTurn > TURN_MS) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      lastTurn = performance.now();
    }
  };
  // Each chunk of the head is let go once parsed.
  for (let bytes = head.shift(); bytes; bytes = head.shift()) await feed(bytes);
  for (let next = await rest.next(); !next.done; next = await rest.next()) await feed(next.value);
  parse(decode());
  if (!parser.isEnded) {
    try {
      parser.end();
    } catch {
      throw malformedJson("the body ends before its JSON does");
    }
  }
  await stage(batch, knownHashes, staging);
  const parsed = SnapshotHeaderBody.safeParse(header);
  if (!parsed.success) throw validationError(parsed.error, header);
  if (count === 0) {
    // A body this large that lists no event has no events array: the header is small.
    throw new HttpError(400, "invalid_field", "events: expected an array of events", "events");
  }
  refuseEventIssues(checker, parsed.data.window);
  return { ...parsed.data, events: count };
}
