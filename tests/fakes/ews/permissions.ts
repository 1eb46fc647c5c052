/**
 * Who may reach which folders of a mailbox. The owner reaches everything. A mailbox
 * nobody was granted anything on stays open to every authenticated user, which is what
 * tests written before grants existed expect. Once a mailbox has grants, other users reach
 * only what they were granted: `all` of it, or the Calendar and its sub-folders.
 *
 * A folder or item out of reach is answered as Exchange documents for a delegate
 * (https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/handling-delegation-related-errors-in-ews-in-exchange):
 * an operation on a folder or item the caller has no access to fails with
 * `ErrorFolderNotFound` or `ErrorItemNotFound`, as if it did not exist.
 *
 * @module
 */
import type { StoredFolder } from "./model.ts";
import type { Mailbox } from "./store.ts";

/** What a user may be granted on another's mailbox. */
export type FolderGrant = "all" | "calendar";

/** Whether `folder` is `ancestor` or lies below it. */
function within(mailbox: Mailbox, folder: StoredFolder, ancestor: StoredFolder): boolean {
  for (let at: StoredFolder | undefined = folder; at; at = mailbox.folders.get(at.parent ?? "")) {
    if (at.object === ancestor.object) return true;
  }
  return false;
}

/** Whether `user` may reach `folder` of `mailbox` (and the items in it). */
export function mayAccess(mailbox: Mailbox, user: string, folder: StoredFolder): boolean {
  if (user.toLowerCase() === mailbox.address || mailbox.grants.size === 0) return true;
  const grant = mailbox.grants.get(user.toLowerCase());
  if (grant === "all") return true;
  return grant === "calendar" && within(mailbox, folder, mailbox.calendar);
}
