/**
 * `UpdateItem`: `SetItemField`/`DeleteItemField` (`AppendToItemField` is read as a set) on
 * items and occurrences, including extended properties and the `Recurrence` of a series
 * (a new pattern drops the series' exceptions; deleting it leaves a single item). An
 * occurrence takes field changes only, which make it an exception.
 *
 * Concurrency follows the change key and `ConflictResolution` (see `conflicts.ts`): each
 * item succeeds or fails on its own, and a success reports its conflicts in
 * `m:ConflictResults`. A change key this server did not write is `ErrorInvalidChangeKey`.
 *
 * @module
 */
import { decodeChangeKey } from "../ids.ts";
import { invitesSomeone, settle } from "../items.ts";
import { extendedKey, type ExtendedValue, type ItemFields } from "../model.ts";
import {
  type ItemPatch,
  propertyOf,
  readExtendedUri,
  readItem,
  writeItemId,
} from "../properties.ts";
import { readRecurrence } from "../recurrence_xml.ts";
import { EwsError, NS, SchemaViolation, successMessage } from "../soap.ts";
import { el, text, type XmlElement } from "../xml.ts";
import { eachTarget, enumAttribute, type Handler, required, resolveItem } from "./common.ts";
import { RESOLUTIONS, resolveConflicts } from "./conflicts.ts";

/** The values of `SendMeetingInvitationsOrCancellations`. */
const MODES = [
  "SendToNone",
  "SendOnlyToAll",
  "SendOnlyToChanged",
  "SendToAllAndSaveCopy",
  "SendToChangedAndSaveCopy",
] as const;

/** One item change, read before anything is applied. */
interface Change {
  id: XmlElement;
  fields: Partial<ItemFields>;
  extended: ExtendedValue[];
  removedExtended: string[];
  /** A new `t:Recurrence`, or null when `DeleteItemField` makes the series a single. */
  recurrence?: XmlElement | null;
  /** Field URIs and `ext:` keys the change writes. */
  touched: string[];
}

const ID_ELEMENTS = ["ItemId", "OccurrenceItemId", "RecurringMasterItemId"];
const ITEM_ELEMENTS = ["CalendarItem", "Item"];

function onePropertyError(): EwsError {
  return new EwsError(
    "ErrorIncorrectUpdatePropertyCount",
    "An object within a change description must contain one and only one property to modify.",
  );
}

function readSet(update: XmlElement, path: XmlElement, timeZone: string): ItemPatch {
  const item = update.children.find((c) => c.ns === NS.t && ITEM_ELEMENTS.includes(c.name));
  if (!item) throw new SchemaViolation(`The element '${update.name}' needs an item.`);
  const patch = readItem(item, { timeZone });
  if (patch.touched.length !== 1) throw onePropertyError();
  const expected = path.name === "ExtendedFieldURI"
    ? `ext:${extendedKey(readExtendedUri(path))}`
    : path.attrs.FieldURI;
  if (patch.touched[0] !== expected) throw onePropertyError();
  return patch;
}

function readChange(change: XmlElement, timeZone: string): Change {
  const id = change.children.find((c) => c.ns === NS.t && ID_ELEMENTS.includes(c.name));
  if (!id) throw new SchemaViolation("The element 'ItemChange' needs an item id.");
  const result: Change = { id, fields: {}, extended: [], removedExtended: [], touched: [] };
  for (const update of required(change, NS.t, "Updates").children) {
    const path = update.children[0];
    if (!path || !["FieldURI", "ExtendedFieldURI", "IndexedFieldURI"].includes(path.name)) {
      throw new SchemaViolation(`The element '${update.name}' needs a property path.`);
    }
    if (path.name === "FieldURI" && !propertyOf(path.attrs.FieldURI ?? "")) {
      throw new EwsError("ErrorInvalidPropertySet", "Set action is invalid for property.");
    }
    if (update.name === "SetItemField" || update.name === "AppendToItemField") {
      const patch = readSet(update, path, timeZone);
      Object.assign(result.fields, patch.fields);
      if (patch.recurrence) result.recurrence = patch.recurrence;
      result.extended.push(...patch.extended);
      result.touched.push(...patch.touched);
    } else if (update.name === "DeleteItemField") {
      if (path.name === "ExtendedFieldURI") {
        const key = extendedKey(readExtendedUri(path));
        result.removedExtended.push(key);
        result.touched.push(`ext:${key}`);
      } else if (path.attrs.FieldURI === "calendar:Recurrence") {
        result.recurrence = null;
        result.touched.push("calendar:Recurrence");
      } else {
        const cleared = propertyOf(path.attrs.FieldURI ?? "")?.cleared;
        if (!cleared) {
          throw new EwsError(
            "ErrorInvalidPropertyDelete",
            "Delete action is invalid for property.",
          );
        }
        Object.assign(result.fields, cleared);
        result.touched.push(path.attrs.FieldURI!);
      }
    } else {
      throw new SchemaViolation(`The element 'Updates' has invalid child '${update.name}'.`);
    }
  }
  return result;
}

/** `UpdateItem`. */
export const updateItem: Handler = (body, ctx) => {
  const resolution = enumAttribute(body, "ConflictResolution", RESOLUTIONS);
  ctx.record.conflictResolution = resolution;
  enumAttribute(
    body,
    "MessageDisposition",
    ["SaveOnly", "SendOnly", "SendAndSaveCopy"],
    "SaveOnly",
  );
  const mode = body.attrs.SendMeetingInvitationsOrCancellations === undefined
    ? undefined
    : enumAttribute(body, "SendMeetingInvitationsOrCancellations", MODES);
  ctx.record.sendInvitations = mode ?? null;
  const elements = required(body, NS.m, "ItemChanges").children;
  ctx.record.itemCount = elements.length;
  const changes = elements.map((element): Change | EwsError => {
    try {
      return readChange(element, ctx.timeZone);
    } catch (error) {
      if (error instanceof EwsError) return error;
      throw error;
    }
  });
  return eachTarget("UpdateItem", changes, (change) => {
    if (change instanceof EwsError) throw change;
    if (mode === undefined) {
      throw new EwsError(
        "ErrorSendMeetingInvitationsOrCancellationsRequired",
        "The SendMeetingInvitationsOrCancellations attribute is required for calendar items.",
      );
    }
    const { mailbox, view } = resolveItem(change.id, ctx);
    const item = view.item;
    const changeKey = change.id.attrs.ChangeKey;
    const known = changeKey === undefined ? null : decodeChangeKey(changeKey, mailbox.guid);
    if (changeKey !== undefined && known === null) {
      throw new EwsError("ErrorInvalidChangeKey", "The change key is invalid.");
    }
    const conflicts = resolveConflicts(resolution, view, change, known);
    const seriesChange = change.extended.length + change.removedExtended.length > 0 ||
      change.recurrence !== undefined;
    if (view.originalStart !== null && seriesChange) {
      throw new EwsError("ErrorInvalidPropertySet", "Set action is invalid for property.");
    }
    // Settled (and so validated) before anything is stored.
    const settled = settle({ ...view.fields, ...change.fields });
    const rrule = change.recurrence && readRecurrence(change.recurrence, settled);
    const changeNumber = mailbox.touch(item, change.touched);
    if (view.originalStart === null) {
      item.fields = settled;
      for (const value of change.extended) item.extended.set(extendedKey(value.uri), value);
      for (const key of change.removedExtended) item.extended.delete(key);
      // A new pattern drops the old series' exceptions, as Exchange does.
      if (change.recurrence !== undefined) {
        item.recurrence = rrule ? { rrule, exceptions: new Map(), deleted: new Set() } : null;
      }
    } else {
      // An exception keeps what differs from the series, and always its own times.
      const exceptions = item.recurrence!.exceptions;
      const changed = Object.keys(change.fields).map((
        key,
      ) => [key, settled[key as keyof ItemFields]]);
      exceptions.set(view.originalStart, {
        fields: {
          ...exceptions.get(view.originalStart)?.fields,
          ...Object.fromEntries(changed),
          start: settled.start,
          end: settled.end,
        },
        changeNumber,
        lastModified: item.lastModified,
      });
    }
    if (invitesSomeone(mode, item.fields)) item.sentInvitations = true;
    const updated = { ...view, changeNumber };
    return successMessage(
      "UpdateItem",
      el("m:Items", {}, el("t:CalendarItem", {}, writeItemId(updated, mailbox))),
      el("m:ConflictResults", {}, text("t:Count", conflicts)),
    );
  }, el("m:Items"));
};
