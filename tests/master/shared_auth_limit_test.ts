/**
 * The auth-failure limit shared through Redis: two masters (two apps, each with its own
 * connection) on one real redis-server count one address's failures together, so N
 * masters allow no more guesses than one. The in-memory limiter of SQLite is covered by
 * ui_test.ts.
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { SharedAuthFailureLimiter } from "../../master/http/auth_limiter.ts";
import { RedisStore } from "../../master/store/redis.ts";
import { ADMIN_TOKEN, type TestMaster, testMaster } from "../helpers/master_app.ts";
import { startRedis } from "../helpers/redis.ts";

/** Asks `master` for the status as `address`, with `token`. */
function status(master: TestMaster, address: string, token: string) {
  return master.app.request("/api/sync/status", {
    headers: { authorization: `Bearer ${token}` },
  }, { remoteAddr: { hostname: address } });
}

Deno.test("failures on one master count on the other: the limit holds across masters", async () => {
  await using server = await startRedis();
  await using a = await testMaster({
    store: await RedisStore.open({ url: server.url }),
    authFailureLimit: 3,
  });
  await using b = await testMaster({
    store: await RedisStore.open({ url: server.url }),
    authFailureLimit: 3,
  });
  const guesser = "198.51.100.7";
  assert.equal((await status(a, guesser, "wrong-token-0123456789")).status, 401);
  assert.equal((await status(b, guesser, "wrong-token-0123456789")).status, 401);
  assert.equal((await status(a, guesser, "wrong-token-0123456789")).status, 401);
  for (const master of [b, a]) {
    const blocked = await status(master, guesser, ADMIN_TOKEN);
    assert.equal(blocked.status, 429, "even the right token waits");
    assert.equal((await blocked.json()).error.code, "too_many_failures");
    const wait = Number(blocked.headers.get("retry-after"));
    assert.ok(wait > 0 && wait <= 900, `Retry-After ${wait} lies within the 15-minute window`);
  }
  assert.equal((await status(b, "203.0.113.9", ADMIN_TOKEN)).status, 200, "others may pass");
});

Deno.test("the shared count lives in one expiring key per address, and a limit of 0 counts nothing", async () => {
  await using server = await startRedis();
  const store = await RedisStore.open({ url: server.url });
  const redis = new Redis(server.url);
  try {
    const limiter = new SharedAuthFailureLimiter(store, { limit: 2, windowMs: 60_000 });
    await limiter.fail("192.0.2.1");
    assert.equal(await limiter.retryAfter("192.0.2.1"), 0, "one failure of two allowed");
    await limiter.fail("192.0.2.1");
    const wait = await limiter.retryAfter("192.0.2.1");
    assert.ok(wait > 0 && wait <= 60, `${wait}`);
    assert.equal(await limiter.retryAfter("192.0.2.2"), 0);
    const keys = await redis.keys("calsync:authfail:*");
    assert.deepEqual(keys, ["calsync:authfail:192.0.2.1"]);
    const ttl = await redis.pttl(keys[0]);
    assert.ok(ttl > 0 && ttl <= 60_000, `the key expires with its window: ${ttl}`);

    const off = new SharedAuthFailureLimiter(store, { limit: 0, windowMs: 60_000 });
    await off.fail("192.0.2.3");
    assert.equal(await off.retryAfter("192.0.2.3"), 0);
    assert.equal(await redis.exists("calsync:authfail:192.0.2.3"), 0);
  } finally {
    redis.disconnect();
    await store.close();
  }
});
