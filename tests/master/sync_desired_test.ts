import assert from "node:assert/strict";
import { Occurrence } from "../../shared/model.ts";
import {
  SourceSettings,
  type SourceSettingsInput,
  type StoredEvent,
} from "../../shared/protocol.ts";
import { desiredItems, destinationUid } from "../../master/sync/desired.ts";

function stored(agent_id: string, source_id: string, input: Record<string, unknown>): StoredEvent {
  return {
    ...Occurrence.parse({
      uid: "m1",
      start: "2026-03-02T09:00:00Z",
      end: "2026-03-02T10:00:00Z",
      title: "Budget review",
      location: "Room 4",
      description: "Numbers",
      categories: ["Finance"],
      organizer: { name: "Ann", email: "ann@example.com" },
      attendees: [{ name: "Bob", email: "bob@example.com" }],
      ...input,
    }),
    agent_id,
    source_id,
  };
}

function settings(map: Record<string, SourceSettingsInput>) {
  return (agent: string, source: string) => {
    const s = map[`${agent}/${source}`];
    return s === undefined ? undefined : SourceSettings.parse(s);
  };
}

Deno.test("the same meeting from two sources becomes one item", () => {
  const items = desiredItems(
    [
      stored("pc1", "outlook", {}),
      stored("vpn", "ews", {
        title: "Budget review (updated)",
        last_modified: "2026-03-01T10:00:00Z",
      }),
    ],
    settings({ "pc1/outlook": {}, "vpn/ews": {} }),
  );
  assert.equal(items.size, 1);
  const [item] = items.values();
  assert.equal(item.event.title, "Budget review (updated)", "the freshest copy wins");
  assert.equal(item.uid, destinationUid(item.key));
  assert.match(item.uid, /^calsync-[0-9a-f]{40}$/);
});

Deno.test("occurrences of one series stay separate items", () => {
  const items = desiredItems(
    [
      stored("pc1", "a", { recurrence_id: "2026-03-02T09:00:00Z" }),
      stored("pc1", "a", {
        recurrence_id: "2026-03-09T09:00:00Z",
        start: "2026-03-09T09:00:00Z",
        end: "2026-03-09T10:00:00Z",
      }),
    ],
    settings({ "pc1/a": {} }),
  );
  assert.equal(items.size, 2);
  assert.equal(new Set([...items.values()].map((i) => i.uid)).size, 2);
});

Deno.test("privacy modes keep exactly the promised fields", () => {
  const item = (privacy: "full" | "title" | "busy") =>
    [...desiredItems([stored("pc1", "a", {})], settings({ "pc1/a": { privacy } })).values()][0]
      .event;
  const full = item("full");
  assert.equal(full.title, "Budget review");
  assert.equal(full.location, "Room 4");
  assert.equal(full.attendees.length, 1);
  const title = item("title");
  assert.deepEqual(
    [
      title.title,
      title.location,
      title.description,
      title.attendees,
      title.organizer,
      title.categories,
    ],
    ["Budget review", "", "", [], null, []],
  );
  assert.equal(title.start, "2026-03-02T09:00:00Z");
  const busy = item("busy");
  assert.deepEqual(
    [busy.title, busy.location, busy.description, busy.attendees, busy.organizer],
    ["Busy", "", "", [], null],
  );
  assert.equal(busy.end, "2026-03-02T10:00:00Z");
});

Deno.test("the most restrictive privacy of the contributing sources applies", () => {
  const [item] = desiredItems(
    [stored("pc1", "a", {}), stored("pc2", "b", {})],
    settings({ "pc1/a": { privacy: "full" }, "pc2/b": { privacy: "busy" } }),
  ).values();
  assert.equal(item.event.title, "Busy");
  assert.equal(item.event.location, "");
});

Deno.test("labels prefix titles and categories are added", () => {
  const [item] = desiredItems(
    [stored("pc1", "a", {})],
    settings({ "pc1/a": { label: "Office PC 1", category: "calsync" } }),
  ).values();
  assert.equal(item.event.title, "[Office PC 1] Budget review");
  assert.deepEqual(item.event.categories, ["Finance", "calsync"]);
  const [busy] = desiredItems(
    [stored("pc1", "a", {})],
    settings({ "pc1/a": { label: "PC", privacy: "busy", category: "calsync" } }),
  ).values();
  assert.equal(busy.event.title, "[PC] Busy");
  assert.deepEqual(busy.event.categories, ["calsync"]);
});

Deno.test("filters leave events out; cancelled occurrences never reach destinations", () => {
  const events = [
    stored("pc1", "a", { uid: "free", show_as: "free" }),
    stored("pc1", "a", { uid: "private", sensitivity: "private" }),
    stored("pc1", "a", { uid: "declined", response_status: "declined" }),
    stored("pc1", "a", { uid: "cancelled", status: "cancelled" }),
    stored("pc1", "a", { uid: "personal", categories: ["Personal"] }),
    stored("pc1", "a", { uid: "work", categories: ["work"] }),
  ];
  const uids = (s: SourceSettingsInput) =>
    [...desiredItems(events, settings({ "pc1/a": s })).values()].map((i) => i.event.uid).sort();
  assert.deepEqual(uids({}), ["declined", "free", "personal", "private", "work"]);
  assert.deepEqual(
    uids({ skip_free: true, skip_private: true, skip_declined: true }),
    ["personal", "work"],
  );
  assert.deepEqual(uids({ categories_include: ["Work"] }), ["work"]);
  assert.deepEqual(uids({ categories_exclude: ["personal"] }), [
    "declined",
    "free",
    "private",
    "work",
  ]);
});

Deno.test("a destination's source filter and unknown sources", () => {
  const events = [
    stored("pc1", "a", { uid: "x" }),
    stored("pc2", "b", { uid: "y" }),
    stored("ghost", "c", { uid: "z" }),
  ];
  const items = desiredItems(
    events,
    settings({ "pc1/a": {}, "pc2/b": {} }),
    (agent) => agent === "pc2",
  );
  assert.deepEqual([...items.values()].map((i) => i.event.uid), ["y"]);
});

Deno.test("the content hash changes with what is written and only then", () => {
  const s = settings({ "pc1/a": {} });
  const [a] = desiredItems([stored("pc1", "a", {})], s).values();
  const [same] = desiredItems([stored("pc1", "a", {})], s).values();
  const [moved] = desiredItems([stored("pc1", "a", { location: "Room 5" })], s).values();
  assert.equal(a.hash, same.hash);
  assert.notEqual(a.hash, moved.hash);
  assert.equal(a.key, moved.key);
});
