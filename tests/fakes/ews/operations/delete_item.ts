/**
 * `DeleteItem`: items, whole series, or single occurrences (which join the series'
 * deleted occurrences). `MoveToDeletedItems` moves an item to Deleted Items as Exchange
 * does; `SoftDelete` and `HardDelete` remove it from view. `SendMeetingCancellations` is
 * required for calendar items (`ErrorSendMeetingCancellationsRequired`).
 *
 * @module
 */
import { EwsError, NS, successMessage } from "../soap.ts";
import { eachTarget, enumAttribute, type Handler, required, resolveItem } from "./common.ts";

/** `DeleteItem`. */
export const deleteItem: Handler = (body, ctx) => {
  const type = enumAttribute(body, "DeleteType", [
    "HardDelete",
    "SoftDelete",
    "MoveToDeletedItems",
  ]);
  const mode = body.attrs.SendMeetingCancellations === undefined
    ? undefined
    : enumAttribute(body, "SendMeetingCancellations", [
      "SendToNone",
      "SendOnlyToAll",
      "SendToAllAndSaveCopy",
    ]);
  ctx.record.sendInvitations = mode ?? null;
  const ids = required(body, NS.m, "ItemIds").children;
  ctx.record.itemCount = ids.length;
  return eachTarget("DeleteItem", ids, (id) => {
    const { mailbox, view } = resolveItem(id, ctx);
    if (mode === undefined) {
      throw new EwsError(
        "ErrorSendMeetingCancellationsRequired",
        "The SendMeetingCancellations attribute is required for calendar items.",
      );
    }
    const item = view.item;
    if (view.originalStart !== null) {
      item.recurrence!.exceptions.delete(view.originalStart);
      item.recurrence!.deleted.add(view.originalStart);
      mailbox.touch(item, []);
    } else if (type === "MoveToDeletedItems") {
      item.folder = mailbox.distinguished("deleteditems")!.object;
      mailbox.touch(item, []);
    } else {
      mailbox.items.delete(item.object);
    }
    return successMessage("DeleteItem");
  });
};
