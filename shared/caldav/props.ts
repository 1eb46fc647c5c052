/**
 * Property values as tsdav hands them over after parsing a multistatus answer.
 *
 * @module
 */

/**
 * The text of a property, or null when it is absent. tsdav turns numeric and boolean
 * text into numbers and booleans, and keeps CDATA in an object; all become text again.
 */
export function propText(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === "object") {
    const node = value as { _cdata?: unknown; _text?: unknown };
    const text = node._cdata ?? node._text;
    return text === undefined ? null : String(text);
  }
  return String(value);
}
