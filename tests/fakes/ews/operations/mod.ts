/**
 * The operations the fake Exchange answers, by the local name of their request element.
 * Any other operation is refused by schema validation, as for an unknown element.
 *
 * @module
 */
import type { Handler } from "./common.ts";
import { createItem } from "./create_item.ts";
import { deleteItem } from "./delete_item.ts";
import { findItem } from "./find_item.ts";
import { createFolder, findFolder, getFolder } from "./folders.ts";
import { getItem } from "./get_item.ts";
import { updateItem } from "./update_item.ts";
import { getUserConfiguration } from "./user_configuration.ts";

/** An operation: its handler, and how it answers when it fails as a whole. */
export interface Operation {
  handler: Handler;
  /** The request element listing its targets; each gets one response message. */
  targets: string;
  /** What an error message of this operation still carries (`<m:Items/>`…). */
  emptyContent: string;
}

const ITEMS = "<m:Items/>";
const FOLDERS = "<m:Folders/>";

/** The operations by name. */
export const OPERATIONS: ReadonlyMap<string, Operation> = new Map([
  ["GetFolder", { handler: getFolder, targets: "FolderIds", emptyContent: FOLDERS }],
  ["FindFolder", { handler: findFolder, targets: "ParentFolderIds", emptyContent: "" }],
  ["CreateFolder", { handler: createFolder, targets: "Folders", emptyContent: FOLDERS }],
  ["FindItem", { handler: findItem, targets: "ParentFolderIds", emptyContent: "" }],
  ["GetItem", { handler: getItem, targets: "ItemIds", emptyContent: ITEMS }],
  ["CreateItem", { handler: createItem, targets: "Items", emptyContent: ITEMS }],
  ["UpdateItem", { handler: updateItem, targets: "ItemChanges", emptyContent: ITEMS }],
  ["DeleteItem", { handler: deleteItem, targets: "ItemIds", emptyContent: "" }],
  [
    "GetUserConfiguration",
    { handler: getUserConfiguration, targets: "UserConfigurationName", emptyContent: "" },
  ],
]);

export type { Handler, OperationContext } from "./common.ts";
