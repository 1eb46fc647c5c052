/**
 * `CreateItem` of calendar items, many per request, into `SavedItemFolderId` or the
 * user's Calendar. The whole request is validated before anything is saved; then each
 * item succeeds or fails on its own. `SendMeetingInvitations` is required for calendar
 * items (`ErrorSendMeetingInvitationsRequired`), and an item with attendees created with
 * a mode other than `SendToNone` counts as invited. An item with a `t:Recurrence` becomes
 * the master of a series that starts at its `Start`.
 *
 * @module
 */
import { defaultFields, invitesSomeone, settle } from "../items.ts";
import { extendedKey } from "../model.ts";
import { type ItemPatch, readItem, writeItemId } from "../properties.ts";
import { itemView } from "../recurrence.ts";
import { readRecurrence } from "../recurrence_xml.ts";
import { EwsError, NS, SchemaViolation, successMessage } from "../soap.ts";
import { child, el } from "../xml.ts";
import {
  eachTarget,
  enumAttribute,
  type FolderTarget,
  type Handler,
  type OperationContext,
  required,
  resolveFolder,
} from "./common.ts";

/** The values of `SendMeetingInvitations`. */
export const INVITATION_MODES = ["SendToNone", "SendOnlyToAll", "SendToAllAndSaveCopy"] as const;

function savedFolder(ctx: OperationContext, element: ReturnType<typeof child>): FolderTarget {
  if (!element) {
    const mailbox = ctx.store.mailbox(ctx.user);
    return { mailbox, folder: mailbox.calendar };
  }
  const id = element.children[0];
  if (!id) throw new SchemaViolation("The element 'SavedItemFolderId' is empty.");
  try {
    return resolveFolder(id, ctx);
  } catch (error) {
    if (error instanceof EwsError && error.code === "ErrorFolderNotFound") {
      throw new EwsError(
        "ErrorSavedItemFolderNotFound",
        "The folder to save the item to could not be found.",
      );
    }
    throw error;
  }
}

/** `CreateItem`. */
export const createItem: Handler = (body, ctx) => {
  const mode = body.attrs.SendMeetingInvitations === undefined
    ? undefined
    : enumAttribute(body, "SendMeetingInvitations", INVITATION_MODES);
  enumAttribute(
    body,
    "MessageDisposition",
    ["SaveOnly", "SendOnly", "SendAndSaveCopy"],
    "SaveOnly",
  );
  ctx.record.sendInvitations = mode ?? null;
  const savedElement = child(body, NS.m, "SavedItemFolderId");
  const elements = required(body, NS.m, "Items").children;
  ctx.record.itemCount = elements.length;
  const patches = elements.map((element): ItemPatch | EwsError => {
    if (element.ns !== NS.t || element.name !== "CalendarItem") {
      throw new SchemaViolation(`The element 'Items' has invalid child element '${element.name}'.`);
    }
    try {
      return readItem(element, { timeZone: ctx.timeZone });
    } catch (error) {
      if (error instanceof EwsError) return error;
      throw error;
    }
  });
  return eachTarget("CreateItem", patches, (patch) => {
    if (patch instanceof EwsError) throw patch;
    if (mode === undefined) {
      throw new EwsError(
        "ErrorSendMeetingInvitationsRequired",
        "The SendMeetingInvitations attribute is required for calendar items.",
      );
    }
    const { mailbox, folder } = savedFolder(ctx, savedElement);
    const defaults = defaultFields(mailbox, ctx.timeZone);
    const given = patch.fields;
    const fields = settle({
      ...defaults,
      ...given,
      endTimeZone: given.endTimeZone ?? given.startTimeZone ?? defaults.endTimeZone,
    });
    const rrule = patch.recurrence && readRecurrence(patch.recurrence, fields);
    const item = mailbox.addItem(folder.object, fields, {
      extended: new Map(patch.extended.map((value) => [extendedKey(value.uri), value])),
      recurrence: rrule ? { rrule, exceptions: new Map(), deleted: new Set() } : null,
      sentInvitations: invitesSomeone(mode, fields),
    });
    return successMessage(
      "CreateItem",
      el("m:Items", {}, el("t:CalendarItem", {}, writeItemId(itemView(item), mailbox))),
    );
  }, el("m:Items"));
};
