/**
 * What every operation of the fake Exchange shares: the request context, the resolution
 * of folder and item ids (with Exchange's error codes for malformed, unknown, deleted and
 * unreachable targets, see `permissions.ts`), and the writing of one response message per
 * target.
 *
 * @module
 */
import type { ItemView, StoredFolder, StoredItem } from "../model.ts";
import { mayAccess } from "../permissions.ts";
import { itemView, nthOccurrenceStart, occurrenceView } from "../recurrence.ts";
import { errorMessage, EwsError, NS, SchemaViolation } from "../soap.ts";
import type { Mailbox, Store } from "../store.ts";
import { child, text, type XmlElement } from "../xml.ts";

/** What a handler knows about the request it answers. */
export interface OperationContext {
  store: Store;
  /** The authenticated user's SMTP address; their mailbox is the default one. */
  user: string;
  /** The Windows zone of the request's `TimeZoneContext`, else `UTC`. */
  timeZone: string;
  /** The server's find-count limit (`EWSFindCountLimit`). */
  findCountLimit: number;
  /** Facts about the request for the test log, filled in by the handler. */
  record: { sendInvitations: string | null; itemCount: number; conflictResolution: string | null };
}

/** An operation: the response messages for its request body. */
export type Handler = (body: XmlElement, ctx: OperationContext) => string[];

/** The `DistinguishedFolderId` names of the schema. */
const DISTINGUISHED = new Set([
  "calendar",
  "contacts",
  "deleteditems",
  "drafts",
  "inbox",
  "journal",
  "notes",
  "outbox",
  "sentitems",
  "tasks",
  "msgfolderroot",
  "publicfoldersroot",
  "root",
  "junkemail",
  "searchfolders",
  "voicemail",
  "recoverableitemsroot",
  "recoverableitemsdeletions",
  "archivemsgfolderroot",
  "conversationhistory",
]);

/** A folder and the mailbox it belongs to. */
export interface FolderTarget {
  mailbox: Mailbox;
  folder: StoredFolder;
}

/** An item (or occurrence) and the mailbox it belongs to. */
export interface ItemTarget {
  mailbox: Mailbox;
  view: ItemView;
}

const malformed = () => new EwsError("ErrorInvalidIdMalformed", "Id is malformed.");
const itemNotFound = () =>
  new EwsError("ErrorItemNotFound", "The specified object was not found in the store.");
const folderNotFound = () =>
  new EwsError("ErrorFolderNotFound", "The specified folder could not be found in the store.");

/** The mailbox a `t:Mailbox` names, or the user's own when there is none. */
function mailboxOf(holder: XmlElement, ctx: OperationContext): Mailbox {
  const named = child(holder, NS.t, "Mailbox");
  const address = named && child(named, NS.t, "EmailAddress")?.text.trim();
  if (!address) return ctx.store.mailbox(ctx.user);
  const mailbox = ctx.store.find(address);
  if (!mailbox) {
    throw new EwsError(
      "ErrorNonExistentMailbox",
      "The SMTP address has no mailbox associated with it.",
      text("t:Value", address, { Name: "SmtpAddress" }),
    );
  }
  return mailbox;
}

/** Resolves a `t:FolderId` or `t:DistinguishedFolderId`. */
export function resolveFolder(element: XmlElement, ctx: OperationContext): FolderTarget {
  if (element.ns === NS.t && element.name === "DistinguishedFolderId") {
    const name = element.attrs.Id ?? "";
    if (!DISTINGUISHED.has(name)) {
      throw new SchemaViolation(
        `The 'Id' attribute is invalid - The value '${name}' is invalid according to its ` +
          `datatype '${NS.t}:DistinguishedFolderIdNameType'.`,
      );
    }
    const mailbox = mailboxOf(element, ctx);
    const folder = mailbox.distinguished(name);
    if (!folder || !mayAccess(mailbox, ctx.user, folder)) throw folderNotFound();
    return { mailbox, folder };
  }
  if (element.ns === NS.t && element.name === "FolderId") {
    const resolved = ctx.store.resolve(element.attrs.Id ?? "");
    if (!resolved || resolved.id.kind !== "folder") throw malformed();
    const folder = resolved.mailbox?.folders.get(resolved.id.object);
    if (!resolved.mailbox || !folder || !mayAccess(resolved.mailbox, ctx.user, folder)) {
      throw folderNotFound();
    }
    return { mailbox: resolved.mailbox, folder };
  }
  throw new SchemaViolation(`The element '${element.name}' is not a folder id.`);
}

/** The stored item an item id names in a mailbox, if the user may reach its folder. */
function storedItem(mailbox: Mailbox | undefined, object: string, user: string): StoredItem {
  const item = mailbox?.items.get(object);
  if (!item || !mayAccess(mailbox!, user, mailbox!.folders.get(item.folder)!)) {
    throw itemNotFound();
  }
  return item;
}

/** An occurrence of a series, with Exchange's errors for ones that do not exist. */
function occurrence(item: StoredItem, originalStart: number): ItemView {
  const view = occurrenceView(item, originalStart);
  if (view === "deleted") {
    throw new EwsError(
      "ErrorCalendarOccurrenceIsDeletedFromRecurrence",
      "Occurrence with this index was previously deleted from the recurrence.",
    );
  }
  if (!view) throw itemNotFound();
  return view;
}

/**
 * Resolves a `t:ItemId` (of an item or an occurrence), a `t:OccurrenceItemId` (a series
 * and an instance index) or a `t:RecurringMasterItemId` (the series of an occurrence).
 */
export function resolveItem(element: XmlElement, ctx: OperationContext): ItemTarget {
  const idAttribute = element.name === "OccurrenceItemId"
    ? element.attrs.RecurringMasterId
    : element.name === "RecurringMasterItemId"
    ? element.attrs.OccurrenceId
    : element.name === "ItemId"
    ? element.attrs.Id
    : undefined;
  if (idAttribute === undefined) {
    throw new SchemaViolation(`The element '${element.name}' is not a valid item id.`);
  }
  const resolved = ctx.store.resolve(idAttribute);
  if (!resolved || resolved.id.kind === "folder") throw malformed();
  const { mailbox, id } = resolved;
  const item = storedItem(mailbox, id.object, ctx.user);
  if (element.name === "RecurringMasterItemId") {
    if (!item.recurrence) throw itemNotFound();
    return { mailbox: mailbox!, view: itemView(item) };
  }
  if (element.name === "OccurrenceItemId") {
    const start = item.recurrence &&
      nthOccurrenceStart(item, Number(element.attrs.InstanceIndex ?? "0"));
    if (!start) {
      throw new EwsError(
        "ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange",
        "The occurrence index is out of recurrence range.",
      );
    }
    return { mailbox: mailbox!, view: occurrence(item, start) };
  }
  const view = id.kind === "occurrence" ? occurrence(item, id.originalStart) : itemView(item);
  return { mailbox: mailbox!, view };
}

/**
 * One response message per target: `write` gives the success message; an {@link EwsError}
 * becomes that target's error message (with `emptyContent`, as Exchange writes it).
 */
export function eachTarget<T>(
  operation: string,
  targets: T[],
  write: (target: T) => string,
  ...emptyContent: string[]
): string[] {
  return targets.map((target) => {
    try {
      return write(target);
    } catch (error) {
      if (error instanceof EwsError) return errorMessage(operation, error, ...emptyContent);
      throw error;
    }
  });
}

/** The required child of an element, or a schema violation. */
export function required(parent: XmlElement, ns: string, name: string): XmlElement {
  const found = child(parent, ns, name);
  if (!found) {
    throw new SchemaViolation(
      `The element '${parent.name}' in namespace '${parent.ns}' has incomplete content. ` +
        `List of possible elements expected: '${name}' in namespace '${ns}'.`,
    );
  }
  return found;
}

/** An attribute from a closed set, or a schema violation (`fallback` when it is optional). */
export function enumAttribute<T extends string>(
  element: XmlElement,
  name: string,
  values: readonly T[],
  fallback?: T,
): T {
  const value = (element.attrs[name] ?? fallback) as T | undefined;
  if (value === undefined || !values.includes(value)) {
    throw new SchemaViolation(
      `The '${name}' attribute is invalid - The value '${element.attrs[name] ?? ""}' is invalid.`,
    );
  }
  return value;
}
