/**
 * The mailboxes of the fake Exchange, each with the standard folder tree (a root holding
 * the top of the information store, which holds Calendar, Inbox and the other default
 * folders) and its calendar items. A mailbox counts changes the way an Exchange store does:
 * every modification takes the next change number, which change keys carry.
 *
 * @module
 */
import { type DecodedId, decodeId, encodeChangeKey, encodeId, type ObjectRef } from "./ids.ts";
import type { ItemFields, StoredFolder, StoredItem } from "./model.ts";
import type { FolderGrant } from "./permissions.ts";

/** The default folders, by `DistinguishedFolderId`, under the top of the store. */
const DEFAULT_FOLDERS: [string, string, string][] = [
  ["calendar", "Calendar", "IPF.Appointment"],
  ["contacts", "Contacts", "IPF.Contact"],
  ["deleteditems", "Deleted Items", "IPF.Note"],
  ["drafts", "Drafts", "IPF.Note"],
  ["inbox", "Inbox", "IPF.Note"],
  ["sentitems", "Sent Items", "IPF.Note"],
  ["tasks", "Tasks", "IPF.Task"],
];

/**
 * The `OWA.UserOptions` configuration object in the root folder, which Outlook on the web
 * creates when its user first picks options; `timeZone` is its `timezone` entry.
 */
export interface OwaOptions {
  /** UUID of the associated item that holds it. */
  object: string;
  /** The Windows zone id OWA shows the user's calendar in. */
  timeZone: string;
}

/** One mailbox: its folders, its items, its configuration objects and its change counter. */
export class Mailbox {
  /** The mailbox GUID that ids and change keys carry. */
  readonly guid = crypto.randomUUID();
  readonly folders = new Map<string, StoredFolder>();
  readonly items = new Map<string, StoredItem>();
  /** Null until the user has opened OWA's options. */
  owaOptions: OwaOptions | null = null;
  /** What other users (lower-case addresses) were granted; see `permissions.ts`. */
  readonly grants = new Map<string, FolderGrant>();
  #changes = 0;

  constructor(readonly address: string, readonly displayName: string) {
    const root = this.#folder(null, "", null, "root");
    const top = this.#folder(root.object, "Top of Information Store", null, "msgfolderroot");
    for (const [distinguished, name, cls] of DEFAULT_FOLDERS) {
      this.#folder(top.object, name, cls, distinguished);
    }
  }

  #folder(
    parent: string | null,
    displayName: string,
    cls: string | null,
    distinguished: string | null,
  ) {
    const folder: StoredFolder = {
      object: crypto.randomUUID(),
      parent,
      displayName,
      folderClass: cls,
      distinguished,
      changeNumber: this.nextChange(),
    };
    this.folders.set(folder.object, folder);
    return folder;
  }

  /** Takes the next change number of the store. */
  nextChange(): number {
    return ++this.#changes;
  }

  /** A default folder by its `DistinguishedFolderId` name. */
  distinguished(name: string): StoredFolder | undefined {
    return [...this.folders.values()].find((folder) => folder.distinguished === name);
  }

  /** The Calendar folder. */
  get calendar(): StoredFolder {
    return this.distinguished("calendar")!;
  }

  /** Creates a folder under `parent` (a calendar unless another class is given). */
  addFolder(parent: string, displayName: string, cls = "IPF.Appointment"): StoredFolder {
    return this.#folder(parent, displayName, cls, null);
  }

  /** The sub-folders of a folder; with `deep`, all of its descendants. */
  subfolders(parent: string, deep: boolean): StoredFolder[] {
    const direct = [...this.folders.values()].filter((folder) => folder.parent === parent);
    return deep ? direct.flatMap((f) => [f, ...this.subfolders(f.object, true)]) : direct;
  }

  /** The items stored in a folder, oldest first. */
  itemsIn(folder: string): StoredItem[] {
    return [...this.items.values()].filter((item) => item.folder === folder);
  }

  /** Stores a new item in `folder`, counting every field as changed now. */
  addItem(folder: string, fields: ItemFields, init: Partial<StoredItem> = {}): StoredItem {
    const now = Date.now();
    const changeNumber = this.nextChange();
    const item: StoredItem = {
      object: crypto.randomUUID(),
      folder,
      fields,
      extended: new Map(),
      recurrence: null,
      created: now,
      lastModified: now,
      changeNumber,
      fieldChanges: new Map(),
      sentInvitations: false,
      ...init,
    };
    this.items.set(item.object, item);
    return item;
  }

  /** Marks an item modified: a new change number, for it and for the fields named. */
  touch(item: StoredItem, fields: Iterable<string>): number {
    const change = this.nextChange();
    item.changeNumber = change;
    item.lastModified = Date.now();
    for (const field of fields) item.fieldChanges.set(field, change);
    return change;
  }

  /** The id of a stored item, folder or occurrence. */
  idOf(target: ObjectRef): string {
    return encodeId({ ...target, mailbox: this.guid });
  }

  /** The change key of a calendar item or folder at a change number. */
  changeKey(kind: "calendarItem" | "folder", change: number): string {
    return encodeChangeKey(kind, this.guid, change);
  }
}

/** All mailboxes of the server, by lower-case SMTP address. */
export class Store {
  readonly #mailboxes = new Map<string, Mailbox>();

  /** The mailbox of an address, created on first use. */
  mailbox(address: string): Mailbox {
    const key = address.toLowerCase();
    let mailbox = this.#mailboxes.get(key);
    if (!mailbox) {
      mailbox = new Mailbox(key, displayNameOf(key));
      this.#mailboxes.set(key, mailbox);
    }
    return mailbox;
  }

  /** The mailbox of an address, if it exists. */
  find(address: string): Mailbox | undefined {
    return this.#mailboxes.get(address.toLowerCase());
  }

  /** The mailbox an id belongs to, with the id decoded; null for a malformed id. */
  resolve(id: string): { mailbox: Mailbox | undefined; id: DecodedId } | null {
    const decoded = decodeId(id);
    if (!decoded) return null;
    const mailbox = [...this.#mailboxes.values()].find((m) => m.guid === decoded.mailbox);
    return { mailbox, id: decoded };
  }
}

/** "ann.lee@corp.example" → "Ann Lee", the way a directory would show the owner. */
function displayNameOf(address: string): string {
  return address.split("@")[0].split(/[._-]/).filter(Boolean)
    .map((part) => part[0].toUpperCase() + part.slice(1)).join(" ");
}
