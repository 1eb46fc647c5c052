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

async function readLimited(
  stream: ReadableStream<Uint8Array>,
  limit: number,
  fix: string,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) throw tooLarge(limit, fix);
      chunks.push(value);
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  const body = new Uint8Array(size);
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
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > limit) throw tooLarge(limit, fix);
  if (!request.body) return new Uint8Array();
  const encoding = (request.headers.get("content-encoding") ?? "identity").toLowerCase().trim();
  if (encoding === "identity" || encoding === "") {
    return await readLimited(request.body, limit, fix);
  }
  if (encoding !== "gzip") {
    throw new HttpError(
      415,
      "unsupported_encoding",
      `Content-Encoding '${encoding}' is not supported; send the body plain or gzip-compressed`,
    );
  }
  try {
    const decoded = request.body.pipeThrough(new DecompressionStream("gzip"));
    return await readLimited(decoded, limit, fix);
  } catch (err) {
    if (err instanceof HttpError) throw err;
    throw new HttpError(400, "malformed_gzip", "the body is not valid gzip data");
  }
}

/** Reads and parses a JSON body, not yet validated. */
export async function readJsonValue(request: Request, limit: number): Promise<unknown> {
  const bytes = await readBody(request, limit);
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (err) {
    const detail = err instanceof SyntaxError ? err.message : "the body is not UTF-8 text";
    throw new HttpError(400, "malformed_json", `the body is not valid JSON: ${detail}`);
  }
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
