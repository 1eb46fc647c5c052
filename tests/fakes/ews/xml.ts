/**
 * XML in and out for the fake Exchange: requests are parsed with `fast-xml-parser` into a
 * tree whose element names are resolved against their namespace declarations, because EWS
 * clients are free to choose their own prefixes (`m:`, `mes:`, a default namespace…);
 * answers are written as strings with the prefixes Exchange uses.
 *
 * @module
 */
import { XMLParser, XMLValidator } from "fast-xml-parser";

/** An element with its namespace resolved. Attributes without a prefix keep their name. */
export interface XmlElement {
  /** The namespace URI, "" when none is in scope. */
  ns: string;
  /** The local name. */
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** The concatenated character data directly inside the element. */
  text: string;
}

/** A document that is not well-formed, with where the reader stopped (1-based). */
export class XmlSyntaxError extends Error {
  constructor(message: string, readonly line: number, readonly position: number) {
    super(message);
    this.name = "XmlSyntaxError";
  }
}

type OrderedNode = Record<string, unknown> & { ":@"?: Record<string, string> };

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: "",
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
  // Decodes character references (&#x41;); HTML's named entities are refused beforehand.
  htmlEntities: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

const XML_ENTITIES = new Set(["amp", "lt", "gt", "quot", "apos"]);

/** Where in `text` an offset is, 1-based as XML readers report it. */
function locate(text: string, offset: number): [number, number] {
  const before = text.slice(0, offset).split("\n");
  return [before.length, before.at(-1)!.length + 1];
}

/**
 * What the parser lets through but an XML reader as strict as .NET's refuses: a DTD (EWS
 * prohibits them) and named entities XML does not define (the parser would decode HTML's).
 */
function checkStrictly(text: string): void {
  // Blank out comments and CDATA, keeping offsets, so only markup and text are checked.
  const markup = text.replace(
    /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>/g,
    (m) => m.replace(/[^\n]/g, " "),
  );
  const doctype = markup.search(/<!DOCTYPE/i);
  if (doctype >= 0) {
    throw new XmlSyntaxError(
      "For security reasons DTD is prohibited in this XML document.",
      ...locate(text, doctype),
    );
  }
  for (const match of markup.matchAll(/&([A-Za-z_][\w.-]*);/g)) {
    if (!XML_ENTITIES.has(match[1])) {
      throw new XmlSyntaxError(
        `Reference to undeclared entity '${match[1]}'.`,
        ...locate(text, match.index),
      );
    }
  }
}

/** Parses a whole document into its root element; throws {@link XmlSyntaxError}. */
export function parseXml(text: string): XmlElement {
  const verdict = XMLValidator.validate(text);
  if (verdict !== true) {
    throw new XmlSyntaxError(verdict.err.msg, verdict.err.line, verdict.err.col);
  }
  checkStrictly(text);
  const roots = (parser.parse(text) as OrderedNode[]).filter((node) => !("#text" in node));
  if (roots.length !== 1) throw new XmlSyntaxError("There are multiple root elements.", 1, 1);
  return resolve(roots[0], new Map([["xml", "http://www.w3.org/XML/1998/namespace"]]));
}

function resolve(node: OrderedNode, scope: Map<string, string>): XmlElement {
  const qname = Object.keys(node).find((key) => key !== ":@")!;
  const rawAttrs = node[":@"] ?? {};
  const inner = new Map(scope);
  for (const [key, value] of Object.entries(rawAttrs)) {
    if (key === "xmlns") inner.set("", value);
    else if (key.startsWith("xmlns:")) inner.set(key.slice(6), value);
  }
  const attrs: Record<string, string> = {};
  for (const [key, value] of Object.entries(rawAttrs)) {
    if (key === "xmlns" || key.startsWith("xmlns:")) continue;
    const colon = key.indexOf(":");
    if (colon < 0) {
      attrs[key] = value;
    } else {
      const uri = inner.get(key.slice(0, colon));
      if (uri === undefined) throw unbound(key);
      attrs[`{${uri}}${key.slice(colon + 1)}`] = value;
    }
  }
  const colon = qname.indexOf(":");
  const prefix = colon < 0 ? "" : qname.slice(0, colon);
  const ns = inner.get(prefix);
  if (ns === undefined && prefix !== "") throw unbound(qname);
  const element: XmlElement = {
    ns: ns ?? "",
    name: qname.slice(colon + 1),
    attrs,
    children: [],
    text: "",
  };
  for (const child of node[qname] as OrderedNode[]) {
    if ("#text" in child) element.text += String(child["#text"]);
    else element.children.push(resolve(child, inner));
  }
  return element;
}

function unbound(qname: string): XmlSyntaxError {
  return new XmlSyntaxError(`'${qname.split(":")[0]}' is an undeclared prefix.`, 1, 1);
}

/** The first child with this namespace and local name. */
export function child(parent: XmlElement, ns: string, name: string): XmlElement | undefined {
  return parent.children.find((c) => c.ns === ns && c.name === name);
}

/** Every child with this namespace and local name. */
export function children(parent: XmlElement, ns: string, name: string): XmlElement[] {
  return parent.children.filter((c) => c.ns === ns && c.name === name);
}

/** Escapes text for element content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(
    /[&<>"]/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!,
  );
}

/** Attribute values; undefined ones are left out. */
export type Attrs = Record<string, string | number | boolean | undefined>;

/**
 * One element as text. `content` is markup already written (from other `el` calls) or,
 * with {@link text}, escaped character data; an element without content is self-closed.
 */
export function el(qname: string, attrs: Attrs = {}, ...content: string[]): string {
  const attrText = Object.entries(attrs)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => ` ${key}="${escapeXml(String(value))}"`)
    .join("");
  const body = content.join("");
  return body === "" ? `<${qname}${attrText}/>` : `<${qname}${attrText}>${body}</${qname}>`;
}

/** An element holding only character data, which is escaped. */
export function text(qname: string, value: string | number | boolean, attrs: Attrs = {}): string {
  const escaped = escapeXml(String(value));
  return escaped === "" ? el(qname, attrs) : el(qname, attrs, escaped);
}
