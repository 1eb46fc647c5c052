import assert from "node:assert/strict";
import { MemoryDestination } from "../../master/destinations/memory.ts";
import { configured, type ConfiguredDestination } from "../../master/destinations/mod.ts";
import { DestinationError } from "../../master/destinations/types.ts";
import { memoryLogger } from "../../master/log.ts";
import { SqliteStore } from "../../master/store/sqlite.ts";
import { SyncEngine } from "../../master/sync/engine.ts";
import { blockedUntil, refusedAgain, retryAllowed } from "../../master/sync/refusals.ts";

const T0 = Date.parse("2026-03-01T12:00:00Z");
const MINUTE = 60_000;

/** A destination whose server refuses every login, and an engine with a settable clock. */
async function refusingSetup(settings = "password-1") {
  const store = await SqliteStore.open(":memory:");
  const dest = new MemoryDestination("sogo");
  const refuse = () => {
    for (let i = 0; i < 100; i++) {
      dest.failNext("changeToken", new DestinationError("unauthorized", "HTTP 401"));
    }
  };
  refuse();
  let now = T0;
  const destination: ConfiguredDestination = {
    ...configured(dest),
    credentialsSetting: "CALDAV_USERNAME and CALDAV_PASSWORD",
    settingsDigest: () => Promise.resolve(settings),
  };
  const logger = memoryLogger();
  const engine = new SyncEngine({
    store,
    logger,
    destinations: [destination],
    intervalMs: 3_600_000,
    debounceMs: 60_000,
    now: () => new Date(now),
  });
  return {
    store,
    dest,
    engine,
    logger,
    advance: (ms: number) => (now += ms),
    logins: () => dest.calls.changeToken,
  };
}

Deno.test("a refused password is tried once, whatever the uploads, and the status says what to fix", async () => {
  const s = await refusingSetup();
  for (let i = 0; i < 20; i++) await s.engine.run();
  assert.equal(s.logins(), 1, "one failed login, then silence");
  const [report] = await s.engine.run();
  assert.equal(report.refused_until, "2026-03-01T12:15:00Z");
  const state = await s.store.destinationState("sogo");
  assert.match(state!.last_error!, /refused calsync's credentials: HTTP 401/);
  assert.match(state!.last_error!, /Fix CALDAV_USERNAME and CALDAV_PASSWORD/);
  assert.match(state!.last_error!, /no login before 2026-03-01T12:15:00Z/);
  assert.ok(s.logger.lines.some((l) => l.includes("Fix CALDAV_USERNAME and CALDAV_PASSWORD")));

  s.advance(15 * MINUTE);
  await s.engine.run();
  assert.equal(s.logins(), 2, "tried again once the wait is over");
  await s.engine.stop();
  await s.store.close();
});

Deno.test("Retry now lifts the wait, but never beyond three refused logins in 15 minutes", async () => {
  const s = await refusingSetup();
  await s.engine.run();
  const second = await s.engine.retryRefused("sogo");
  assert.ok(second && "reports" in second);
  const third = await s.engine.retryRefused("sogo");
  assert.ok(third && "reports" in third);
  assert.equal(s.logins(), 3);
  const fourth = await s.engine.retryRefused("sogo");
  assert.deepEqual(fourth, { until: "2026-03-01T12:15:00Z" });
  assert.equal(s.logins(), 3, "the fourth try was not sent");
  assert.equal(await s.engine.retryRefused("nothing-like-it"), null);
  await s.engine.stop();
  await s.store.close();
});

Deno.test("new settings lift the wait at once", async () => {
  const s = await refusingSetup("password-1");
  await s.engine.run();
  assert.equal(s.logins(), 1);
  const state = await s.store.destinationState("sogo");
  assert.equal(
    blockedUntil(state!.auth_refusal, "password-1", new Date(T0)),
    "2026-03-01T12:15:00Z",
  );
  assert.equal(blockedUntil(state!.auth_refusal, "password-2", new Date(T0)), null);
  await s.engine.stop();
  await s.store.close();
});

Deno.test("refusals: the count covers the last 15 minutes, whichever settings were refused", () => {
  const at = (minutes: number) => new Date(T0 + minutes * MINUTE);
  let r = refusedAgain(null, "a", at(0), "m");
  r = refusedAgain(retryAllowed(r, at(1)), "b", at(1), "m");
  assert.equal(blockedUntil(r, "c", at(2)), null, "two refusals: other settings may try");
  r = refusedAgain(r, "c", at(2), "m");
  assert.equal(blockedUntil(r, "d", at(3)), "2026-03-01T12:15:00Z", "three: nobody may");
  assert.equal(blockedUntil(r, "d", at(15)), null, "the first refusal has aged out");
  assert.equal(blockedUntil(r, "c", at(15)), "2026-03-01T12:17:00Z", "c itself still waits");
});
