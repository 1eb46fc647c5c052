import assert from "node:assert/strict";
import { syncWindow } from "../../agent/window.ts";

const span = { past_days: 30, future_days: 90 };

Deno.test("window: starts and ends at UTC midnight around today", () => {
  assert.deepEqual(syncWindow(new Date("2026-03-29T15:42:10.123Z"), span), {
    start: "2026-02-27T00:00:00Z",
    end: "2026-06-27T00:00:00Z",
  });
});

Deno.test("window: is the same all day, and moves at UTC midnight", () => {
  const early = syncWindow(new Date("2026-03-29T00:00:00Z"), span);
  const late = syncWindow(new Date("2026-03-29T23:59:59.999Z"), span);
  const next = syncWindow(new Date("2026-03-30T00:00:00Z"), span);
  assert.deepEqual(early, late);
  assert.deepEqual(next, { start: "2026-02-28T00:00:00Z", end: "2026-06-28T00:00:00Z" });
});

Deno.test("window: zero past days starts today; spans cross years and leap days", () => {
  assert.deepEqual(syncWindow(new Date("2027-12-31T12:00:00Z"), { past_days: 0, future_days: 1 }), {
    start: "2027-12-31T00:00:00Z",
    end: "2028-01-01T00:00:00Z",
  });
  assert.equal(
    syncWindow(new Date("2028-03-01T06:00:00Z"), { past_days: 1, future_days: 1 }).start,
    "2028-02-29T00:00:00Z",
  );
});
