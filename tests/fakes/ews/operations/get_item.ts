/**
 * `GetItem`: items and occurrences by id, in the requested shape, one message per id.
 *
 * @module
 */
import { readItemShape, writeItem } from "../shapes.ts";
import { NS, successMessage } from "../soap.ts";
import { el } from "../xml.ts";
import { eachTarget, type Handler, required, resolveItem } from "./common.ts";

/** `GetItem`. */
export const getItem: Handler = (body, ctx) => {
  const shape = readItemShape(required(body, NS.m, "ItemShape"), false);
  const ids = required(body, NS.m, "ItemIds").children;
  ctx.record.itemCount = ids.length;
  return eachTarget("GetItem", ids, (id) => {
    const { mailbox, view } = resolveItem(id, ctx);
    const ctxWrite = { mailbox, bodyType: shape.bodyType };
    return successMessage("GetItem", el("m:Items", {}, writeItem(view, shape, ctxWrite, false)));
  }, el("m:Items"));
};
