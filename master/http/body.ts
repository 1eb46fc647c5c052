/**
 * Reading request bodies safely: a size limit that holds for compressed and decompressed
 * bytes alike (so a gzip bomb is a 413, not an out-of-memory), gzip decoding, JSON
 * parsing and zod validation, each failure a clear `HttpError`.
 *
 * @module
 */
import type { z } from "zod";
import { HttpError, validationError } from "./errors.ts";

function tooLarge(limit: number): HttpError {
  const mb = (limit / 1024 / 1024).toFixed(limit < 1024 * 1024 ? 3 : 0);
  return new HttpError(
    413,
    "body_too_large",
    `the request body is larger than ${mb} MB; raise MAX_BODY_MB on the master or send less`,
  );
}

async function readLimited(stream: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) throw tooLarge(limit);
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

/** Reads the raw body of `request` (gzip decoded), at most `limit` bytes. */
export async function readBody(request: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > limit) throw tooLarge(limit);
  if (!request.body) return new Uint8Array();
  const encoding = (request.headers.get("content-encoding") ?? "identity").toLowerCase().trim();
  if (encoding === "identity" || encoding === "") return await readLimited(request.body, limit);
  if (encoding !== "gzip") {
    throw new HttpError(
      415,
      "unsupported_encoding",
      `Content-Encoding '${encoding}' is not supported; send the body plain or gzip-compressed`,
    );
  }
  try {
    return await readLimited(request.body.pipeThrough(new DecompressionStream("gzip")), limit);
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
