/**
 * The store contract: every `Store` implementation runs these same tests.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { SnapshotInput, StoredEvent } from "../../shared/protocol.ts";
import { prepareSnapshot } from "../../master/snapshots/prepare.ts";
import type { ActivityEntry } from "../../master/store/activity.ts";
import {
  type CredentialKind,
  type CredentialRecord,
  type EventPosition,
  type EventQuery,
  SnapshotRejected,
  type Store,
} from "../../master/store/types.ts";

const NOW = "2026-03-01T12:00:00Z";

function snapshot(input: Partial<SnapshotInput> & Pick<SnapshotInput, "events">) {
  return prepareSnapshot({
    window: { start: "2026-03-01T00:00:00Z", end: "2026-04-01T00:00:00Z" },
    generated_at: NOW,
    ...input,
  });
}

const MARCH = { start: "2026-03-01T00:00:00Z", end: "2026-04-01T00:00:00Z" };

/** A credential created at `NOW` that never expires, unless `extra` says otherwise. */
function credential(
  id: string,
  kind: CredentialKind,
  tokenHash: string,
  extra: Partial<CredentialRecord> = {},
): CredentialRecord {
  return {
    credential_id: id,
    kind,
    name: `Name of ${id}`,
    token_hash: tokenHash,
    created_at: NOW,
    expires_at: null,
    ...extra,
  };
}

/** `count` events in March, distinct by uid and sorted by start. */
function many(count: number) {
  return Array.from({ length: count }, (_, i) => {
    const start = Date.parse("2026-03-02T00:00:00Z") + i * 60_000;
    return {
      uid: `e${String(i).padStart(5, "0")}`,
      start: new Date(start).toISOString(),
      end: new Date(start + 30 * 60_000).toISOString(),
      title: `Event ${i}`,
    };
  });
}

function ev(uid: string, day: number, title = uid) {
  const d = String(day).padStart(2, "0");
  return { uid, start: `2026-03-${d}T09:00:00Z`, end: `2026-03-${d}T10:00:00Z`, title };
}

/** A session credential `id` (token hash `hash-<id>`), expiring at `expires_at`. */
export function sessionCredential(
  id: string,
  created_at: string,
  expires_at: string | null,
): CredentialRecord {
  return {
    credential_id: id,
    kind: "session",
    name: id,
    token_hash: `hash-${id}`,
    created_at,
    expires_at,
  };
}

/** Registers `agentId` (token hash `hash-<agentId>`) with one source `main`. */
export function registerAgent(store: Store, agentId: string): Promise<void> {
  return store.registerAgent(
    {
      agent_id: agentId,
      agent_name: agentId.toUpperCase(),
      environment: "office",
      version: "1.0",
      sources: [{ source_id: "main", name: "Main", type: "ics" }],
    },
    `hash-${agentId}`,
    NOW,
  );
}

/** Registers `agentId` with the sources `sourceIds`. */
function registerSources(store: Store, agentId: string, sourceIds: string[]): Promise<void> {
  return store.registerAgent(
    {
      agent_id: agentId,
      agent_name: agentId.toUpperCase(),
      environment: "office",
      version: "1.0",
      sources: sourceIds.map((source_id) => ({ source_id, name: source_id, type: "ics" })),
    },
    `hash-${agentId}`,
    NOW,
  );
}

/** Every page of a listing of `limit` events, from after `after` on. */
async function readPages(
  store: Store,
  query: EventQuery,
  limit: number,
  after: EventPosition | null = null,
): Promise<StoredEvent[][]> {
  const pages: StoredEvent[][] = [];
  do {
    const page = await store.listEventPage(query, { limit, after });
    pages.push(page.events);
    after = page.next;
  } while (after !== null);
  return pages;
}

function withAgent(store: Store): Promise<void> {
  return registerAgent(store, "pc1");
}

/** Agent pc1 with two sources, `main` and `team`. */
function withTwoSources(store: Store): Promise<void> {
  return store.registerAgent(
    {
      agent_id: "pc1",
      agent_name: "PC1",
      environment: "office",
      version: "1.0",
      sources: [
        { source_id: "main", name: "Main", type: "ics" },
        { source_id: "team", name: "Team", type: "ics" },
      ],
    },
    "hash-pc1",
    NOW,
  );
}

/** An activity entry `id` of `destination` that started `minutes` after `NOW`. */
function activity(id: string, destination: string, minutes: number): ActivityEntry {
  return {
    id,
    destination_id: destination,
    master_id: "master-a",
    started_at: new Date(Date.parse(NOW) + minutes * 60_000).toISOString(),
    took_ms: 120,
    trigger: "timer",
    outcome: "completed",
    created: 1,
    updated: 2,
    deleted: 3,
    failed: 0,
    pending: 0,
    error: null,
  };
}

/** Keeps everything in the activity tests that do not test pruning. */
const KEEP_ALL = { max_age_ms: 365 * 86_400_000, max_entries: 1000 };

/** Registers the contract tests for a store opened fresh by `open` for each test. */
export function storeContract(name: string, open: () => Promise<Store>): void {
  const test = (title: string, fn: (store: Store) => Promise<void>) =>
    Deno.test(`${name} store: ${title}`, async () => {
      const store = await open();
      try {
        await fn(store);
      } finally {
        await store.close();
      }
    });

  test("registers an agent with its sources and finds it by token hash", async (store) => {
    await withAgent(store);
    const agent = await store.getAgent("pc1");
    assert.equal(agent?.agent_name, "PC1");
    assert.deepEqual(agent?.sources.map((s) => [s.source_id, s.type, s.event_count]), [
      ["main", "ics", 0],
    ]);
    assert.equal(await store.findAgentIdByTokenHash("hash-pc1"), "pc1");
    assert.equal(await store.findAgentIdByTokenHash("other"), null);
  });

  test("re-registration updates metadata and keeps undeclared sources", async (store) => {
    await withAgent(store);
    await store.registerAgent(
      {
        agent_id: "pc1",
        agent_name: "Renamed",
        environment: "lab",
        version: "2.0",
        sources: [{ source_id: "team", name: "Team", type: "ics" }],
      },
      "hash-pc1",
      NOW,
    );
    const agent = await store.getAgent("pc1");
    assert.equal(agent?.agent_name, "Renamed");
    assert.deepEqual(agent?.sources.map((s) => s.source_id), ["main", "team"]);
  });

  test("reset clears the token hash", async (store) => {
    await withAgent(store);
    assert.equal(await store.resetAgentToken("pc1"), true);
    assert.equal(await store.findAgentIdByTokenHash("hash-pc1"), null);
    assert.equal((await store.getAgent("pc1"))?.token_hash, null);
    assert.equal(await store.resetAgentToken("nobody"), false);
  });

  test("applies a snapshot and counts added, updated, removed, unchanged", async (store) => {
    await withAgent(store);
    const { result: first } = await store.applySnapshot(
      "pc1",
      "main",
      snapshot({ events: [ev("a", 2), ev("b", 3), ev("c", 4)] }),
      NOW,
    );
    assert.deepEqual(first, { added: 3, updated: 0, removed: 0, unchanged: 0 });
    const { result: second } = await store.applySnapshot(
      "pc1",
      "main",
      snapshot({ events: [ev("a", 2), ev("b", 3, "B renamed"), ev("d", 5)] }),
      NOW,
    );
    assert.deepEqual(second, { added: 1, updated: 1, removed: 1, unchanged: 1 });
    const events = await store.listEvents({
      start: "2026-03-01T00:00:00Z",
      end: "2026-04-01T00:00:00Z",
    });
    assert.deepEqual(events.map((e) => [e.uid, e.title]), [
      ["a", "a"],
      ["b", "B renamed"],
      ["d", "d"],
    ]);
    assert.equal((await store.getAgent("pc1"))?.sources[0].event_count, 3);
  });

  test("records when each occurrence last changed, in listings and pages", async (store) => {
    await withAgent(store);
    const later = "2026-03-02T08:00:00Z";
    const apply = (events: ReturnType<typeof ev>[], generated_at: string) =>
      store.applySnapshot("pc1", "main", snapshot({ events, generated_at }), generated_at);
    await apply([ev("a", 2), ev("b", 3)], NOW);
    await apply([ev("a", 2), ev("b", 3, "B renamed"), ev("c", 4)], later);
    const changed = (events: StoredEvent[]) => events.map((e) => [e.uid, e.changed_at]);
    const expected = [["a", NOW], ["b", later], ["c", later]];
    assert.deepEqual(changed(await store.listEvents(MARCH)), expected);
    assert.deepEqual(changed((await readPages(store, MARCH, 2)).flat()), expected);
  });

  test("a snapshot staged in parts stays invisible until applied, then lands whole", async (store) => {
    await withTwoSources(store);
    await store.applySnapshot("pc1", "main", snapshot({ events: [ev("old", 1)] }), NOW);
    const { rows } = snapshot({ events: many(2500) });
    const staging = store.stageSnapshot("pc1", "main");
    for (let i = 0; i < rows.length; i += 700) await staging.add(rows.slice(i, i + 700));
    assert.deepEqual((await store.listEvents(MARCH)).map((e) => e.uid), ["old"]);
    const other = store.stageSnapshot("pc1", "team");
    await other.add(snapshot({ events: [ev("t", 2)] }).rows);

    const { result } = await staging.apply(snapshot({ events: [] }), NOW);
    await staging.discard();
    assert.deepEqual(result, { added: 2500, updated: 0, removed: 1, unchanged: 0 });
    const listed = await store.listEvents({ ...MARCH, source_id: "main" });
    assert.deepEqual(listed.map((e) => e.uid), many(2500).map((e) => e.uid));
    assert.equal((await store.getAgent("pc1"))?.sources[0].event_count, 2500);
    assert.deepEqual((await other.apply(snapshot({ events: [] }), NOW)).result, {
      added: 1,
      updated: 0,
      removed: 0,
      unchanged: 0,
    });
  });

  test("rows kept as held count as unchanged and stay as stored", async (store) => {
    await withAgent(store);
    const first = snapshot({ events: [ev("a", 2), ev("b", 3)] });
    await store.applySnapshot("pc1", "main", first, NOW);
    const later = "2026-03-02T08:00:00Z";
    const staging = store.stageSnapshot("pc1", "main");
    staging.keep(first.rows.filter((r) => r.key === JSON.stringify(["a", null])));
    await staging.add(snapshot({ events: [ev("b", 3, "B renamed")] }).rows);
    const { result } = await staging.apply(snapshot({ events: [], generated_at: later }), later);
    await staging.discard();
    assert.deepEqual(result, { added: 0, updated: 1, removed: 0, unchanged: 1 });
    assert.deepEqual((await store.listEvents(MARCH)).map((e) => [e.title, e.changed_at]), [
      ["a", NOW],
      ["B renamed", later],
    ]);
  });

  test("a discarded staging changes nothing; one whose source went is refused", async (store) => {
    await withTwoSources(store);
    const dropped = store.stageSnapshot("pc1", "main");
    await dropped.add(snapshot({ events: many(1500) }).rows);
    await dropped.discard();
    await dropped.discard();
    assert.deepEqual(await store.listEvents(MARCH), []);

    const orphan = store.stageSnapshot("pc1", "team");
    await orphan.add(snapshot({ events: many(1500) }).rows);
    assert.equal(await store.removeSource("pc1", "team"), true);
    await assert.rejects(
      orphan.apply(snapshot({ events: [] }), NOW),
      (err: unknown) => err instanceof SnapshotRejected && err.code === "unknown_source",
    );
    await orphan.discard();
    assert.deepEqual(await store.listEvents(MARCH), []);
    assert.equal((await store.totals()).events, 0);
  });

  test("keeps every occurrence of a series apart", async (store) => {
    await withAgent(store);
    const series = [2, 9, 16].map((day) => ({
      ...ev("weekly", day),
      recurrence_id: `2026-03-${String(day).padStart(2, "0")}T09:00:00Z`,
    }));
    const { result } = await store.applySnapshot("pc1", "main", snapshot({ events: series }), NOW);
    assert.equal(result.added, 3);
    assert.equal((await store.totals()).events, 3);
    const { result: again } = await store.applySnapshot(
      "pc1",
      "main",
      snapshot({ events: series }),
      NOW,
    );
    assert.deepEqual(again, { added: 0, updated: 0, removed: 0, unchanged: 3 });
  });

  test("keeps occurrences outside the snapshot window", async (store) => {
    await withAgent(store);
    await store.applySnapshot(
      "pc1",
      "main",
      snapshot({ events: [ev("early", 2), ev("late", 20)] }),
      NOW,
    );
    const narrow = snapshot({
      window: { start: "2026-03-10T00:00:00Z", end: "2026-04-01T00:00:00Z" },
      events: [],
    });
    assert.deepEqual((await store.applySnapshot("pc1", "main", narrow, NOW)).result, {
      added: 0,
      updated: 0,
      removed: 1,
      unchanged: 0,
    });
    const left = await store.listEvents({
      start: "2026-01-01T00:00:00Z",
      end: "2027-01-01T00:00:00Z",
    });
    assert.deepEqual(left.map((e) => e.uid), ["early"]);
  });

  test("an occurrence moved into the window from outside counts as updated", async (store) => {
    await withAgent(store);
    await store.applySnapshot("pc1", "main", snapshot({ events: [ev("m", 2)] }), NOW);
    const later = snapshot({
      window: { start: "2026-03-10T00:00:00Z", end: "2026-04-01T00:00:00Z" },
      events: [ev("m", 15)],
    });
    assert.deepEqual((await store.applySnapshot("pc1", "main", later, NOW)).result, {
      added: 0,
      updated: 1,
      removed: 0,
      unchanged: 0,
    });
    assert.equal((await store.totals()).events, 1);
  });

  test("rejects an unknown source and a stale snapshot without changing anything", async (store) => {
    await withAgent(store);
    await assert.rejects(
      store.applySnapshot("pc1", "nope", snapshot({ events: [ev("a", 2)] }), NOW),
      (err) => err instanceof SnapshotRejected && err.code === "unknown_source",
    );
    await store.applySnapshot(
      "pc1",
      "main",
      snapshot({ generated_at: "2026-03-01T12:00:00Z", events: [ev("a", 2)] }),
      NOW,
    );
    await assert.rejects(
      store.applySnapshot(
        "pc1",
        "main",
        snapshot({ generated_at: "2026-03-01T11:00:00Z", events: [] }),
        NOW,
      ),
      (err) => err instanceof SnapshotRejected && err.code === "stale_snapshot",
    );
    assert.equal((await store.totals()).events, 1);
  });

  test("heartbeat records last seen, interval and per-source errors", async (store) => {
    await withAgent(store);
    await store.recordHeartbeat(
      "pc1",
      {
        version: "1.1",
        sync_interval_minutes: 10,
        sources: [{ source_id: "main", last_error: "boom" }],
      },
      "2026-03-01T12:05:00Z",
    );
    const agent = await store.getAgent("pc1");
    assert.equal(agent?.last_seen, "2026-03-01T12:05:00Z");
    assert.equal(agent?.version, "1.1");
    assert.equal(agent?.sync_interval_minutes, 10);
    assert.equal(agent?.sources[0].last_error, "boom");
  });

  test("lists events overlapping a range, filtered and sorted by start", async (store) => {
    await withAgent(store);
    await registerAgent(store, "pc2");
    await store.applySnapshot("pc1", "main", snapshot({ events: [ev("x", 9), ev("y", 3)] }), NOW);
    await store.applySnapshot("pc2", "main", snapshot({ events: [ev("z", 5)] }), NOW);
    const range = { start: "2026-03-03T09:30:00Z", end: "2026-03-09T09:00:00Z" };
    assert.deepEqual((await store.listEvents(range)).map((e) => [e.agent_id, e.uid]), [
      ["pc1", "y"],
      ["pc2", "z"],
    ]);
    assert.deepEqual(
      (await store.listEvents({ ...range, agent_id: "pc2" })).map((e) => e.uid),
      ["z"],
    );
    assert.deepEqual(await store.totals(), { agents: 2, sources: 2, events: 3 });
  });

  test("pages a listing in its order, ties broken by agent, source and key", async (store) => {
    await registerSources(store, "pc2", ["main", "team"]);
    await registerSources(store, "pc1", ["team", "main"]);
    // Four sources, each with a tie at every start, and a day without events.
    for (const agent of ["pc2", "pc1"]) {
      for (const source of ["team", "main"]) {
        const events = [ev("b", 3), ev("a", 3), ev("c", 5), ev("d", 7)];
        await store.applySnapshot(agent, source, snapshot({ events }), NOW);
      }
    }
    const whole = await store.listEvents(MARCH);
    const place = (e: StoredEvent) =>
      `${e.start.slice(8, 10)} ${e.agent_id} ${e.source_id} ${e.uid}`;
    assert.deepEqual(whole.map(place).slice(0, 5), [
      "03 pc1 main a",
      "03 pc1 main b",
      "03 pc1 team a",
      "03 pc1 team b",
      "03 pc2 main a",
    ]);
    for (const limit of [1, 3, 4, 5, 16, 17]) {
      const pages = await readPages(store, MARCH, limit);
      assert.deepEqual(pages.flat(), whole, `limit ${limit}`);
      assert.ok(pages.slice(0, -1).every((p) => p.length === limit), `full pages, limit ${limit}`);
      assert.equal(pages.length, Math.max(1, Math.ceil(16 / limit)), `no empty last page`);
    }
    for (
      const filter of [{ agent_id: "pc2" }, { source_id: "team" }, {
        agent_id: "pc1",
        source_id: "main",
      }]
    ) {
      const query = { ...MARCH, ...filter };
      assert.deepEqual((await readPages(store, query, 3)).flat(), await store.listEvents(query));
    }
    assert.deepEqual(
      await store.listEventPage({ ...MARCH, agent_id: "nobody" }, { limit: 5, after: null }),
      {
        events: [],
        next: null,
      },
    );
  });

  test("pages of many events, dozens at one start, match the whole listing", async (store) => {
    await registerSources(store, "pc1", ["a", "b", "c"]);
    for (const [i, source] of ["a", "b", "c"].entries()) {
      // 55 events at one start, then one a day: more than any store reads at once.
      const events = [
        ...Array.from({ length: 50 }, (_, n) => ev(`same-${n}`, 2)),
        // Bytes order these unlike most locales' collation.
        ...["Zed", "ábc", "abc", "_x", "Ähm"].map((uid) => ev(uid, 2)),
        ...Array.from({ length: 25 }, (_, n) => ev(`day-${n}`, 3 + n + i)),
      ];
      await store.applySnapshot("pc1", source, snapshot({ events }), NOW);
    }
    const whole = await store.listEvents(MARCH);
    assert.equal(whole.length, 240);
    for (const limit of [1, 2, 7, 49, 50, 51, 239]) {
      assert.deepEqual((await readPages(store, MARCH, limit)).flat(), whole, `limit ${limit}`);
    }
  });

  test("a page overlapping the range includes long events that started before it", async (store) => {
    await withAgent(store);
    const events = [
      { uid: "month", start: "2026-03-01T00:00:00Z", end: "2026-03-25T00:00:00Z", title: "long" },
      ev("early", 2),
      ev("a", 9),
      ev("b", 10),
      ev("later", 20),
    ];
    await store.applySnapshot("pc1", "main", snapshot({ events }), NOW);
    const range = { start: "2026-03-08T00:00:00Z", end: "2026-03-15T00:00:00Z" };
    const pages = await readPages(store, range, 2);
    assert.deepEqual(pages.map((p) => p.map((e) => e.uid)), [["month", "a"], ["b"]]);
  });

  test("events added or removed between pages neither repeat nor hide those read", async (store) => {
    await registerSources(store, "pc1", ["main", "team"]);
    const main = [ev("a", 2), ev("b", 4), ev("c", 6), ev("d", 8)];
    await store.applySnapshot("pc1", "main", snapshot({ events: main }), NOW);
    const first = await store.listEventPage(MARCH, { limit: 2, after: null });
    assert.deepEqual(first.events.map((e) => e.uid), ["a", "b"]);
    // Before the position (day 3, and the same start as b in an earlier key), after it
    // (day 5), and in a source sorting after main at b's very start.
    const later = snapshot({
      events: [...main, ev("0", 4), ev("early", 3), ev("mid", 5)],
      generated_at: "2026-03-01T12:01:00Z",
    });
    await store.applySnapshot("pc1", "main", later, NOW);
    const team = [ev("b", 4), ev("x", 1)];
    await store.applySnapshot("pc1", "team", snapshot({ events: team }), NOW);
    const rest = await readPages(store, MARCH, 2, first.next);
    assert.deepEqual(rest.flat().map((e) => `${e.source_id}/${e.uid}`), [
      "team/b",
      "main/mid",
      "main/c",
      "main/d",
    ]);
    // The source of the position is gone: the listing goes on from the same place.
    await store.removeSource("pc1", "main");
    const after = await readPages(store, MARCH, 2, first.next);
    assert.deepEqual(after.flat().map((e) => `${e.source_id}/${e.uid}`), ["team/b"]);
  });

  test("stores source settings and says when a snapshot changed anything", async (store) => {
    await withAgent(store);
    const events = [ev("a", 2)];
    const first = await store.applySnapshot("pc1", "main", snapshot({ events }), NOW);
    assert.equal(first.changed, true);
    const same = await store.applySnapshot("pc1", "main", snapshot({ events }), NOW);
    assert.equal(same.changed, false);
    const relabelled = await store.applySnapshot(
      "pc1",
      "main",
      snapshot({ events, settings: { label: "PC 1", privacy: "busy" } }),
      NOW,
    );
    assert.deepEqual(relabelled, {
      result: { added: 0, updated: 0, removed: 0, unchanged: 1 },
      changed: true,
    });
    const [source] = (await store.getAgent("pc1"))!.sources;
    assert.equal(source.settings.label, "PC 1");
    assert.equal(source.settings.privacy, "busy");
    assert.equal(source.settings.skip_free, false);
  });

  test("keeps the warnings of the last applied snapshot per source", async (store) => {
    await withAgent(store);
    const none = { count: 0, by_reason: {}, samples: [] };
    assert.deepEqual((await store.getAgent("pc1"))!.sources[0].warnings, none);
    const warnings = {
      count: 3,
      by_reason: { "event-skipped": 1, "missing-uid": 2 },
      samples: [
        { reason: "missing-uid" as const, line: 4, message: "VEVENT at line 4 has no UID" },
        { reason: "missing-uid" as const, line: 9, message: "VEVENT at line 9 has no UID" },
        { reason: "event-skipped" as const, line: null, message: "<b>odd</b> & skipped" },
      ],
    };
    const events = [ev("a", 2)];
    const first = await store.applySnapshot("pc1", "main", snapshot({ events, warnings }), NOW);
    assert.equal(first.changed, true);
    assert.deepEqual((await store.getAgent("pc1"))!.sources[0].warnings, warnings);
    assert.deepEqual((await store.listAgents())[0].sources[0].warnings, warnings);
    // Warnings alone change no destination, but the newest reading's are kept.
    const again = await store.applySnapshot("pc1", "main", snapshot({ events }), NOW);
    assert.equal(again.changed, false);
    assert.deepEqual((await store.getAgent("pc1"))!.sources[0].warnings, none);
  });

  test("remembers destination items and state per destination", async (store) => {
    assert.equal(await store.destinationState("cal"), null);
    await store.saveDestinationEntry("cal", { key: "k1", href: "/a.ics", etag: '"1"', hash: "h1" });
    await store.saveDestinationEntry("cal", { key: "k2", href: "/b.ics", etag: null, hash: "h2" });
    await store.saveDestinationEntry("cal", { key: "k1", href: "/a.ics", etag: '"2"', hash: "h3" });
    await store.saveDestinationEntry("other", {
      key: "k1",
      href: "/x.ics",
      etag: '"9"',
      hash: "h9",
    });
    await store.deleteDestinationEntry("cal", "k2");
    // An intent: a create about to be sent, whose outcome is not known yet.
    await store.saveDestinationEntry("cal", { key: "k3", href: "/c.ics", etag: null, hash: null });
    assert.deepEqual(await store.destinationEntries("cal"), [
      { key: "k1", href: "/a.ics", etag: '"2"', hash: "h3" },
      { key: "k3", href: "/c.ics", etag: null, hash: null },
    ]);
    const state = {
      change_token: "ctag-1",
      last_reconcile_at: NOW,
      last_error: "boom",
      pending: 2,
      calendar_url: "https://mail.example.org/SOGo/dav/ann@example.org/Calendar/personal/",
      auth_refusal: {
        failures: [NOW],
        blocked_until: "2026-03-01T10:15:00Z",
        settings: "digest",
        message: "refused",
      },
    };
    await store.saveDestinationState("cal", state);
    assert.deepEqual(await store.destinationState("cal"), state);
    await store.saveDestinationState("cal", {
      ...state,
      last_error: null,
      pending: 0,
      auth_refusal: null,
    });
    const saved = await store.destinationState("cal");
    assert.equal(saved?.pending, 0);
    assert.equal(saved?.auth_refusal, null);
  });

  test("keeps credentials of each kind apart, oldest first", async (store) => {
    const feed = credential("f1", "feed", "th1");
    const read = credential("r1", "read", "th2", { created_at: "2026-02-01T00:00:00Z" });
    const older = credential("r0", "read", "th3", { created_at: "2026-01-01T00:00:00Z" });
    for (const c of [feed, read, older]) await store.createCredential(c);
    assert.deepEqual(await store.listCredentials("feed", NOW), [feed]);
    assert.deepEqual(await store.listCredentials("read", NOW), [older, read]);
    assert.deepEqual(await store.listCredentials("session", NOW), []);
    assert.deepEqual(await store.findCredential("feed", "th1", NOW), feed);
    assert.deepEqual(await store.findCredential("read", "th2", NOW), read);
    assert.equal(await store.findCredential("read", "th1", NOW), null, "a feed is no read token");
    assert.equal(await store.findCredential("feed", "nope", NOW), null);
    await assert.rejects(store.createCredential({ ...feed, token_hash: "th9" }), /exists/);
  });

  test("deletes a credential of its kind only", async (store) => {
    await store.createCredential(credential("c1", "feed", "th1"));
    assert.equal(await store.deleteCredential("read", "c1"), false);
    assert.equal(await store.deleteCredential("feed", "c1"), true);
    assert.equal(await store.deleteCredential("feed", "c1"), false);
    assert.equal(await store.findCredential("feed", "th1", NOW), null);
    assert.deepEqual(await store.listCredentials("feed", NOW), []);
  });

  test("an expired credential is neither found nor listed", async (store) => {
    const until = "2999-01-01T00:00:00Z";
    const session = credential("s1", "session", "th1", { expires_at: until });
    await store.createCredential(session);
    assert.deepEqual(await store.findCredential("session", "th1", NOW), session);
    assert.deepEqual(await store.listCredentials("session", NOW), [session]);
    assert.equal(await store.findCredential("session", "th1", until), null, "expired at its end");
    assert.deepEqual(await store.listCredentials("session", until), []);
    // Long expired by any clock: gone for good once the next credential is created.
    await store.createCredential(
      credential("s0", "session", "th0", { expires_at: "2000-01-01T00:00:00Z" }),
    );
    await store.createCredential(credential("s2", "session", "th2"));
    assert.equal(await store.findCredential("session", "th0", "1999-01-01T00:00:00Z"), null);
    assert.deepEqual(
      (await store.listCredentials("session", "1999-01-01T00:00:00Z")).map((c) => c.credential_id),
      ["s1", "s2"],
    );
  });

  test("removing a source deletes it and its occurrences, nothing else", async (store) => {
    await withTwoSources(store);
    await store.applySnapshot("pc1", "main", snapshot({ events: [ev("a", 2)] }), NOW);
    await store.applySnapshot("pc1", "team", snapshot({ events: [ev("b", 3), ev("c", 4)] }), NOW);
    assert.equal(await store.removeSource("pc1", "team"), true);
    assert.equal(await store.removeSource("pc1", "team"), false);
    assert.equal(await store.removeSource("ghost", "main"), false);
    assert.deepEqual((await store.getAgent("pc1"))?.sources.map((s) => s.source_id), ["main"]);
    assert.deepEqual((await store.listEvents(MARCH)).map((e) => e.uid), ["a"]);
    assert.deepEqual(await store.totals(), { agents: 1, sources: 1, events: 1 });
    assert.deepEqual(await store.knownHashes("pc1", "team"), new Set());
    await assert.rejects(
      store.applySnapshot("pc1", "team", snapshot({ events: [ev("b", 3)] }), NOW),
      (err) => err instanceof SnapshotRejected && err.code === "unknown_source",
    );
  });

  test("removing an agent deletes its token, sources and occurrences", async (store) => {
    await withAgent(store);
    await registerAgent(store, "pc2");
    await store.applySnapshot("pc1", "main", snapshot({ events: [ev("a", 2)] }), NOW);
    await store.applySnapshot("pc2", "main", snapshot({ events: [ev("b", 3)] }), NOW);
    assert.equal(await store.removeAgent("pc1"), true);
    assert.equal(await store.removeAgent("pc1"), false);
    assert.equal(await store.getAgent("pc1"), null);
    assert.equal(await store.findAgentIdByTokenHash("hash-pc1"), null);
    assert.deepEqual((await store.listAgents()).map((a) => a.agent_id), ["pc2"]);
    assert.deepEqual((await store.listEvents(MARCH)).map((e) => e.uid), ["b"]);
    assert.deepEqual(await store.totals(), { agents: 1, sources: 1, events: 1 });
    // The same id may enrol afresh, with nothing of the old agent.
    await withAgent(store);
    assert.equal((await store.getAgent("pc1"))?.sources[0].event_count, 0);
    assert.equal((await store.getAgent("pc1"))?.sources[0].last_generated_at, null);
  });

  test("a lease has one holder at a time; its fencing token grows when it changes hands", async (store) => {
    const first = await store.acquireLease("destination:cal", "master-a", 60_000);
    assert.equal(typeof first, "number");
    assert.equal(await store.acquireLease("destination:cal", "master-b", 60_000), null);
    assert.equal(await store.acquireLease("destination:cal", "master-a", 60_000), first, "renewed");
    assert.equal(
      typeof (await store.acquireLease("destination:other", "master-b", 60_000)),
      "number",
    );
    await store.releaseLease("destination:cal", "master-b");
    assert.equal(
      await store.acquireLease("destination:cal", "master-b", 60_000),
      null,
      "not b's to release",
    );
    await store.releaseLease("destination:cal", "master-a");
    const second = await store.acquireLease("destination:cal", "master-b", 60_000);
    assert.ok(second !== null && second > first!, "a new holder gets a greater token");
  });

  test("a lease whose holder stopped renewing it expires", async (store) => {
    const first = await store.acquireLease("destination:cal", "master-a", 50);
    await new Promise((r) => setTimeout(r, 120));
    const taken = await store.acquireLease("destination:cal", "master-b", 60_000);
    assert.ok(taken !== null && taken > first!);
    assert.equal(await store.acquireLease("destination:cal", "master-a", 60_000), null);
  });

  test("a lease says how long it lasts unless renewed, and nothing once free", async (store) => {
    assert.equal(await store.leaseRemainingMs("destination:cal"), null, "never taken");
    await store.acquireLease("destination:cal", "master-a", 60_000);
    const remaining = await store.leaseRemainingMs("destination:cal");
    assert.ok(remaining !== null && remaining > 50_000 && remaining <= 60_000, `${remaining}`);
    await store.releaseLease("destination:cal", "master-a");
    assert.equal(await store.leaseRemainingMs("destination:cal"), null, "released");
    await store.acquireLease("destination:cal", "master-a", 50);
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(await store.leaseRemainingMs("destination:cal"), null, "expired");
  });

  test("pruning deletes occurrences that ended before the cutoff, in batches, of every source", async (store) => {
    await withTwoSources(store);
    await registerAgent(store, "pc2");
    await store.applySnapshot(
      "pc1",
      "main",
      snapshot({ events: [ev("a", 2), ev("b", 3), ev("c", 12)] }),
      NOW,
    );
    await store.applySnapshot("pc1", "team", snapshot({ events: [ev("d", 4), ev("e", 20)] }), NOW);
    await store.applySnapshot("pc2", "main", snapshot({ events: [ev("a", 2), ev("f", 9)] }), NOW);
    const cutoff = "2026-03-09T10:00:00Z";
    // f ends exactly at the cutoff: it did not end before it.
    const rounds = [];
    for (let n = -1; n !== 0;) {
      n = await store.pruneOccurrencesEndedBefore(cutoff, 2);
      rounds.push(n);
    }
    assert.deepEqual(rounds, [2, 2, 0]);
    const left = await store.listEvents({
      start: "2026-01-01T00:00:00Z",
      end: "2027-01-01T00:00:00Z",
    });
    assert.deepEqual(left.map((e) => `${e.agent_id}/${e.source_id}/${e.uid}`), [
      "pc2/main/f",
      "pc1/main/c",
      "pc1/team/e",
    ]);
    const counts = (await store.listAgents()).flatMap((a) =>
      a.sources.map((s) => `${a.agent_id}/${s.source_id}:${s.event_count}`)
    );
    assert.deepEqual(counts, ["pc1/main:1", "pc1/team:1", "pc2/main:1"]);
    const page = await store.listEventPage({
      start: "2026-01-01T00:00:00Z",
      end: "2027-01-01T00:00:00Z",
    }, { limit: 10, after: null });
    assert.deepEqual(page.events.map((e) => e.uid).sort(), ["c", "e", "f"], "pages skip them too");
    assert.equal((await store.totals()).events, 3);
    assert.equal((await store.size()).occurrences, 3);
  });

  test("pruning keeps what started before the cutoff but still runs, batch after batch", async (store) => {
    await withAgent(store);
    // Two long events began before the cutoff and end after it; the others ended before.
    const long = (uid: string, startDay: number) => ({
      uid,
      start: `2026-03-0${startDay}T08:00:00Z`,
      end: "2026-03-20T08:00:00Z",
      title: uid,
    });
    await store.applySnapshot(
      "pc1",
      "main",
      snapshot({
        events: [long("long1", 1), ev("a", 2), long("long2", 3), ev("b", 4), ev("c", 5)],
      }),
      NOW,
    );
    const rounds = [];
    for (let n = -1; n !== 0;) {
      n = await store.pruneOccurrencesEndedBefore("2026-03-09T00:00:00Z", 1);
      rounds.push(n);
    }
    assert.deepEqual(rounds, [1, 1, 1, 0]);
    const left = await store.listEvents({
      start: "2026-01-01T00:00:00Z",
      end: "2027-01-01T00:00:00Z",
    });
    assert.deepEqual(left.map((e) => e.uid), ["long1", "long2"]);
  });

  test("pruning leaves every destination entry, giving an end to those of pruned keys", async (store) => {
    await withAgent(store);
    const old = ev("old", 2);
    const kept = ev("kept", 20);
    await store.applySnapshot("pc1", "main", snapshot({ events: [old, kept] }), NOW);
    const [oldRow, keptRow] = [old, kept].map((e) => snapshot({ events: [e] }).rows[0]);
    const known = { href: "/a.ics", etag: "e1", hash: "h1" };
    await store.saveDestinationEntry("cal", { key: oldRow.key, ...known });
    await store.saveDestinationEntry("other", { key: oldRow.key, ...known, end_ms: 5 });
    await store.saveDestinationEntry("cal", { key: keptRow.key, ...known });
    assert.equal(await store.pruneOccurrencesEndedBefore("2026-03-10T00:00:00Z", 500), 1);
    assert.deepEqual(
      await store.destinationEntries("cal"),
      [
        { key: keptRow.key, ...known },
        { key: oldRow.key, ...known, end_ms: oldRow.end_ms },
      ].sort((x, y) => (x.key < y.key ? -1 : 1)),
    );
    assert.deepEqual(await store.destinationEntries("other"), [
      { key: oldRow.key, ...known, end_ms: 5 },
    ]);
    // The source goes on taking snapshots, and one covering the pruned time adds it again.
    const again = await store.applySnapshot(
      "pc1",
      "main",
      snapshot({ generated_at: "2026-03-01T12:05:00Z", events: [old, kept] }),
      NOW,
    );
    assert.deepEqual(again.result, { added: 1, updated: 0, removed: 0, unchanged: 1 });
  });

  test("size counts the occurrences and the bytes the store takes", async (store) => {
    const empty = await store.size();
    assert.equal(empty.occurrences, 0);
    assert.ok(["sqlite_file", "redis_used_memory"].includes(empty.measure), empty.measure);
    assert.ok(empty.bytes > 0, `${empty.bytes}`);
    await withAgent(store);
    const events = Array.from(
      { length: 200 },
      (_, i) => ev(`u${i}`, 1 + (i % 28), "x".repeat(500)),
    );
    await store.applySnapshot("pc1", "main", snapshot({ events }), NOW);
    const full = await store.size();
    assert.equal(full.occurrences, 200);
    assert.ok(full.bytes > empty.bytes, `${full.bytes} > ${empty.bytes}`);
  });

  test("the activity log lists entries newest first, by destination, since, up to a limit", async (store) => {
    assert.deepEqual(await store.listActivity({ limit: 10 }), [], "empty at first");
    const failed = {
      ...activity("w2", "wall", 20),
      trigger: null,
      outcome: "failed" as const,
      failed: 4,
      pending: 4,
      error: "destination unreachable: connection refused",
    };
    for (
      const e of [activity("w1", "wall", 10), failed, activity("o1", "office", 15)]
    ) await store.recordActivity(e, KEEP_ALL);
    // Two entries of one instant come in the order of their ids, descending.
    await store.recordActivity(activity("o0", "office", 15), KEEP_ALL);
    await store.recordActivity(activity("o1", "office", 15), KEEP_ALL); // recorded once
    const ids = async (query: Parameters<Store["listActivity"]>[0]) =>
      (await store.listActivity(query)).map((e) => e.id);
    assert.deepEqual(await ids({ limit: 10 }), ["w2", "o1", "o0", "w1"]);
    assert.deepEqual(await ids({ limit: 2 }), ["w2", "o1"]);
    assert.deepEqual(await ids({ destination_id: "wall", limit: 10 }), ["w2", "w1"]);
    assert.deepEqual(await ids({ destination_id: "nowhere", limit: 10 }), []);
    const since = activity("", "", 15).started_at;
    assert.deepEqual(await ids({ since, limit: 10 }), ["w2", "o1", "o0"], "since is inclusive");
    assert.deepEqual(await ids({ destination_id: "office", since, limit: 1 }), ["o1"]);
    assert.deepEqual(
      (await store.listActivity({ destination_id: "wall", limit: 1 }))[0],
      failed,
      "an entry reads back as it was recorded",
    );
  });

  test("the activity log drops entries past the retention's age, and beyond its count per destination", async (store) => {
    const retention = { max_age_ms: 60 * 60_000, max_entries: 3 };
    for (let i = 0; i < 5; i++) await store.recordActivity(activity(`w${i}`, "wall", i), retention);
    await store.recordActivity(activity("o0", "office", 5), retention);
    const ids = async (destination_id?: string) =>
      (await store.listActivity({ destination_id, limit: 100 })).map((e) => e.id);
    assert.deepEqual(await ids("wall"), ["w4", "w3", "w2"], "the newest three of wall");
    assert.deepEqual(await ids("office"), ["o0"], "another destination's count is its own");
    // An hour and 3 minutes later, wall's entries of minutes 0-2 are too old; the count
    // keeps up with what ages out, so wall keeps three again once it has them.
    await store.recordActivity(activity("w63", "wall", 63), retention);
    assert.deepEqual(await ids("wall"), ["w63", "w4", "w3"]);
    await store.recordActivity(activity("o70", "office", 70), retention);
    assert.deepEqual(await ids(), ["o70", "w63"], "age applies to every destination");
    for (const [i, minute] of [71, 72, 73].entries()) {
      await store.recordActivity(activity(`w-${i}`, "wall", minute), retention);
    }
    assert.deepEqual(await ids("wall"), ["w-2", "w-1", "w-0"]);
  });
}
