/**
 * The HTTP side of the fake Exchange: the `/EWS/Exchange.asmx` endpoint behind IIS-style
 * authentication, the test switches (throttling, failures, non-Exchange modes) and the log
 * of requests.
 *
 * A request goes through, in order: the mode (a non-Exchange mode answers everything
 * itself), the path (IIS's 404 elsewhere), authentication (401), throttling (the
 * `ErrorServerBusy` fault), schema validation (the `ErrorSchemaValidation` fault), the
 * request's schema version (the `ErrorInvalidServerVersion` fault for one the build does
 * not serve), an injected failure, and the operation.
 *
 * @module
 */
import { Authenticator, type AuthScheme } from "./auth.ts";
import { type Operation, OPERATIONS } from "./operations/mod.ts";
import { iisNotFound, pageFor, type ServerMode } from "./pages.ts";
import {
  envelope,
  errorMessage,
  EwsError,
  NS,
  operationResponse,
  parseSoapRequest,
  schemaFault,
  SchemaViolation,
  serverBusyFault,
  soapFault,
  type SoapRequest,
} from "./soap.ts";
import { Store } from "./store.ts";
import { SERVER_VERSIONS, type ServerVersion, type VersionProfile } from "./versions.ts";
import { child } from "./xml.ts";

/** One EWS request that passed authentication, as the test log keeps it. */
export interface RequestRecord {
  /** The operation (`CreateItem`…); empty when the envelope failed validation. */
  operation: string;
  /** The user it authenticated as. */
  user: string;
  /**
   * `SendMeetingInvitations` of `CreateItem`, `SendMeetingInvitationsOrCancellations` of
   * `UpdateItem`, `SendMeetingCancellations` of `DeleteItem`; null when absent or not
   * applicable.
   */
  sendInvitations: string | null;
  /**
   * The items or folders the request carries or names (created items, changes, ids); for
   * `FindItem` and `FindFolder`, the number returned.
   */
  itemCount: number;
  /** `RequestServerVersion` of the request; null when absent. */
  requestVersion: string | null;
  /** `ConflictResolution` of `UpdateItem`; null otherwise. */
  conflictResolution: string | null;
}

/** How a server is set up. */
export interface ServerOptions {
  users: Record<string, string>;
  auth: AuthScheme[];
  maxCalendarViewItems: number;
  version: ServerVersion;
}

const OPERATION_NAMES = new Set(OPERATIONS.keys());

const INVITATION_ATTRIBUTES = [
  "SendMeetingInvitations",
  "SendMeetingInvitationsOrCancellations",
  "SendMeetingCancellations",
];

/** Texts Exchange gives for codes tests inject with `failNext`. */
const MESSAGES: Record<string, string> = {
  ErrorInternalServerError: "An internal server error occurred. The operation failed.",
  ErrorMailboxStoreUnavailable: "The mailbox database is temporarily unavailable.",
  ErrorAccessDenied: "Access is denied. Check credentials and try again.",
  ErrorItemNotFound: "The specified object was not found in the store.",
  ErrorFolderNotFound: "The specified folder could not be found in the store.",
  ErrorTimeoutExpired: "The operation timed out waiting for a response.",
  ErrorServerBusy: "The server cannot service this request right now. Try again later.",
  ErrorQuotaExceeded: "The mailbox has exceeded its quota.",
  ErrorIrresolvableConflict:
    "The send or update operation could not be performed because the change key passed " +
    "in the request does not match the current change key for the item.",
};

/** Headers of every answer of the Exchange endpoint, as Exchange 2016 on IIS 10 sends. */
function exchangeHeaders(): Record<string, string> {
  return {
    "content-type": "text/xml; charset=utf-8",
    "server": "Microsoft-IIS/10.0",
    "x-powered-by": "ASP.NET",
    "x-aspnet-version": "4.0.30319",
    "x-feserver": "EXCH01",
    "x-beserver": "EXCH01",
    "request-id": crypto.randomUUID(),
  };
}

function xmlAnswer(status: number, body: string): Response {
  return new Response(body, { status, headers: exchangeHeaders() });
}

/** The fake Exchange server: its store, switches and request log. */
export class FakeExchangeServer {
  readonly store = new Store();
  readonly requests: RequestRecord[] = [];
  mode: ServerMode = "exchange";
  readonly #auth: Authenticator;
  readonly #findCountLimit: number;
  readonly #version: VersionProfile;
  #throttled = 0;
  #backOffMs = 0;
  readonly #failures = new Map<string, string[]>();

  constructor(options: ServerOptions) {
    this.#auth = new Authenticator(options.users, options.auth);
    this.#findCountLimit = options.maxCalendarViewItems;
    this.#version = SERVER_VERSIONS[options.version];
  }

  /** Answers the next `count` requests with `ErrorServerBusy`. */
  throttle(count: number, backOffMs: number): void {
    this.#throttled = count;
    this.#backOffMs = backOffMs;
  }

  /** Fails the next request of `operation` with `responseCode` in every message. */
  failNext(operation: string, responseCode: string): void {
    const queue = this.#failures.get(operation) ?? [];
    queue.push(responseCode);
    this.#failures.set(operation, queue);
  }

  /** The `Deno.serve` handler. */
  handle = async (request: Request, info: Deno.ServeHandlerInfo): Promise<Response> => {
    const url = new URL(request.url);
    if (this.mode !== "exchange") {
      await request.body?.cancel();
      return pageFor(this.mode, url.pathname);
    }
    if (url.pathname.toLowerCase() !== "/ews/exchange.asmx") {
      await request.body?.cancel();
      return iisNotFound();
    }
    const address = info.remoteAddr as Deno.NetAddr;
    const user = this.#auth.authenticate(
      request,
      `${address.hostname}:${address.port}`,
      url.hostname,
    );
    if (user instanceof Response) {
      await request.body?.cancel();
      return user;
    }
    if (request.method !== "POST") {
      await request.body?.cancel();
      return new Response(null, { status: 405, headers: { allow: "POST" } });
    }
    return this.#soap(await request.text(), user);
  };

  #soap(xml: string, user: string): Response {
    let parsed: SoapRequest | SchemaViolation;
    try {
      parsed = parseSoapRequest(xml, OPERATION_NAMES);
    } catch (error) {
      if (!(error instanceof SchemaViolation)) throw error;
      parsed = error;
    }
    const record: RequestRecord = {
      operation: parsed instanceof SchemaViolation ? "" : parsed.operation,
      user,
      sendInvitations: null,
      itemCount: 0,
      requestVersion: parsed instanceof SchemaViolation ? null : parsed.requestVersion,
      conflictResolution: null,
    };
    this.requests.push(record);
    if (this.#throttled > 0) {
      this.#throttled--;
      return xmlAnswer(500, serverBusyFault(this.#backOffMs));
    }
    if (parsed instanceof SchemaViolation) return xmlAnswer(500, schemaFault(parsed));
    if (parsed.requestVersion !== null && !this.#version.accepts.has(parsed.requestVersion)) {
      return xmlAnswer(
        500,
        soapFault("ErrorInvalidServerVersion", "The specified server version is invalid."),
      );
    }
    const operation = OPERATIONS.get(parsed.operation)!;
    const failure = this.#failures.get(parsed.operation)?.shift();
    let messages: string[];
    try {
      if (failure) {
        throw new EwsError(failure, MESSAGES[failure] ?? `The request failed with ${failure}.`);
      }
      messages = operation.handler(parsed.body, {
        store: this.store,
        user,
        timeZone: parsed.timeZoneContext ?? "UTC",
        findCountLimit: this.#findCountLimit,
        record,
      });
    } catch (error) {
      if (error instanceof SchemaViolation) return xmlAnswer(500, schemaFault(error));
      if (!(error instanceof EwsError)) {
        const detail = error instanceof Error ? error.message : String(error);
        return xmlAnswer(
          500,
          soapFault("ErrorInternalServerError", `${MESSAGES.ErrorInternalServerError} ${detail}`),
        );
      }
      messages = this.#failAll(parsed, operation, error, record);
    }
    return xmlAnswer(
      200,
      envelope(operationResponse(parsed.operation, messages), this.#version.info),
    );
  }

  /** The same error for every target of a request, as Exchange fails a whole request. */
  #failAll(
    request: SoapRequest,
    operation: Operation,
    error: EwsError,
    record: RequestRecord,
  ): string[] {
    const targets = child(request.body, NS.m, operation.targets)?.children.length ?? 1;
    const mode = INVITATION_ATTRIBUTES.map((name) => request.body.attrs[name]).find(Boolean);
    record.sendInvitations = mode ?? null;
    record.itemCount = operation.targets === "ParentFolderIds" ? 0 : targets;
    return Array.from(
      { length: Math.max(targets, 1) },
      () => errorMessage(request.operation, error, operation.emptyContent),
    );
  }
}
