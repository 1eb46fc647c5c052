/**
 * JSON paths as error messages show them: `calendar_sources[1].url`, `events[3].start`.
 *
 * @module
 */

/** Formats a validation issue's path, numbers as `[i]` and names joined with dots. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((key, i) => (typeof key === "number" ? `[${key}]` : `${i === 0 ? "" : "."}${String(key)}`))
    .join("");
}
