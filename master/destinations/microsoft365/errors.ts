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
  // A connection dropped while an answer's body was read arrives from fetch as a TypeError
  // ("error reading a body from connection"), not as a Graph answer: the server may or may
  // not have acted, which the reconciler's retry settles (creates carry a transactionId).
  // Only that message: any other TypeError is a bug and must not pass for an outage.
  if (
    error instanceof TypeError &&
    /body from connection|connection (reset|closed)/i.test(error.message)
  ) {
    return new DestinationError(
      "unreachable",
      `the connection to Microsoft Graph broke during the answer (${error.message})`,
    );
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
