/**
 * Receiving a snapshot body into a staging. A body of up to 1 MiB is parsed whole; a
 * larger one is read as it arrives: the scanner cuts out each event, which is validated,
 * turned into a row and staged in chunks, so that neither the body nor its events are
 * ever held whole, whatever its size.
 *
 * @module
 */
import { SnapshotEnvelope, SnapshotEventChecker } from "../../shared/protocol.ts";
import { bodyChunks, concatBytes, parseJsonBytes } from "../http/body.ts";
import { HttpError, validationError } from "../http/errors.ts";
import type { SnapshotStaging } from "../store/staging.ts";
import type { OccurrenceRow, SnapshotHeader } from "./plan.ts";
import { eventRow, refuseEventIssues, SnapshotHeaderBody } from "./prepare.ts";
import { type ScannerHandlers, scanParsed, SnapshotScanner } from "./scanner.ts";

/**
 * Bodies up to this many bytes (about 1,000 events) are parsed at once: one native
 * `JSON.parse` costs less than cutting them into parts, and they are small to hold.
 */
const PARSE_WHOLE_BYTES = 1024 * 1024;

/**
 * How many bytes are scanned at a time: a decompressed chunk can hold thousands of
 * events, which would all live until staged and outlast young-generation collections.
 */
const SLICE_BYTES = 16 * 1024;

/** How many rows are handed to the staging at a time. */
const CHUNK_ROWS = 200;

/** How long a body is read at most before other work gets a turn. */
const TURN_MS = 20;

/** The most events one snapshot may hold, as `SnapshotEnvelope` says. */
const MAX_EVENTS = 200_000;

/** A received snapshot: its validated header and how many events it held. */
export type ReceivedSnapshot = SnapshotHeader & { events: number };

/**
 * Reads the snapshot body of `request` (at most `limit` bytes) into `staging`, validating
 * as `prepareSnapshot` does; `knownHashes` are the content hashes the source holds.
 * Throws a 400 `HttpError` naming the first bad field, having staged what came before it.
 */
export async function receiveSnapshot(
  request: Request,
  limit: number,
  knownHashes: ReadonlySet<string>,
  staging: SnapshotStaging,
): Promise<ReceivedSnapshot> {
  const header: Record<string, unknown> = {};
  let notAnObject: { value: unknown } | null = null;
  const checker = new SnapshotEventChecker();
  let count = 0;
  let batch: OccurrenceRow[] = [];
  const handlers: ScannerHandlers = {
    member(key, value) {
      // Checked as it arrives, so that a bad header is named before the events after it.
      const schema = SnapshotHeaderBody.shape[key as keyof typeof SnapshotHeaderBody.shape];
      const checked = schema?.safeParse(value);
      if (checked && !checked.success) throw validationError(checked.error, value, [key]);
      header[key] = value;
    },
    event(value, index) {
      if (index === MAX_EVENTS) {
        throw new HttpError(
          400,
          "invalid_field",
          `events: at most ${MAX_EVENTS} events in one snapshot; split the source`,
          "events",
        );
      }
      const row = eventRow(value, index, knownHashes);
      checker.add(row.key, row.start_ms, row.end_ms);
      batch.push(row);
      count++;
    },
    other(value) {
      notAnObject = { value };
    },
  };
  const chunks = bodyChunks(request, limit);
  const head: Uint8Array[] = [];
  let size = 0;
  let sawEvents: boolean;
  try {
    let next = await chunks.next();
    for (; !next.done && size <= PARSE_WHOLE_BYTES; next = await chunks.next()) {
      head.push(next.value);
      size += next.value.byteLength;
    }
    if (next.done) sawEvents = scanParsed(parseJsonBytes(concatBytes(head)), handlers);
    else {
      head.push(next.value);
      sawEvents = await scan(head, chunks, handlers, async () => {
        if (batch.length < CHUNK_ROWS) return;
        await stage(batch, knownHashes, staging);
        batch = [];
      });
    }
  } finally {
    // A body refused halfway is not read on: its stream is cancelled.
    await chunks.return(undefined);
  }
  await stage(batch, knownHashes, staging);
  if (!sawEvents) {
    // No events array: the envelope's schema says what is wrong, as for any other field.
    const body = notAnObject === null ? header : (notAnObject as { value: unknown }).value;
    const parsed = SnapshotEnvelope.safeParse(body);
    if (!parsed.success) throw validationError(parsed.error, body);
  }
  const parsed = SnapshotHeaderBody.safeParse(header);
  if (!parsed.success) throw validationError(parsed.error, header);
  refuseEventIssues(checker, parsed.data.window);
  return { ...parsed.data, events: count };
}

/**
 * Scans a large body, `head` being its chunks read so far and `rest` the others, calling
 * `afterSlice` between slices; answers whether it held an events array.
 */
async function scan(
  head: Uint8Array[],
  rest: AsyncIterator<Uint8Array>,
  handlers: ScannerHandlers,
  afterSlice: () => Promise<void>,
): Promise<boolean> {
  const scanner = new SnapshotScanner(handlers);
  let lastTurn = performance.now();
  const feed = async (bytes: Uint8Array) => {
    for (let at = 0; at < bytes.length; at += SLICE_BYTES) {
      scanner.write(bytes.subarray(at, at + SLICE_BYTES));
      await afterSlice();
    }
    // A body that has fully arrived is read without waiting on the network, so the event
    // loop would not turn until it is done: let other requests and timers run between.
    if (performance.now() - lastTurn > TURN_MS) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      lastTurn = performance.now();
    }
  };
  // Each chunk of the head is let go once scanned.
  for (let bytes = head.shift(); bytes; bytes = head.shift()) await feed(bytes);
  for (let next = await rest.next(); !next.done; next = await rest.next()) await feed(next.value);
  scanner.end();
  return scanner.sawEvents;
}

/**
 * Hands rows to the staging: those whose hash the source holds are kept as they are, the
 * others staged to be written, so that an unchanged resend stages no JSON at all.
 */
async function stage(
  rows: readonly OccurrenceRow[],
  knownHashes: ReadonlySet<string>,
  staging: SnapshotStaging,
): Promise<void> {
  if (knownHashes.size === 0) return await staging.add(rows);
  staging.keep(rows.filter((r) => knownHashes.has(r.hash)));
  await staging.add(rows.filter((r) => !knownHashes.has(r.hash)));
}
