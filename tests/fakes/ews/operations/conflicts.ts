/**
 * Concurrency of `UpdateItem`, as [MS-OXWSCORE] 3.1.4.9.4.1 (`t:ConflictResolutionType`,
 * https://learn.microsoft.com/en-us/openspecs/exchange_server_protocols/ms-oxwscore/0dc48948-2f1b-425a-9e53-0c247657ef12)
 * defines it. A conflict is a field the request sets that changed on the server after the
 * request's change key; fields nobody else changed merge without conflict.
 *
 * - `AlwaysOverwrite` writes over conflicts.
 * - `AutoResolve` writes over them too, except in the case the specification gives: a
 *   Sensitivity raised on the server (to Confidential, say) is kept and the request's
 *   lower one ignored.
 * - `NeverOverwrite` fails the item with `ErrorIrresolvableConflict`.
 *
 * @module
 */
import type { ItemFields, ItemView, Sensitivity } from "../model.ts";
import { EwsError } from "../soap.ts";

/** The values of `ConflictResolution`. */
export const RESOLUTIONS = ["NeverOverwrite", "AutoResolve", "AlwaysOverwrite"] as const;

/** How `UpdateItem` treats conflicts. */
export type ConflictResolution = typeof RESOLUTIONS[number];

/** What an update writes: field values and the field URIs (and `ext:` keys) it sets. */
export interface PendingChange {
  fields: Partial<ItemFields>;
  touched: string[];
}

/** From the least to the most restrictive. */
const SENSITIVITY_ORDER: Sensitivity[] = ["Normal", "Personal", "Private", "Confidential"];

const SENSITIVITY = "item:Sensitivity";

/**
 * The fields of a change that conflict. `known` is the change number of the request's
 * change key (null without one, which never conflicts). Occurrences keep no per-field
 * history, so every field set on a changed occurrence conflicts.
 */
function conflictsOf(view: ItemView, change: PendingChange, known: number | null): string[] {
  if (known === null || known >= view.changeNumber) return [];
  if (view.originalStart !== null) return change.touched;
  return change.touched.filter((field) => (view.item.fieldChanges.get(field) ?? 0) > known);
}

function keepsServerSensitivity(view: ItemView, change: PendingChange): boolean {
  const requested = change.fields.sensitivity;
  return requested !== undefined &&
    SENSITIVITY_ORDER.indexOf(view.fields.sensitivity) > SENSITIVITY_ORDER.indexOf(requested);
}

/**
 * Resolves the conflicts of a change in place (dropping what `AutoResolve` keeps of the
 * server's) and returns how many there were, for `m:ConflictResults`.
 */
export function resolveConflicts(
  resolution: ConflictResolution,
  view: ItemView,
  change: PendingChange,
  known: number | null,
): number {
  const conflicts = conflictsOf(view, change, known);
  if (conflicts.length === 0) return 0;
  if (resolution === "NeverOverwrite") {
    throw new EwsError(
      "ErrorIrresolvableConflict",
      "The send or update operation could not be performed because the change key " +
        "passed in the request does not match the current change key for the item.",
    );
  }
  if (
    resolution === "AutoResolve" && conflicts.includes(SENSITIVITY) &&
    keepsServerSensitivity(view, change)
  ) {
    delete change.fields.sensitivity;
    change.touched = change.touched.filter((field) => field !== SENSITIVITY);
  }
  return conflicts.length;
}
