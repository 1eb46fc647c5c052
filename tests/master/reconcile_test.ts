import assert from "node:assert/strict";
import { Occurrence } from "../../shared/model.ts";
import { SourceSettings } from "../../shared/protocol.ts";
import {
  InjectedCrash,
  MemoryDestination,
  type MemoryFlavour,
} from "../../master/destinations/memory.ts";
import { DestinationError, type DestinationItem } from "../../master/destinations/types.ts";
import { memoryLogger } from "../../master/log.ts";
import { desiredItems } from "../../master/sync/desired.ts";
import { reconcileDestination, type ReconcileOptions } from "../../master/sync/reconcile.ts";
import { SqliteStore } from "../../master/store/sqlite.ts";
import { EMPTY_DESTINATION_STATE, type Store } from "../../master/store/types.ts";

/** Desired items for events `title@day` in March 2026. */
function desired(...events: string[]): Map<string, DestinationItem> {
  const stored = events.map((spec) => {
    const [title, day] = spec.split("@");
    const d = day.padStart(2, "0");
    return {
      ...Occurrence.parse({
        uid: `uid-${day}`,
        start: `2026-03-${d}T09:00:00Z`,
        end: `2026-03-${d}T10:00:00Z`,
        title,
      }),
      agent_id: "pc1",
      source_id: "main",
    };
  });
  return desiredItems(stored, () => SourceSettings.parse({}));
}

const sleeps: number[] = [];
const options = (extra: Partial<ReconcileOptions> = {}): ReconcileOptions => ({
  logger: memoryLogger(),
  sleep: (ms) => (sleeps.push(ms), Promise.resolve()),
  ...extra,
});

/** Both ways servers work: client-named items one at a time, server-named in batches. */
const FLAVOURS: MemoryFlavour[] = [{ kind: "caldav" }, { kind: "ews", batchSize: 2 }];

async function setup(
  flavour: MemoryFlavour = { kind: "caldav" },
): Promise<{ store: Store; dest: MemoryDestination }> {
  return {
    store: await SqliteStore.open(":memory:"),
    dest: new MemoryDestination("cal", "memory:", flavour),
  };
}

function titles(dest: MemoryDestination): string[] {
  return [...dest.items.values()].map((i) => i.title).sort();
}

for (const flavour of FLAVOURS) {
  Deno.test(`${flavour.kind}: first sync creates everything; an unchanged resync costs one change-token read`, async () => {
    const { store, dest } = await setup(flavour);
    const want = desired("A@2", "B@3", "C@4");
    const first = await reconcileDestination(dest, store, want, options());
    assert.deepEqual([first.created, first.updated, first.deleted, first.failed], [3, 0, 0, 0]);
    assert.deepEqual(titles(dest), ["A", "B", "C"]);
    assert.equal(dest.writes, flavour.kind === "ews" ? 2 : 3, "three items in batches of two");
    const before = { ...dest.calls };
    const again = await reconcileDestination(dest, store, want, options());
    assert.equal(again.listed, false);
    assert.deepEqual(dest.calls, { ...before, changeToken: before.changeToken + 1 });
    await store.close();
  });

  Deno.test(`${flavour.kind}: one changed event costs exactly one write; a removal exactly one delete`, async () => {
    const { store, dest } = await setup(flavour);
    await reconcileDestination(dest, store, desired("A@2", "B@3", "C@4"), options());
    const writes = dest.writes;
    await reconcileDestination(dest, store, desired("A@2", "B2@3", "C@4"), options());
    assert.equal(dest.writes, writes + 1);
    assert.equal(dest.calls.update + dest.calls.updateBatch, 1);
    await reconcileDestination(dest, store, desired("A@2", "B2@3"), options());
    assert.equal(dest.writes, writes + 2);
    assert.equal(dest.calls.remove + dest.calls.removeBatch, 1);
    assert.deepEqual(titles(dest), ["A", "B2"]);
    await store.close();
  });

  Deno.test(`${flavour.kind}: foreign items are never modified or deleted`, async () => {
    const { store, dest } = await setup(flavour);
    dest.putForeign("/cal/personal.ics", "Dentist");
    await reconcileDestination(dest, store, desired("A@2"), options());
    await reconcileDestination(dest, store, desired(), options({ forceList: true }));
    assert.deepEqual(titles(dest), ["Dentist"]);
    assert.equal(dest.items.get("/cal/personal.ics")?.key, null);
    await store.close();
  });

  Deno.test(`${flavour.kind}: drift is repaired: an owned item edited or deleted by hand is restored`, async () => {
    const { store, dest } = await setup(flavour);
    const want = desired("A@2", "B@3");
    await reconcileDestination(dest, store, want, options());
    const [a, b] = [...dest.items.keys()];
    dest.editByHand(a, "A (mangled)");
    dest.deleteByHand(b);
    const repair = await reconcileDestination(dest, store, want, options());
    assert.equal(repair.listed, true, "the change token told it to look");
    assert.deepEqual([repair.created, repair.updated], [1, 1]);
    assert.deepEqual(titles(dest), ["A", "B"]);
    await store.close();
  });
}

Deno.test("a 412 on update re-reads and decides again", async () => {
  const { store, dest } = await setup();
  await reconcileDestination(dest, store, desired("A@2"), options());
  const [href] = dest.items.keys();
  dest.editByHand(href, "edited meanwhile");
  await store.saveDestinationState("cal", {
    ...EMPTY_DESTINATION_STATE,
    change_token: await dest.changeToken(),
  });
  const report = await reconcileDestination(dest, store, desired("A2@2"), options());
  assert.equal(report.updated, 1);
  assert.equal(report.failed, 0);
  assert.deepEqual(titles(dest), ["A2"]);
  await store.close();
});

Deno.test("throttling is retried after Retry-After; lasting failures are reported, others go on", async () => {
  const { store, dest } = await setup();
  sleeps.length = 0;
  dest.failNext("create", new DestinationError("throttled", "429 Too Many Requests", 1500));
  const report = await reconcileDestination(
    dest,
    store,
    desired("A@2", "B@3"),
    options({ concurrency: 1 }),
  );
  assert.equal(report.created, 2);
  assert.deepEqual(sleeps, [1500]);

  for (let i = 0; i < 4; i++) {
    dest.failNext("create", new DestinationError("server", "500 Internal Server Error"));
  }
  const partial = await reconcileDestination(
    dest,
    store,
    desired("A@2", "B@3", "C@4", "D@5"),
    options({ concurrency: 1 }),
  );
  assert.equal(partial.failed, 1);
  assert.equal(partial.created, 1);
  assert.match(partial.errors[0], /500 Internal Server Error/);
  assert.equal((await store.destinationState("cal"))?.pending, 1);
  const healed = await reconcileDestination(
    dest,
    store,
    desired("A@2", "B@3", "C@4", "D@5"),
    options(),
  );
  assert.equal(healed.created, 1);
  assert.deepEqual(titles(dest), ["A", "B", "C", "D"]);
  assert.equal((await store.destinationState("cal"))?.pending, 0);
  await store.close();
});

Deno.test("an unreachable destination throws and leaves the status table as it was", async () => {
  const { store, dest } = await setup();
  for (let i = 0; i < 4; i++) {
    dest.failNext("changeToken", new DestinationError("unreachable", "connection refused"));
  }
  await assert.rejects(
    reconcileDestination(dest, store, desired("A@2"), options()),
    /connection refused/,
  );
  assert.deepEqual(await store.destinationEntries("cal"), []);
  assert.equal(dest.writes, 0);
  await store.close();
});

const CRASH_POINTS = [
  ...(["create", "update", "remove"] as const).flatMap((method) =>
    [1, 2, 3].map((n) => ({ flavour: FLAVOURS[0], method, n }))
  ),
  ...(["createBatch", "updateBatch", "removeBatch"] as const).flatMap((method) =>
    [1, 2].map((n) => ({ flavour: FLAVOURS[1], method, n }))
  ),
];

for (const { flavour, method, n } of CRASH_POINTS) {
  {
    Deno.test(`${flavour.kind}: a crash after ${method} #${n} and a restart: no duplicate, nothing missing`, async () => {
      const { store, dest } = await setup(flavour);
      await reconcileDestination(
        dest,
        store,
        desired("A@2", "B@3", "C@4", "X@9", "Y@10", "Z@11"),
        options(),
      );
      const initialWrites = dest.writes;
      // Three of each: updates A-C, creates D-F, deletes X-Z.
      const target = desired("A2@2", "B2@3", "C2@4", "D@5", "E@6", "F@7");
      dest.crashAfter(method, n);
      await assert.rejects(
        reconcileDestination(dest, store, target, options({ concurrency: 1 })),
        InjectedCrash,
      );
      const done = dest.writes - initialWrites;
      await reconcileDestination(dest, store, target, options());
      assert.deepEqual(titles(dest), ["A2", "B2", "C2", "D", "E", "F"]);
      const keys = [...dest.items.values()].map((i) => i.key);
      assert.equal(new Set(keys).size, keys.length, "one item per key");
      const entries = await store.destinationEntries("cal");
      assert.equal(entries.length, 6);
      for (const e of entries) assert.equal(dest.items.get(e.href)?.etag, e.etag);
      const requests = flavour.kind === "ews" ? 6 : 9;
      assert.ok(
        dest.writes - initialWrites <= requests + 1,
        "at most the request in flight at the crash is made twice",
      );
      assert.ok(done >= 1);
      const settled = dest.writes;
      await reconcileDestination(dest, store, target, options());
      assert.equal(dest.writes, settled, "converged: nothing more to write");
      await store.close();
    });
  }
}

/** Records the destination's current change token, as if calsync had just looked. */
async function trustToken(store: Store, dest: MemoryDestination): Promise<void> {
  await store.saveDestinationState("cal", {
    ...EMPTY_DESTINATION_STATE,
    change_token: await dest.changeToken(),
  });
}

Deno.test("a create answered 412 finds calsync's own item there and takes it over", async () => {
  const { store, dest } = await setup();
  const want = desired("A@2");
  await reconcileDestination(dest, store, want, options());
  const [entry] = await store.destinationEntries("cal");
  await store.deleteDestinationEntry("cal", entry.key);
  await trustToken(store, dest);
  const report = await reconcileDestination(dest, store, want, options());
  assert.equal(report.listed, false);
  assert.equal(report.failed, 0);
  assert.equal(dest.items.size, 1, "no duplicate");
  const [again] = await store.destinationEntries("cal");
  assert.equal(again.etag, dest.items.get(again.href)?.etag);
  await store.close();
});

Deno.test("a delete answered 412 re-reads: calsync's item is deleted, a foreign one kept", async () => {
  const { store, dest } = await setup();
  await reconcileDestination(dest, store, desired("A@2", "B@3"), options());
  const [a, b] = [...dest.items.keys()];
  dest.editByHand(a, "A edited");
  dest.items.set(b, { ...dest.items.get(b)!, key: null, hash: null, etag: '"foreign"' });
  await trustToken(store, dest);
  const report = await reconcileDestination(dest, store, desired(), options());
  assert.equal(report.failed, 0);
  assert.deepEqual([...dest.items.keys()], [b], "the foreign item stays");
  assert.deepEqual(await store.destinationEntries("cal"), []);
  await store.close();
});

for (const flavour of FLAVOURS) {
  Deno.test(`${flavour.kind}: a new or restored store deletes nothing it does not know, and adopts it once desired`, async () => {
    const { store, dest } = await setup(flavour);
    const want = desired("A@2", "B@3", "C@4");
    await reconcileDestination(dest, store, want, options());
    await store.close();
    const fresh = await SqliteStore.open(":memory:");
    const writes = dest.writes;
    const before = await reconcileDestination(dest, fresh, desired(), options());
    assert.equal(before.strays, 3);
    assert.equal(dest.writes, writes, "agents have not uploaded again yet: nothing is deleted");
    const after = await reconcileDestination(dest, fresh, want, options());
    assert.deepEqual([after.adopted, after.created, after.updated], [3, 0, 0]);
    assert.equal(dest.writes, writes, "adopted without a write");
    assert.equal((await fresh.destinationEntries("cal")).length, 3);
    await fresh.close();
  });
}

Deno.test("an admin's clean-up deletes strays, and only calsync's own items", async () => {
  const { store, dest } = await setup();
  await reconcileDestination(dest, store, desired("A@2", "B@3"), options());
  const [, b] = [...dest.items.keys()];
  dest.items.set(b, { ...dest.items.get(b)!, key: null, hash: null, etag: '"foreign"' });
  await store.close();
  // A store that lost its status table sees calsync's A as a stray.
  const fresh = await SqliteStore.open(":memory:");
  const kept = await reconcileDestination(dest, fresh, desired(), options());
  assert.equal(kept.strays, 1);
  assert.equal(dest.items.size, 2);
  const cleaned = await reconcileDestination(
    dest,
    fresh,
    desired(),
    options({ deleteStrays: true }),
  );
  assert.deepEqual([cleaned.deleted, cleaned.strays, cleaned.failed], [1, 0, 0]);
  assert.deepEqual([...dest.items.keys()], [b], "the foreign item stays");
  const again = await reconcileDestination(dest, fresh, desired(), options({ forceList: true }));
  assert.deepEqual([again.deleted, again.strays], [0, 0]);
  await fresh.close();
});

for (const flavour of FLAVOURS) {
  Deno.test(`${flavour.kind}: a crash between a create and its record, then the event removed: the item is deleted, no stray`, async () => {
    const { store, dest } = await setup(flavour);
    dest.quirks = { ignoresPreconditions: true };
    dest.crashAfter(flavour.kind === "ews" ? "createBatch" : "create", 1);
    await assert.rejects(
      reconcileDestination(dest, store, desired("A@2", "B@3"), options({ concurrency: 1 })),
      InjectedCrash,
    );
    assert.ok(dest.items.size >= 1, "the write landed before the crash");
    const intents = (await store.destinationEntries("cal")).filter((e) => e.hash === null);
    assert.ok(intents.length >= 1, "the intent was recorded before the write");
    const report = await reconcileDestination(dest, store, desired(), options());
    assert.equal(report.strays, 0);
    assert.equal(report.failed, 0);
    assert.equal(dest.items.size, 0, "what landed before the crash is gone");
    assert.deepEqual(await store.destinationEntries("cal"), []);
    await store.close();
  });
}

Deno.test("a server that lists nothing (SOGo's VCALENDAR-only query) costs no write", async () => {
  const { store, dest } = await setup();
  await reconcileDestination(dest, store, desired("A@2", "B@3", "C@4"), options());
  dest.quirks = { listsNothing: true, ignoresPreconditions: true };
  dest.putForeign("/cal/lunch.ics", "Lunch added by hand");
  const writes = dest.writes;
  const report = await reconcileDestination(dest, store, desired("A@2", "B@3", "C@4"), options());
  assert.equal(report.listed, true);
  assert.equal(dest.writes, writes, "every known item was looked up, none rewritten");
  assert.equal((await store.destinationEntries("cal")).length, 3, "nothing forgotten");

  dest.editByHand([...dest.items.keys()][0], "A edited by hand");
  const removal = await reconcileDestination(dest, store, desired("B@3", "C@4"), options());
  assert.deepEqual([removal.deleted, removal.created, removal.updated], [1, 0, 0]);
  assert.equal(dest.writes, writes + 1, "exactly one DELETE");
  assert.deepEqual(titles(dest), ["B", "C", "Lunch added by hand"]);
  await store.close();
});

Deno.test("a refused password ends the run before any further request", async () => {
  const { store, dest } = await setup();
  for (let i = 0; i < 10; i++) {
    dest.failNext("create", new DestinationError("unauthorized", "HTTP 401"));
  }
  await assert.rejects(
    reconcileDestination(
      dest,
      store,
      desired("A@2", "B@3", "C@4", "D@5", "E@6", "F@7", "G@8", "H@9"),
      options({ concurrency: 4 }),
    ),
    (e) => e instanceof DestinationError && e.kind === "unauthorized",
  );
  assert.ok(dest.calls.create <= 4, `only the writes in flight: ${dest.calls.create}`);
  await store.close();
});
