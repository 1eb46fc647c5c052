import assert from "node:assert/strict";
import { Backoff, parseRetryAfter, sleep } from "../../agent/backoff.ts";

Deno.test("backoff: the ceiling doubles from 1 s and stops at 5 minutes", () => {
  const backoff = new Backoff({ random: () => 1 });
  const delays = Array.from({ length: 12 }, () => backoff.next());
  assert.deepEqual(delays, [
    1_000,
    2_000,
    4_000,
    8_000,
    16_000,
    32_000,
    64_000,
    128_000,
    256_000,
    300_000,
    300_000,
    300_000,
  ]);
  backoff.reset();
  assert.equal(backoff.next(), 1_000);
});

Deno.test("backoff: full jitter spreads each delay over [0, ceiling]", () => {
  assert.equal(new Backoff({ random: () => 0 }).next(), 0);
  const half = new Backoff({ random: () => 0.5 });
  assert.deepEqual([half.next(), half.next(), half.next()], [500, 1_000, 2_000]);
  const real = new Backoff({ baseMs: 100, capMs: 1_000 });
  for (let i = 0; i < 50; i++) {
    const delay = real.next();
    assert.ok(delay >= 0 && delay <= 1_000, `delay ${delay} out of bounds`);
  }
});

Deno.test("backoff: Retry-After accepts seconds and HTTP dates, and is bounded", () => {
  const now = new Date("2026-03-29T08:00:00Z");
  assert.equal(parseRetryAfter("7", now), 7_000);
  assert.equal(parseRetryAfter(" 0 ", now), 0);
  assert.equal(parseRetryAfter("Sun, 29 Mar 2026 08:00:30 GMT", now), 30_000);
  assert.equal(parseRetryAfter("Sun, 29 Mar 2026 07:00:00 GMT", now), 0);
  assert.equal(parseRetryAfter("999999", now), 3_600_000);
  assert.equal(parseRetryAfter(null, now), null);
  assert.equal(parseRetryAfter("soon", now), null);
});

Deno.test("backoff: sleep ends early when aborted and leaves no timer behind", async () => {
  const stop = new AbortController();
  const started = Date.now();
  const waiting = sleep(60_000, stop.signal);
  stop.abort();
  await waiting;
  assert.ok(Date.now() - started < 1_000);
  await sleep(1_000, stop.signal);
  assert.ok(Date.now() - started < 1_000);
});
