/**
 * The destination contract: every `Destination` implementation runs these same tests,
 * each on a fresh, empty destination.
 *
 * @module
 */
import assert from "node:assert/strict";
import { contentHash } from "../../shared/hash.ts";
import { destinationUid } from "../../master/sync/desired.ts";
import { Occurrence, type OccurrenceInput, occurrenceKey } from "../../shared/model.ts";
import {
  type Destination,
  DestinationError,
  type DestinationErrorKind,
  type DestinationItem,
  type RemoteItem,
} from "../../master/destinations/types.ts";

/** A fresh destination for one test, and how to reach around it. */
export interface DestinationFixture {
  destination: Destination;
  /**
   * Stores iCalendar text as another program would (no calsync marker) and returns the
   * href under which `list()` shows it.
   */
  putForeign(ics: string): Promise<string>;
  /** Removes whatever the test left behind. */
  cleanup(): Promise<void>;
  /**
   * False for a server that ignores `If-None-Match: *` and `If-Match` (SOGo): its writes
   * land whatever the precondition, which the reconciler must not rely on anyway.
   */
  enforcesPreconditions?: boolean;
}

/** Opens a fresh, empty destination. */
export type OpenDestination = () => Promise<DestinationFixture>;

/** A destination item for `input`, with key, UID and hash derived as calsync does. */
export function destinationItem(input: OccurrenceInput): DestinationItem {
  const event = Occurrence.parse(input);
  const key = occurrenceKey(event);
  return { key, uid: destinationUid(key), hash: contentHash(event), event };
}

/**
 * An item for an hour on March `day` of 2026 (uid `uid-{day}@example.com`), with `more`
 * fields of the occurrence.
 */
export function dayItem(
  day: number,
  title = `Event ${day}`,
  more: Record<string, unknown> = {},
): DestinationItem {
  const d = String(day).padStart(2, "0");
  return destinationItem({
    uid: `uid-${day}@example.com`,
    start: `2026-03-${d}T09:00:00Z`,
    end: `2026-03-${d}T10:00:00Z`,
    timezone: "Europe/Berlin",
    title,
    ...more,
  });
}

function timed(uid: string, title = uid): DestinationItem {
  return destinationItem({
    uid,
    recurrence_id: "2026-03-30T07:00:00Z",
    start: "2026-03-30T07:00:00Z",
    end: "2026-03-30T07:30:00Z",
    timezone: "Europe/Berlin",
    title,
  });
}

/** A foreign event as another calendar client would write it. */
export function foreignIcs(uid: string): string {
  return [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//Someone else//EN",
    "BEGIN:VEVENT",
    `UID:${uid}`,
    "DTSTAMP:20260301T000000Z",
    "DTSTART:20260331T090000Z",
    "DTEND:20260331T100000Z",
    "SUMMARY:Not ours",
    "END:VEVENT",
    "END:VCALENDAR",
    "",
  ].join("\r\n");
}

/**
 * Asserts that `promise` fails with a `DestinationError` of `kind` (whose message matches
 * `message`, when given) and answers that error.
 */
export async function rejectsAs(
  kind: DestinationErrorKind,
  promise: Promise<unknown>,
  message?: RegExp,
): Promise<DestinationError> {
  let caught: DestinationError | null = null;
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof DestinationError, String(error));
    assert.equal(error.kind, kind, error.message);
    if (message) assert.match(error.message, message);
    caught = error;
    return true;
  });
  return caught!;
}

/** What the destination's marker holds, and so `list()` answers, for `key`. */
function marker(destination: Destination, key: string): string {
  return destination.markerOf?.(key) ?? key;
}

/** What `list()` holds for `href`, or undefined. */
async function listed(destination: Destination, href: string): Promise<RemoteItem | undefined> {
  return (await destination.list()).find((item) => item.href === href);
}

type Case = [title: string, run: (fixture: DestinationFixture) => Promise<void>];

const CASES: Case[] = [
  ["create, then list and get show the owned item with key, hash and etag", async (f) => {
    const d = f.destination;
    const item = timed("standup@example.com");
    const { href, etag } = await d.create(item);
    if (d.hrefFor) assert.equal(href, d.hrefFor(item));
    const all = await d.list();
    assert.equal(all.length, 1);
    assert.deepEqual(all[0], {
      href,
      etag: all[0].etag,
      key: marker(d, item.key),
      hash: item.hash,
    });
    assert.ok(all[0].etag !== null, "the listed item has an etag");
    if (etag !== null) assert.equal(all[0].etag, etag);
    assert.deepEqual(await d.get(href), all[0]);
  }],

  ["create at an occupied href fails with precondition_failed and writes nothing", async (f) => {
    const d = f.destination;
    if (!d.hrefFor) return;
    const item = timed("standup@example.com");
    await d.create(item);
    const before = await d.list();
    if (f.enforcesPreconditions === false) return;
    await rejectsAs("precondition_failed", d.create(timed("standup@example.com", "Changed")));
    assert.deepEqual(await d.list(), before);
  }],

  ["update needs the current etag; a stale one fails with precondition_failed", async (f) => {
    const d = f.destination;
    const first = timed("standup@example.com", "First");
    const { href } = await d.create(first);
    const etag1 = (await d.get(href))!.etag;
    const second = timed("standup@example.com", "Second");
    const { etag: etag2 } = await d.update(href, etag1, second);
    const after = (await listed(d, href))!;
    assert.equal(after.hash, second.hash);
    assert.equal(after.key, marker(d, second.key));
    assert.notEqual(after.etag, etag1);
    if (etag2 !== null) assert.equal(after.etag, etag2);
    if (f.enforcesPreconditions === false) return;
    await rejectsAs("precondition_failed", d.update(href, etag1, timed("standup@example.com")));
    assert.equal((await listed(d, href))!.hash, second.hash);
  }],

  ["update and remove without an etag act on the current item", async (f) => {
    const d = f.destination;
    const { href } = await d.create(timed("standup@example.com", "First"));
    const second = timed("standup@example.com", "Second");
    await d.update(href, null, second);
    assert.equal((await listed(d, href))!.hash, second.hash);
    await d.remove(href, null);
    assert.equal(await d.get(href), null);
    await d.remove(href, null);
  }],

  ["remove needs the current etag; a missing item is removed already", async (f) => {
    const d = f.destination;
    const { href } = await d.create(timed("standup@example.com"));
    const { etag } = (await d.get(href))!;
    await d.update(href, etag, timed("standup@example.com", "Changed"));
    if (f.enforcesPreconditions !== false) {
      await rejectsAs("precondition_failed", d.remove(href, etag));
      assert.ok(await d.get(href), "a failed remove leaves the item");
    }
    await d.remove(href, (await d.get(href))!.etag);
    assert.equal(await d.get(href), null);
    assert.deepEqual(await d.list(), []);
    await d.remove(href, etag);
  }],

  [
    "update and remove without an etag refuse a foreign item, whatever the server enforces",
    async (f) => {
      const d = f.destination;
      const href = await f.putForeign(foreignIcs("foreign-2@example.com"));
      await rejectsAs("rejected", d.update(href, null, timed("foreign-2@example.com")));
      await rejectsAs("rejected", d.remove(href, null));
      const after = await d.get(href);
      assert.ok(after, "the foreign item is still there");
      assert.equal(after.key, null);
    },
  ],

  [
    "a listing after writes shows exactly what is there, also after a change by someone else",
    async (f) => {
      const d = f.destination;
      const a = await d.create(timed("a@example.com"));
      const b = await d.create(timed("b@example.com"));
      assert.equal((await d.list()).length, 2);
      await d.remove(a.href, (await d.get(a.href))!.etag);
      const foreign = await f.putForeign(foreignIcs("foreign-3@example.com"));
      const c = await d.create(timed("c@example.com"));
      const hrefs = (await d.list()).map((r) => r.href).sort();
      assert.deepEqual(hrefs, [b.href, foreign, c.href].sort());
      if (d.getMany) {
        const many = await d.getMany([a.href, b.href]);
        assert.deepEqual(many.map((r) => r.href), [b.href], "the removed one is left out");
      }
    },
  ],

  ["a foreign item is listed with key and hash null", async (f) => {
    const d = f.destination;
    const href = await f.putForeign(foreignIcs("foreign-1@example.com"));
    const { href: ours } = await d.create(timed("standup@example.com"));
    const all = await d.list();
    assert.equal(all.length, 2);
    const foreign = all.find((item) => item.href === href);
    assert.deepEqual({ ...foreign, etag: null }, { href, etag: null, key: null, hash: null });
    assert.equal((await d.get(href))?.key, null);
    assert.ok(all.some((item) => item.href === ours && item.key !== null));
  }],

  ["the change token, where there is one, is stable until a write changes it", async (f) => {
    const d = f.destination;
    const empty = await d.changeToken();
    // Without one (EWS) the reconciler lists every time; nothing more to check.
    if (empty === null) return;
    assert.equal(await d.changeToken(), empty);
    const item = timed("standup@example.com");
    const { href } = await d.create(item);
    const created = await d.changeToken();
    assert.notEqual(created, empty);
    await d.list();
    await d.get(href);
    assert.equal(await d.changeToken(), created);
    await d.update(href, (await d.get(href))!.etag, timed("standup@example.com", "Changed"));
    const updated = await d.changeToken();
    assert.notEqual(updated, created);
    await d.remove(href, (await d.get(href))!.etag);
    assert.notEqual(await d.changeToken(), updated);
  }],

  ["hrefFor, where the destination names items itself, depends on the key only", (f) => {
    const d = f.destination;
    if (!d.hrefFor) return Promise.resolve();
    const a = timed("standup@example.com", "One");
    const b = timed("standup@example.com", "Two");
    const c = timed("other@example.com");
    assert.equal(d.hrefFor(a), d.hrefFor(a));
    assert.equal(d.hrefFor(a), d.hrefFor(b));
    assert.notEqual(d.hrefFor(a), d.hrefFor(c));
    return Promise.resolve();
  }],

  ["all-day, non-ASCII and escaped content keep their key and hash", async (f) => {
    const d = f.destination;
    const items = [
      destinationItem({
        uid: 'Ferien 🏖 Zürich; Köln, \\ "quoted"',
        recurrence_id: "2026-04-01",
        all_day: true,
        start: "2026-04-01",
        end: "2026-04-03",
        title: "Betriebsferien — 会議室 🏖",
        description: "Zeile 1\nZeile 2; mit, Zeichen\\",
        categories: ["Ferien, lang", "Ünïcødé"],
      }),
      timed("会議@example.jp", "定例会議 ".repeat(20)),
    ];
    const hrefs: string[] = [];
    for (const item of items) hrefs.push((await d.create(item)).href);
    const all = await d.list();
    items.forEach((item, i) => {
      const found = all.find((remote) => remote.href === hrefs[i]);
      assert.deepEqual([found?.key, found?.hash], [marker(d, item.key), item.hash]);
    });
  }],
];

/** Runs every contract case as a step of `t`, each on a destination fresh from `open`. */
export async function runDestinationContract(
  t: Deno.TestContext,
  open: OpenDestination,
): Promise<void> {
  for (const [title, run] of CASES) {
    await t.step(title, async () => {
      const fixture = await open();
      try {
        await run(fixture);
      } finally {
        await fixture.cleanup();
      }
    });
  }
}

/**
 * Registers the contract as one test named after `name`; use
 * {@linkcode runDestinationContract} to run it inside a test that owns a server.
 */
export function destinationContract(name: string, open: OpenDestination): void {
  Deno.test(`${name} destination contract`, (t) => runDestinationContract(t, open));
}
