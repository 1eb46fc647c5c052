/**
 * The SOAP layer of the fake Exchange: reads a request envelope strictly, and writes the
 * envelopes, response messages and faults the way Exchange 2013 and 2016 write them — the
 * `s:`/`h:` prefixes, the `ServerVersionInfo` header of the server's build, `ResponseClass` with `MessageText`,
 * `ResponseCode` and `DescriptiveLinkKey` in schema order, and faults with HTTP 500.
 *
 * @module
 */
import type { VersionProfile } from "./versions.ts";
import { child, el, parseXml, text, type XmlElement, XmlSyntaxError } from "./xml.ts";

/** The namespaces of EWS. */
export const NS = {
  soap: "http://schemas.xmlsoap.org/soap/envelope/",
  m: "http://schemas.microsoft.com/exchange/services/2006/messages",
  t: "http://schemas.microsoft.com/exchange/services/2006/types",
  e: "http://schemas.microsoft.com/exchange/services/2006/errors",
} as const;

const XSI = "http://www.w3.org/2001/XMLSchema-instance";
const XSD = "http://www.w3.org/2001/XMLSchema";

/** A request that the schema refuses: answered with an `ErrorSchemaValidation` fault. */
export class SchemaViolation extends Error {
  constructor(message: string, readonly line = 1, readonly position = 1) {
    super(message);
    this.name = "SchemaViolation";
  }
}

/** An EWS error for one response message (or, thrown by a handler, for all of them). */
export class EwsError extends Error {
  /**
   * @param code the `ResponseCode`, such as `ErrorItemNotFound`
   * @param message the `MessageText`
   * @param messageXml the inner markup of `m:MessageXml`, when Exchange sends one
   */
  constructor(readonly code: string, message: string, readonly messageXml = "") {
    super(message);
    this.name = "EwsError";
  }
}

/** A request envelope that passed validation. */
export interface SoapRequest {
  /** The local name of the body's element, such as `FindItem`. */
  operation: string;
  /** The body's element. */
  body: XmlElement;
  /** The Windows zone of `TimeZoneContext`, used for times written without an offset. */
  timeZoneContext: string | null;
  /** The `Version` of `RequestServerVersion`, null without one. */
  requestVersion: string | null;
}

/**
 * Reads and validates a request envelope: well-formed XML, a SOAP 1.1 `Envelope` with a
 * `Body` that holds exactly one operation of the messages namespace that this server
 * knows. Whether the server serves its `RequestServerVersion` is the server's to say.
 */
export function parseSoapRequest(xml: string, operations: ReadonlySet<string>): SoapRequest {
  let root: XmlElement;
  try {
    root = parseXml(xml);
  } catch (error) {
    if (!(error instanceof XmlSyntaxError)) throw error;
    throw new SchemaViolation(error.message, error.line, error.position);
  }
  if (root.ns !== NS.soap || root.name !== "Envelope") {
    throw new SchemaViolation(
      `The root element '${root.name}' in namespace '${root.ns}' is not a SOAP 1.1 Envelope.`,
    );
  }
  const header = child(root, NS.soap, "Header");
  const body = child(root, NS.soap, "Body");
  if (!body) throw new SchemaViolation("The element 'Envelope' is missing its 'Body'.");
  if (body.children.length !== 1) {
    throw new SchemaViolation("The element 'Body' must contain exactly one operation.");
  }
  const operation = body.children[0];
  if (operation.ns !== NS.m || !operations.has(operation.name)) {
    throw new SchemaViolation(
      `The element 'Body' in namespace '${NS.soap}' has invalid child element ` +
        `'${operation.name}' in namespace '${operation.ns}'.`,
    );
  }
  const version = header && child(header, NS.t, "RequestServerVersion")?.attrs.Version;
  const zone = header && child(header, NS.t, "TimeZoneContext");
  const definition = zone && child(zone, NS.t, "TimeZoneDefinition");
  return {
    operation: operation.name,
    body: operation,
    timeZoneContext: definition?.attrs.Id ?? null,
    requestVersion: version ?? null,
  };
}

/** A whole answer around `body`, with the `ServerVersionInfo` header of the server's build. */
export function envelope(body: string, version: VersionProfile["info"]): string {
  return '<?xml version="1.0" encoding="utf-8"?>' +
    el(
      "s:Envelope",
      { "xmlns:s": NS.soap },
      el(
        "s:Header",
        {},
        el("h:ServerVersionInfo", {
          ...version,
          "xmlns:h": NS.t,
          xmlns: NS.t,
          "xmlns:xsd": XSD,
          "xmlns:xsi": XSI,
        }),
      ),
      el("s:Body", { "xmlns:xsi": XSI, "xmlns:xsd": XSD }, body),
    );
}

/** `m:{operation}Response` holding the given response messages. */
export function operationResponse(operation: string, messages: string[]): string {
  return el(
    `m:${operation}Response`,
    { "xmlns:m": NS.m, "xmlns:t": NS.t },
    el("m:ResponseMessages", {}, ...messages),
  );
}

/** A `Success` response message with its content. */
export function successMessage(operation: string, ...content: string[]): string {
  return el(
    `m:${operation}ResponseMessage`,
    { ResponseClass: "Success" },
    text("m:ResponseCode", "NoError"),
    ...content,
  );
}

/**
 * An `Error` response message. `content` is what Exchange still writes after the error,
 * such as the empty `m:Items` of item operations.
 */
export function errorMessage(operation: string, error: EwsError, ...content: string[]): string {
  return el(
    `m:${operation}ResponseMessage`,
    { ResponseClass: "Error" },
    text("m:MessageText", error.message),
    text("m:ResponseCode", error.code),
    text("m:DescriptiveLinkKey", 0),
    error.messageXml ? el("m:MessageXml", {}, error.messageXml) : "",
    ...content,
  );
}

/** A SOAP fault as EWS writes it: `a:{code}` with the details in the errors namespace. */
export function soapFault(code: string, message: string, messageXml = ""): string {
  const detail = el(
    "detail",
    {},
    text("e:ResponseCode", code, { "xmlns:e": NS.e }),
    text("e:Message", message, { "xmlns:e": NS.e }),
    messageXml ? el("t:MessageXml", { "xmlns:t": NS.t }, messageXml) : "",
  );
  return '<?xml version="1.0" encoding="utf-8"?>' +
    el(
      "s:Envelope",
      { "xmlns:s": NS.soap },
      el(
        "s:Body",
        {},
        el(
          "s:Fault",
          {},
          text("faultcode", `a:${code}`, { "xmlns:a": NS.t }),
          text("faultstring", message, { "xml:lang": "en-US" }),
          detail,
        ),
      ),
    );
}

/** The fault for a request the schema refuses, with the line and position of the fault. */
export function schemaFault(violation: SchemaViolation): string {
  return soapFault(
    "ErrorSchemaValidation",
    `The request failed schema validation: ${violation.message}`,
    text("t:LineNumber", violation.line) + text("t:LinePosition", violation.position) +
      text("t:Violation", violation.message),
  );
}

/**
 * The throttling fault of Exchange 2013 and later: `ErrorServerBusy` as a SOAP fault
 * (HTTP 500) whose `MessageXml` says how long to back off.
 */
export function serverBusyFault(backOffMs: number): string {
  return soapFault(
    "ErrorServerBusy",
    "The server cannot service this request right now. Try again later.",
    text("t:Value", backOffMs, { Name: "BackOffMilliseconds" }),
  );
}
