/** The reconcile plan, computed without a network: examples of what it writes and keeps. */
import assert from "node:assert/strict";
import type { RemoteItem } from "../../master/destinations/types.ts";
import { planReconcile } from "../../master/sync/plan.ts";
import { destinationItem } from "./destination_contract.ts";

const item = destinationItem({
  uid: "a@corp.example",
  start: "2026-03-10T09:00:00Z",
  end: "2026-03-10T10:00:00Z",
  title: "A",
});
const desired = new Map([[item.key, item]]);
const copy = (href: string): RemoteItem => ({
  href,
  etag: `e-${href}`,
  key: item.key,
  hash: item.hash,
});

Deno.test("plan: two copies of one key where the server names items: the one the status table names stays", () => {
  const entries = [{ key: item.key, href: "second", etag: "e-second", hash: item.hash }];
  const plan = planReconcile(desired, entries, [copy("first"), copy("second")], {
    deleteDuplicates: true,
  });
  assert.deepEqual(plan.operations, [
    { kind: "delete", key: item.key, href: "first", etag: "e-first", duplicate: true },
  ]);
  assert.deepEqual([plan.adopt, plan.forget, plan.strays], [[], [], []]);
});

Deno.test("plan: two copies unknown to the status table: the first listed is adopted, the other deleted", () => {
  const plan = planReconcile(desired, [], [copy("first"), copy("second")], {
    deleteDuplicates: true,
  });
  assert.deepEqual(plan.operations, [
    { kind: "delete", key: item.key, href: "second", etag: "e-second", duplicate: true },
  ]);
  assert.deepEqual(plan.adopt.map((a) => a.entry.href), ["first"]);
});

Deno.test("plan: where the client names items, a second marked copy is never deleted", () => {
  const entries = [{ key: item.key, href: "first", etag: "e-first", hash: item.hash }];
  const plan = planReconcile(desired, entries, [copy("first"), copy("second")]);
  assert.ok(plan.operations.every((op) => op.kind !== "delete"));
});

Deno.test("plan: an item that ended before the retention horizon stays though nothing desires it", () => {
  const ends = Date.parse("2026-03-10T10:00:00Z");
  const aged = { key: item.key, href: "a", etag: "e-a", hash: item.hash, end_ms: ends };
  const horizon = { keepEndedBefore: ends + 1 };
  const none = new Map();
  assert.deepEqual(planReconcile(none, [aged], null, horizon).operations, []);
  const listed = planReconcile(none, [aged], [copy("a")], horizon);
  assert.deepEqual([listed.operations, listed.forget, listed.strays], [[], [], []]);
  // Gone from the destination (deleted by hand): only the entry is forgotten.
  const gone = planReconcile(none, [aged], [], horizon);
  assert.deepEqual([gone.operations, gone.forget], [[], [item.key]]);
  // Within the horizon, or with no end known, no longer desired means deleted.
  for (const entry of [aged, { ...aged, end_ms: undefined }]) {
    const plan = planReconcile(none, [entry], null, { keepEndedBefore: ends });
    assert.deepEqual(plan.operations.map((op) => op.kind), ["delete"]);
  }
  const unknownEnd = planReconcile(none, [{ ...aged, end_ms: undefined }], null, horizon);
  assert.deepEqual(unknownEnd.operations.map((op) => op.kind), ["delete"]);
});
