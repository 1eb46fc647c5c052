/**
 * Large snapshots are parsed as they arrive and staged in parts: these tests send bodies
 * over the streaming threshold (lowered to 1 MiB here) through the API and check what the
 * store holds afterwards, and that a refused body leaves the source as it was and nothing
 * staged behind.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { SqliteStore } from "../../master/store/sqlite.ts";
import { Occurrence } from "../../shared/model.ts";
import { StoredEvent } from "../../shared/protocol.ts";
import { ADMIN_TOKEN, enrol, type TestMaster, testMaster } from "../helpers/master_app.ts";

const WINDOW = { start: "2026-03-01T00:00:00Z", end: "2026-04-01T00:00:00Z" };
const PATH = "/api/agents/pc1/sources/main/snapshot";

/** `count` distinct events of about 750 bytes of JSON each: 2,000 make 1.5 MB. */
function events(count: number): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, i) => {
    const start = Date.parse("2026-03-02T00:00:00Z") + i * 600_000;
    return {
      uid: `big-${i}@example.com`,
      start: new Date(start).toISOString().slice(0, 19) + "Z",
      end: new Date(start + 1_800_000).toISOString().slice(0, 19) + "Z",
      title: `Review ${i} – Zoë`,
      description: "Agenda: figures, risks, next steps. ".repeat(18),
    };
  });
}

/** A test master over a SQLite connection the test can look into. */
async function master(): Promise<{ master: TestMaster; db: DatabaseSync; token: string }> {
  const db = new DatabaseSync(":memory:");
  const master = await testMaster({
    store: SqliteStore.wrap(db),
    maxBodyBytes: 20 << 20,
  });
  return { master, db, token: await enrol(master, "pc1") };
}

function staged(db: DatabaseSync): number {
  return (db.prepare("SELECT COUNT(*) AS n FROM snapshot_staging").get() as { n: number }).n;
}

async function put(
  m: TestMaster,
  token: string,
  body: string | Uint8Array,
  gzip = false,
): Promise<Response> {
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  let sent: BodyInit = bytes as Uint8Array<ArrayBuffer>;
  if (gzip) {
    headers["content-encoding"] = "gzip";
    sent = await new Response(
      new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
        new CompressionStream("gzip"),
      ),
    ).arrayBuffer();
  }
  return await m.app.request(PATH, { method: "PUT", headers, body: sent });
}

function body(list: unknown[], generated_at: string, extra: Record<string, unknown> = {}) {
  return JSON.stringify({ window: WINDOW, generated_at, events: list, ...extra });
}

async function stored(m: TestMaster): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  let cursor: string | null = null;
  do {
    const query = `start=${WINDOW.start}&end=${WINDOW.end}&limit=10000` +
      (cursor ? `&cursor=${cursor}` : "");
    const res = await m.call("GET", `/api/events?${query}`, { token: ADMIN_TOKEN });
    const page = await res.json();
    events.push(...page.events);
    cursor = page.next_cursor;
  } while (cursor !== null);
  return events;
}

async function refused(res: Response): Promise<{ code: string; field?: string; message: string }> {
  assert.equal(res.status, 400, await res.clone().text());
  return (await res.json()).error;
}

Deno.test("a streamed snapshot lands whole, plain or gzip, as a small one would", async () => {
  const { master: m, db, token } = await master();
  await using _ = m;
  const sent = events(2000);
  const text = body(sent, "2026-03-01T10:00:00Z");
  assert.ok(text.length > 1.4e6, `${text.length} bytes`);
  const first = await put(m, token, text);
  assert.deepEqual(await first.json(), { added: 2000, updated: 0, removed: 0, unchanged: 0 });
  const held = await stored(m);
  assert.deepEqual(
    held.map(({ agent_id: _a, source_id: _s, changed_at: _c, ...e }) => e),
    sent.map((e) => Occurrence.parse(e)),
  );
  assert.equal(staged(db), 0);

  sent[1234] = { ...sent[1234], title: "Moved" };
  const again = await put(m, token, body(sent, "2026-03-01T11:00:00Z"), true);
  assert.deepEqual(await again.json(), { added: 0, updated: 1, removed: 0, unchanged: 1999 });
  assert.equal((await stored(m))[1234].title, "Moved");
  assert.equal(staged(db), 0);
});

Deno.test("a bad event deep in a large body is a 400 naming it, and the source stays as it was", async () => {
  const { master: m, db, token } = await master();
  await using _ = m;
  const sent = events(2000);
  await (await put(m, token, body(sent, "2026-03-01T10:00:00Z"))).body?.cancel();
  const before = await stored(m);

  const bad = sent.map((e, i) => i === 1700 ? { ...e, start: "next Tuesday" } : e);
  const error = await refused(await put(m, token, body(bad, "2026-03-01T11:00:00Z")));
  assert.equal(error.field, "events[1700].start");
  assert.deepEqual(await stored(m), before);
  assert.equal(staged(db), 0, "what was staged before the bad event is gone");
});

Deno.test("a large body may give its window after the events; one outside it or a duplicate is refused", async () => {
  const { master: m, db, token } = await master();
  await using _ = m;
  const sent = events(2000);
  const windowLast = (list: unknown[]) =>
    JSON.stringify({ events: list, generated_at: "2026-03-01T10:00:00Z", window: WINDOW });
  const ok = await put(m, token, windowLast(sent));
  assert.equal((await ok.json()).added, 2000);

  const outside = sent.map((e, i) =>
    i === 1900 ? { ...e, start: "2026-05-02T09:00:00Z", end: "2026-05-02T10:00:00Z" } : e
  );
  const late = await refused(await put(m, token, windowLast(outside)));
  assert.equal(late.field, "events[1900].start");
  assert.match(late.message, /outside the snapshot window/);

  const twice = sent.map((e, i) => i === 1950 ? sent[10] : e);
  const duplicate = await refused(await put(m, token, windowLast(twice)));
  assert.equal(duplicate.field, "events[1950].uid");
  assert.match(duplicate.message, /events\[10\]/);
  assert.equal((await stored(m)).length, 2000);
  assert.equal(staged(db), 0);
});

Deno.test("a large body that is cut, not UTF-8, or has no events array is a 400 that loses nothing", async () => {
  const { master: m, db, token } = await master();
  await using _ = m;
  const sent = events(2000);
  await (await put(m, token, body(sent, "2026-03-01T10:00:00Z"))).body?.cancel();
  const generated_at = "2026-03-01T11:00:00Z";
  const text = body(sent, generated_at);

  const cut = await refused(await put(m, token, text.slice(0, 1_300_000)));
  assert.equal(cut.code, "malformed_json");
  const bytes = new TextEncoder().encode(text);
  bytes[1_200_000] = 0xff;
  const binary = await refused(await put(m, token, bytes));
  assert.equal(binary.code, "malformed_json");
  assert.match(binary.message, /UTF-8/);
  const trailing = await refused(await put(m, token, `${text} {}`));
  assert.equal(trailing.code, "malformed_json");

  const keyed = Object.fromEntries(sent.map((e, i) => [`e${i}`, e]));
  assert.equal(
    (await refused(await put(m, token, body([], generated_at, { events: keyed }))))
      .field,
    "events",
  );
  const padding = "x".repeat(1_500_000);
  const none = JSON.stringify({ window: WINDOW, generated_at, padding });
  assert.equal((await refused(await put(m, token, none))).field, "events");
  const noWindow = JSON.stringify({ generated_at, events: sent });
  assert.equal((await refused(await put(m, token, noWindow))).field, "window");

  assert.equal((await stored(m)).length, 2000);
  assert.equal(staged(db), 0);
  const withNewline = await put(m, token, `${body(sent, "2026-03-01T12:00:00Z")}\n`);
  assert.equal(withNewline.status, 200, "whitespace after the JSON is JSON");
  await withNewline.body?.cancel();
});
