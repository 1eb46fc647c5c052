/**
 * Reading request bodies safely: a size limit that holds for compressed and decompressed
 * bytes alike (so a gzip bomb is a 413, not an out-of-memory), gzip decoding, JSON
 * parsing and zod validation, each failure a clear `HttpError`.
 *
 * @module
 */
import type { z } from "zod";
import { HttpError, validationError } from "./errors.ts";

/** The fix a 413 names for the JSON API, whose limit the operator sets. */
const RAISE_LIMIT = "raise MAX_BODY_MB on the master or send less";

function tooLarge(limit: number, fix: string): HttpError {
  const mb = (limit / 1024 / 1024).toFixed(limit < 1024 * 1024 ? 3 : 0);
  return new HttpError(413, "body_too_large", `the request body is larger than ${mb} MB; ${fix}`);
}

/**
 * How many compressed bytes are decompressed at a time. A decompression stream answers
 * each chunk written with one buffer, and a snapshot compresses fifty-fold: a 64 KiB
 * network read became a 3 MiB buffer that outlived young-generation collections while it
 * was parsed, and such buffers piled up to a hundred megabytes before a full one.
 */
const GZIP_PIECE_BYTES = 1024;

/** A stream that passes byte chunks on in pieces of at most `size` bytes. */
function inPieces(size: number): TransformStream<Uint8Array, Uint8Array<ArrayBuffer>> {
  return new TransformStream({
    transform(chunk, controller) {
      for (let at = 0; at < chunk.byteLength; at += size) {
        controller.enqueue(chunk.subarray(at, at + size) as Uint8Array<ArrayBuffer>);
      }
    },
  });
}

/**
 * The body of `request`, gzip decoded, chunk by chunk; throws a 413 as soon as more than
 * `limit` bytes arrived (compressed or decoded), `fix` being what it tells the caller to
 * do, and a 400 or 415 for a body it cannot decode.
 */
export async function* bodyChunks(
  request: Request,
  limit: number,
  fix = RAISE_LIMIT,
): AsyncGenerator<Uint8Array> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > limit) throw tooLarge(limit, fix);
  if (!request.body) return;
  const encoding = (request.headers.get("content-encoding") ?? "identity").toLowerCase().trim();
  const gzip = encoding === "gzip";
  if (!gzip && encoding !== "identity" && encoding !== "") {
    throw new HttpError(
      415,
      "unsupported_encoding",
      `Content-Encoding '${encoding}' is not supported; send the body plain or gzip-compressed`,
    );
  }
  const stream = gzip
    ? request.body.pipeThrough(inPieces(GZIP_PIECE_BYTES)).pipeThrough(
      new DecompressionStream("gzip"),
    )
    : request.body;
  const reader = stream.getReader();
  let size = 0;
  try {
    for (;;) {
      let read;
      try {
        read = await reader.read();
      } catch (err) {
        if (!gzip) throw err;
        throw new HttpError(400, "malformed_gzip", "the body is not valid gzip data");
      }
      if (read.done) return;
      size += read.value.byteLength;
      if (size > limit) throw tooLarge(limit, fix);
      yield read.value;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

/** Joins chunks into one array. */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  const body = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let offset = 0;
  for (const c of chunks) {
    body.set(c, offset);
    offset += c.byteLength;
  }
  return body;
}

/**
 * Reads the raw body of `request` (gzip decoded), at most `limit` bytes; `fix` is what a
 * 413 tells the caller to do.
 */
export async function readBody(
  request: Request,
  limit: number,
  fix = RAISE_LIMIT,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of bodyChunks(request, limit, fix)) chunks.push(chunk);
  return concatBytes(chunks);
}

/** The 400 for a body that is not JSON, saying why. */
export function malformedJson(detail: string): HttpError {
  return new HttpError(400, "malformed_json", `the body is not valid JSON: ${detail}`);
}

/** Parses UTF-8 JSON bytes; a 400 `malformed_json` when they are not. */
export function parseJsonBytes(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (err) {
    throw malformedJson(err instanceof SyntaxError ? err.message : "the body is not UTF-8 text");
  }
}

/** Reads and parses a JSON body, not yet validated. */
export async function readJsonValue(request: Request, limit: number): Promise<unknown> {
  return parseJsonBytes(await readBody(request, limit));
}

/** Reads, parses and validates a JSON body against `schema`. */
export async function readJson<S extends z.ZodType>(
  request: Request,
  schema: S,
  limit: number,
): Promise<z.output<S>> {
  const value = await readJsonValue(request, limit);
  const result = schema.safeParse(value);
  if (!result.success) throw validationError(result.error, value);
  return result.data;
}

/** The media type of the management page's forms; the only one `readForm` takes. */
const FORM_TYPE = "application/x-www-form-urlencoded";

/**
 * Reads an HTML form of at most `limit` bytes. Only URL-encoded UTF-8 is taken, what the
 * management page's forms send: a multipart or JSON body is a 400, not a parser's crash.
 */
export async function readForm(request: Request, limit: number): Promise<URLSearchParams> {
  const type = (request.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (type !== FORM_TYPE) {
    throw new HttpError(
      400,
      "malformed_form",
      `a form must be sent as ${FORM_TYPE}, not '${type || "no Content-Type"}'; ` +
        "send it from the management page",
    );
  }
  const bytes = await readBody(request, limit, "a form of the management page is far smaller");
  try {
    return new URLSearchParams(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new HttpError(400, "malformed_form", "the form is not UTF-8 text; send it from the page");
  }
}
