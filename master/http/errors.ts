/**
 * API errors: every failure answers `{error: {code, message, field}}` with the right
 * status, where `field` is the JSON path of the bad input (`events[3].start`).
 *
 * @module
 */
import type { z } from "zod";
import { formatPath } from "../../shared/json_path.ts";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** An error the API reports to the caller as is. */
export class HttpError extends Error {
  /** `field` names the offending input, `headers` are added to the answer. */
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly field: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}

/** Whether `path` leads to a value inside `input` (false for a missing key). */
function present(input: unknown, path: readonly PropertyKey[]): boolean {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== "object" || !(key in value)) return false;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value !== undefined;
}

/**
 * A 400 for the first issue of validating `input`, with the JSON path of the bad field;
 * `prefix` is the path of `input` inside the request body.
 */
export function validationError(
  error: z.ZodError,
  input: unknown,
  prefix: readonly PropertyKey[] = [],
): HttpError {
  const issue = error.issues[0];
  const field = formatPath([...prefix, ...issue.path]) || null;
  const missing = issue.code === "invalid_type" && !present(input, issue.path);
  const detail = missing ? `required; add it (${issue.expected})` : issue.message;
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problems)` : "";
  return new HttpError(400, "invalid_field", `${field ?? "body"}: ${detail}${more}`, field);
}
