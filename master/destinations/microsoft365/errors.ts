/**
 * Microsoft Graph failures in the destination vocabulary. The shared Graph client words
 * each failure with its fix (the permission to grant, the access policy, the setting of a
 * refused secret) and its kind; this only carries them over, so the reconciler retries
 * what may pass later and never retries a refusal (`unauthorized`, see
 * `master/sync/refusals.ts`).
 *
 * @module
 */
import { GraphError } from "../../../shared/graph/errors.ts";
import { DestinationError } from "../types.ts";

/** `error` as a {@link DestinationError}, or null when it is no Graph failure. */
export function destinationErrorOf(error: unknown): DestinationError | null {
  if (error instanceof DestinationError) return error;
  if (error instanceof GraphError) {
    return new DestinationError(error.kind, error.message, error.retryAfterMs);
  }
  return null;
}

/** Runs `operation`, turning Graph failures into {@link DestinationError}s. */
export async function translated<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw destinationErrorOf(error) ?? error;
  }
}
