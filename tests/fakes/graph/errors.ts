/**
 * Graph's error answers: the status and the JSON error object of "Microsoft Graph error
 * responses and resource types" (https://learn.microsoft.com/en-us/graph/errors),
 * `{ "error": { "code", "message", "innerError": { "date", "request-id",
 * "client-request-id" } } }`, with the codes and texts Exchange Online's calendar
 * endpoints give.
 *
 * @module
 */

/** A failure a handler throws; the server turns it into Graph's error answer. */
export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** The error object of an answer, as Graph writes it. */
export interface ErrorBody {
  error: {
    code: string;
    message: string;
    innerError: { date: string; "request-id": string; "client-request-id": string };
  };
}

/** The body of an error answer for a request (its `client-request-id` echoed, as Graph does). */
export function errorBody(
  error: GraphError,
  requestId: string,
  clientRequestId: string | null,
  nowMs: number,
): ErrorBody {
  return {
    error: {
      code: error.code,
      message: error.message,
      innerError: {
        date: new Date(nowMs).toISOString().slice(0, 19),
        "request-id": requestId,
        "client-request-id": clientRequestId ?? requestId,
      },
    },
  };
}

/** 403 for an app without the permission the call needs. */
export const accessDenied = () =>
  new GraphError(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.");

/** 403 for a mailbox outside the app's application access policy. */
export const blockedByPolicy = () =>
  new GraphError(
    403,
    "ErrorAccessDenied",
    "Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly AccessPolicy settings.",
  );

/** 404 for a user that does not exist in the tenant. */
export const invalidUser = (upn: string) =>
  new GraphError(404, "ErrorInvalidUser", `The requested user '${upn}' is invalid.`);

/** 400 for an id that is not an Exchange id at all. */
export const malformedId = () => new GraphError(400, "ErrorInvalidIdMalformed", "Id is malformed.");

/** 404 for a well-formed id of nothing. */
export const itemNotFound = () =>
  new GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.");

/** 400 for a bad query or body, naming what is wrong. */
export const badRequest = (message: string, code = "ErrorInvalidRequest") =>
  new GraphError(400, code, message);
