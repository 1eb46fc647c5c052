/**
 * `GetFolder`, `FindFolder` and `CreateFolder`: the default folders and calendar
 * sub-folders of a mailbox, by distinguished name or folder id, in the shapes Exchange
 * writes them (`t:CalendarFolder` for calendars, `t:Folder` for the others).
 *
 * @module
 */
import type { StoredFolder } from "../model.ts";
import { type Lookup, readRestriction } from "../restriction.ts";
import { EwsError, NS, SchemaViolation, successMessage } from "../soap.ts";
import type { Mailbox } from "../store.ts";
import { child, el, text, type XmlElement } from "../xml.ts";
import {
  eachTarget,
  enumAttribute,
  type FolderTarget,
  type Handler,
  required,
  resolveFolder,
} from "./common.ts";
import { pageOf, readIndexedView, unpaged } from "./paging.ts";

type FolderShape = { base: "IdOnly" | "Default" | "AllProperties"; additional: Set<string> };

const ELEMENTS: Record<string, string> = {
  "IPF.Appointment": "CalendarFolder",
  "IPF.Contact": "ContactsFolder",
  "IPF.Task": "TasksFolder",
};

function elementOf(folder: StoredFolder): string {
  return ELEMENTS[folder.folderClass ?? ""] ?? "Folder";
}

function readFolderShape(element: XmlElement): FolderShape {
  const base = required(element, NS.t, "BaseShape").text.trim();
  if (base !== "IdOnly" && base !== "Default" && base !== "AllProperties") {
    throw new SchemaViolation(`The value '${base}' is invalid for 'BaseShape'.`);
  }
  const paths = child(element, NS.t, "AdditionalProperties")?.children ?? [];
  return { base, additional: new Set(paths.map((path) => path.attrs.FieldURI ?? "")) };
}

function folderId(mailbox: Mailbox, folder: StoredFolder, name = "FolderId"): string {
  return el(`t:${name}`, {
    Id: mailbox.idOf({ kind: "folder", object: folder.object }),
    ChangeKey: mailbox.changeKey("folder", folder.changeNumber),
  });
}

const RIGHTS = [
  "CreateAssociated",
  "CreateContents",
  "CreateHierarchy",
  "Delete",
  "Modify",
  "Read",
];

/** Writes a folder in a shape. */
function writeFolder({ mailbox, folder }: FolderTarget, shape: FolderShape): string {
  const element = elementOf(folder);
  const has = (uri: string, base: "Default" | "AllProperties") =>
    shape.additional.has(uri) || shape.base === "AllProperties" ||
    (shape.base === "Default" && base === "Default");
  const parent = folder.parent === null ? undefined : mailbox.folders.get(folder.parent);
  const parts = [folderId(mailbox, folder)];
  if (parent && has("folder:ParentFolderId", "AllProperties")) {
    parts.push(folderId(mailbox, parent, "ParentFolderId"));
  }
  if (folder.folderClass && has("folder:FolderClass", "AllProperties")) {
    parts.push(text("t:FolderClass", folder.folderClass));
  }
  if (has("folder:DisplayName", "Default")) parts.push(text("t:DisplayName", folder.displayName));
  if (has("folder:TotalCount", "Default")) {
    parts.push(text("t:TotalCount", mailbox.itemsIn(folder.object).length));
  }
  if (has("folder:ChildFolderCount", "Default")) {
    parts.push(text("t:ChildFolderCount", mailbox.subfolders(folder.object, false).length));
  }
  if (has("folder:EffectiveRights", "AllProperties")) {
    parts.push(el(
      "t:EffectiveRights",
      {},
      ...RIGHTS.map((right) => text(`t:${right}`, true)),
      text("t:ViewPrivateItems", true),
    ));
  }
  // Only plain folders count unread mail; calendars have no such property.
  if (element === "Folder" && has("folder:UnreadCount", "Default")) {
    parts.push(text("t:UnreadCount", 0));
  }
  return el(`t:${element}`, {}, ...parts);
}

/** `GetFolder`: one message per folder id. */
export const getFolder: Handler = (body, ctx) => {
  const shape = readFolderShape(required(body, NS.m, "FolderShape"));
  const ids = required(body, NS.m, "FolderIds").children;
  ctx.record.itemCount = ids.length;
  return eachTarget(
    "GetFolder",
    ids,
    (id) =>
      successMessage(
        "GetFolder",
        el("m:Folders", {}, writeFolder(resolveFolder(id, ctx), shape)),
      ),
    el("m:Folders"),
  );
};

function folderLookup(target: FolderTarget): Lookup {
  return (path) => {
    if (path.kind !== "field") return undefined;
    const { mailbox, folder } = target;
    switch (path.uri) {
      case "folder:DisplayName":
        return folder.displayName;
      case "folder:FolderClass":
        return folder.folderClass ?? undefined;
      case "folder:TotalCount":
        return mailbox.itemsIn(folder.object).length;
      case "folder:ChildFolderCount":
        return mailbox.subfolders(folder.object, false).length;
      default:
        return undefined;
    }
  };
}

/** `FindFolder`: the sub-folders of each parent, filtered and paged. */
export const findFolder: Handler = (body, ctx) => {
  const deep = enumAttribute(body, "Traversal", ["Shallow", "Deep", "SoftDeleted"]) === "Deep";
  const shape = readFolderShape(required(body, NS.m, "FolderShape"));
  const viewElement = child(body, NS.m, "IndexedPageFolderView");
  const view = viewElement ? readIndexedView(viewElement) : null;
  const restrictionElement = child(body, NS.m, "Restriction");
  const restriction = restrictionElement ? readRestriction(restrictionElement) : null;
  const parents = required(body, NS.m, "ParentFolderIds").children;
  return eachTarget("FindFolder", parents, (id) => {
    const { mailbox, folder } = resolveFolder(id, ctx);
    const found = mailbox.subfolders(folder.object, deep)
      .map((sub) => ({ mailbox, folder: sub }))
      .filter((target) => !restriction || restriction(folderLookup(target)));
    const page = view
      ? pageOf(found, view, ctx.findCountLimit)
      : unpaged(found, ctx.findCountLimit);
    ctx.record.itemCount += page.entries.length;
    return successMessage(
      "FindFolder",
      el(
        "m:RootFolder",
        {
          IndexedPagingOffset: view ? page.nextOffset : undefined,
          TotalItemsInView: page.total,
          IncludesLastItemInRange: page.includesLast,
        },
        el("t:Folders", {}, ...page.entries.map((target) => writeFolder(target, shape))),
      ),
    );
  });
};

const FOLDER_ELEMENTS = [
  "Folder",
  "CalendarFolder",
  "ContactsFolder",
  "SearchFolder",
  "TasksFolder",
];

/** `CreateFolder`: new folders under one parent; a name taken there is `ErrorFolderExists`. */
export const createFolder: Handler = (body, ctx) => {
  const parentElement = required(body, NS.m, "ParentFolderId").children[0];
  if (!parentElement) throw new SchemaViolation("The element 'ParentFolderId' is empty.");
  const folders = required(body, NS.m, "Folders").children;
  ctx.record.itemCount = folders.length;
  return eachTarget("CreateFolder", folders, (element) => {
    if (element.ns !== NS.t || !FOLDER_ELEMENTS.includes(element.name)) {
      throw new SchemaViolation(`The element 'Folders' has invalid child '${element.name}'.`);
    }
    const { mailbox, folder: parent } = resolveFolder(parentElement, ctx);
    const name = child(element, NS.t, "DisplayName")?.text ?? "";
    if (name.trim() === "") {
      throw new EwsError("ErrorInvalidRequest", "A folder needs a DisplayName.");
    }
    const taken = mailbox.subfolders(parent.object, false)
      .some((sibling) => sibling.displayName.toLowerCase() === name.toLowerCase());
    if (taken) {
      throw new EwsError("ErrorFolderExists", "A folder with the specified name already exists.");
    }
    const cls = child(element, NS.t, "FolderClass")?.text ??
      Object.entries(ELEMENTS).find(([, e]) => e === element.name)?.[0] ?? "IPF.Note";
    const folder = mailbox.addFolder(parent.object, name, cls);
    return successMessage(
      "CreateFolder",
      el("m:Folders", {}, el(`t:${elementOf(folder)}`, {}, folderId(mailbox, folder))),
    );
  }, el("m:Folders"));
};
