/**
 * API errors: every failure answers `{error: {code, message, field}}` with the right
 * status, where `field` is the JSON path of the bad input (`events[3].start`).
 *
 * @module
 */
import type { z } from "zod";
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

/** Formats a zod issue path as JSON path text: `events[3].start`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, key) =>
      typeof key === "number" ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key),
    "",
  );
}

/** A 400 for the first issue of a failed validation, prefixed with `prefix` in the path. */
export function validationError(error: z.ZodError, prefix: readonly PropertyKey[] = []) {
  const issue = error.issues[0];
  const field = formatPath([...prefix, ...issue.path]) || null;
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problems)` : "";
  return new HttpError(
    400,
    "invalid_field",
    `${field ?? "body"}: ${describeIssue(issue)}${more}`,
    field,
  );
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === "invalid_type" && issue.input === undefined) {
    return `required; add it (${issue.expected})`;
  }
  if (issue.code === "unrecognized_keys") return `unknown keys ${issue.keys.join(", ")}`;
  return issue.message;
}
