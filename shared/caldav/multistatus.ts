/**
 * WebDAV multistatus answers (RFC 4918 §13) read into plain records: each response's
 * href, status and the few properties calsync asks for, plus the sync-token of an RFC
 * 6578 sync-collection answer. Namespace prefixes are dropped: servers choose their own
 * (`D:`, `d:`, none), and the names calsync reads do not clash across namespaces.
 *
 * @module
 */
import { XMLParser } from "fast-xml-parser";

/** One `<response>` of a multistatus. */
export interface DavResponse {
  /** The href as the server wrote it (usually a path), percent-decoding left to the caller. */
  href: string;
  /**
   * The HTTP status of the resource: the response's own `<status>` (404 for a member a
   * sync-collection reports removed), else that of the propstat holding the properties.
   */
  status: number;
  etag: string | null;
  /** The iCalendar text, when `calendar-data` was asked for and given. */
  calendarData: string | null;
  /** Whether `resourcetype` names a collection. */
  collection: boolean;
}

/** A parsed multistatus. */
export interface Multistatus {
  responses: DavResponse[];
  /** The `<sync-token>` of a sync-collection answer, else null. */
  syncToken: string | null;
}

const parser = new XMLParser({
  removeNSPrefix: true,
  ignoreAttributes: true,
  parseTagValue: false,
  isArray: (name) => name === "response" || name === "propstat" || name === "href",
});

type Node = Record<string, unknown>;

function text(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === "object") {
    const inner = (value as Node)["#text"];
    return inner === undefined ? "" : String(inner);
  }
  return String(value);
}

/** The code of a status line such as `HTTP/1.1 404 Not Found`; 0 when unreadable. */
function statusCode(line: unknown): number {
  const match = /^\S+\s+(\d{3})/.exec(text(line)?.trim() ?? "");
  return match ? Number(match[1]) : 0;
}

function readResponse(node: Node): DavResponse[] {
  const hrefs = (node.href as unknown[] | undefined) ?? [];
  const propstats = (node.propstat as Node[] | undefined) ?? [];
  const ok = propstats.find((p) => statusCode(p.status) === 200);
  const prop = (ok?.prop ?? {}) as Node;
  const status = node.status !== undefined
    ? statusCode(node.status)
    : ok
    ? 200
    : statusCode(propstats[0]?.status);
  const etag = text(prop.getetag);
  const resourcetype = prop.resourcetype;
  return hrefs.map((href) => ({
    href: text(href)?.trim() ?? "",
    status,
    etag: etag === null || etag === "" ? null : etag.trim(),
    calendarData: text(prop["calendar-data"]),
    collection: typeof resourcetype === "object" && resourcetype !== null &&
      "collection" in resourcetype,
  }));
}

/** Reads a multistatus body; throws a `SyntaxError` when it is none. */
export function parseMultistatus(xml: string): Multistatus {
  const document = parser.parse(xml) as Node;
  const root = document.multistatus as Node | undefined;
  if (root === undefined) throw new SyntaxError("the answer is no WebDAV multistatus");
  if (typeof root !== "object" || root === null) return { responses: [], syncToken: null };
  const responses = ((root.response as Node[] | undefined) ?? []).flatMap(readResponse);
  const token = text(root["sync-token"])?.trim();
  return { responses, syncToken: token ? token : null };
}

/** Escapes text for XML element content. */
export function xmlText(value: string): string {
  return value.replace(/[<>&]/g, (c) => (c === "<" ? "&lt;" : c === ">" ? "&gt;" : "&amp;"));
}
