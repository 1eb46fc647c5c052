/**
 * The snapshot scanner cuts a body into its members and events as bytes arrive. These
 * tests hold it to `JSON.parse`: for random documents split at random places it must
 * find exactly what `JSON.parse` finds, and for random damage it must refuse exactly
 * what `JSON.parse` refuses.
 */
import assert from "node:assert/strict";
import { scanParsed, SnapshotScanner } from "../../master/snapshots/scanner.ts";
import { HttpError } from "../../master/http/errors.ts";

/** A small deterministic random source, so that a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TRICKY = ['"', "\\", "{", "}", "[", "]", ",", ":", " ", "\n", "é", "€", "😀", "\u2028", "a"];

function value(next: () => number, depth: number): unknown {
  const pick = Math.floor(next() * (depth > 2 ? 5 : 7));
  switch (pick) {
    case 0:
      return null;
    case 1:
      return next() < 0.5;
    case 2:
      return Math.round((next() - 0.5) * 1e6) / 100;
    case 3:
    case 4:
      return Array.from(
        { length: Math.floor(next() * 6) },
        () => TRICKY[Math.floor(next() * TRICKY.length)],
      ).join("");
    case 5:
      return Array.from({ length: Math.floor(next() * 4) }, () => value(next, depth + 1));
    default:
      return Object.fromEntries(
        Array.from(
          { length: Math.floor(next() * 4) },
          (_, i) => [`k${i}${TRICKY[Math.floor(next() * TRICKY.length)]}`, value(next, depth + 1)],
        ),
      );
  }
}

/** A snapshot-like document: a few members, and an `events` array somewhere among them. */
function document(next: () => number): Record<string, unknown> {
  const doc: Record<string, unknown> = {};
  const members = Math.floor(next() * 4);
  for (let i = 0; i < members; i++) doc[`m${i}`] = value(next, 1);
  doc.events = Array.from({ length: Math.floor(next() * 6) }, () => value(next, 1));
  for (let i = members; i < members + Math.floor(next() * 3); i++) doc[`m${i}`] = value(next, 1);
  return doc;
}

/** JSON text with random whitespace after tokens, as any writer may put it. */
function spaced(text: string, next: () => number): string {
  let out = "";
  let inString = false;
  let escaped = false;
  for (const ch of text) {
    out += ch;
    let tokenEnds = false;
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === "\\") escaped = true;
      else if (ch === '"') inString = tokenEnds = true;
      if (tokenEnds) inString = false;
    } else if (ch === '"') inString = true;
    else tokenEnds = "{}[],:".includes(ch);
    if (tokenEnds && next() < 0.3) out += [" ", "\n", "\t", "\r\n"][Math.floor(next() * 4)];
  }
  return out;
}

type Scanned = { members: Record<string, unknown>; events: unknown[]; other?: unknown };

/** What the scanner finds in `bytes` written in random pieces. */
function scan(bytes: Uint8Array, next: () => number): Scanned {
  const found: Scanned = { members: {}, events: [] };
  const scanner = new SnapshotScanner({
    member: (key, v) => found.members[key] = v,
    event: (v, index) => {
      assert.equal(index, found.events.length);
      found.events.push(v);
    },
    other: (v) => found.other = v,
  });
  for (let at = 0; at < bytes.length;) {
    const size = 1 + Math.floor(next() * 40);
    scanner.write(bytes.subarray(at, at + size));
    at += size;
  }
  scanner.end();
  return found;
}

/** What the master did before the scanner: decode the whole body and parse it. */
function parsedWhole(bytes: Uint8Array): unknown {
  return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
}

Deno.test("the scanner finds what JSON.parse finds, however the body is split, as scanParsed does", () => {
  const next = random(16);
  for (let round = 0; round < 400; round++) {
    const doc = document(next);
    const bytes = new TextEncoder().encode(spaced(JSON.stringify(doc), next));
    const { events, ...members } = parsedWhole(bytes) as Record<string, unknown>;
    const found = scan(bytes, next);
    assert.deepEqual(found.events, events, `round ${round}`);
    assert.deepEqual(found.members, members, `round ${round}`);
    // A small body is parsed whole and handed on the same way.
    const whole: Scanned = { members: {}, events: [] };
    const sawEvents = scanParsed(parsedWhole(bytes), {
      member: (key, v) => whole.members[key] = v,
      event: (v) => whole.events.push(v),
      other: (v) => whole.other = v,
    });
    assert.ok(sawEvents);
    assert.deepEqual(whole, found, `round ${round}`);
  }
});

Deno.test("the scanner refuses exactly the damaged bodies JSON.parse refuses", () => {
  const next = random(17);
  const damage = [0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x20, 0x0a, 0x01, 0x61, 0xff];
  let refused = 0;
  for (let round = 0; round < 3000; round++) {
    const bytes = new TextEncoder().encode(JSON.stringify(document(next)));
    const at = Math.floor(next() * bytes.length);
    const kind = next();
    const damaged = kind < 0.2
      ? bytes.subarray(0, at)
      : kind < 0.4
      ? new Uint8Array([...bytes.subarray(0, at), ...bytes.subarray(at + 1)])
      : bytes.map((b, i) => i === at ? damage[Math.floor(next() * damage.length)] : b);
    let wholeError: unknown = null;
    try {
      parsedWhole(damaged);
    } catch (err) {
      wholeError = err;
    }
    let scanError: unknown = null;
    try {
      scan(damaged, next);
    } catch (err) {
      scanError = err;
    }
    const text = new TextDecoder().decode(damaged);
    if (wholeError === null) {
      assert.equal(scanError, null, `accepted whole, refused scanned: ${text}`);
    } else {
      refused++;
      assert.ok(scanError instanceof HttpError, `refused whole, accepted scanned: ${text}`);
      assert.equal(scanError.code, "malformed_json");
    }
  }
  assert.ok(refused > 1000, `${refused} of 3000 damaged bodies were refused`);
});

Deno.test("the scanner says where a body breaks its outline", () => {
  const refusal = (text: string) => {
    try {
      scan(new TextEncoder().encode(text), random(1));
    } catch (err) {
      return (err as HttpError).message;
    }
    throw new Error(`accepted ${text}`);
  };
  assert.match(refusal('{"a": 1,}'), /unexpected '}' at byte 8; expected a key/);
  assert.match(refusal('{"events": [1,]}'), /unexpected '\]' at byte 14; expected an event/);
  assert.match(refusal('{"events": [1] 2}'), /unexpected '2' at byte 15; expected ',' or '}'/);
  assert.match(refusal('{"events": []} {}'), /after the end of the JSON/);
  assert.match(refusal('{"events": [{"a": tru}]}'), /events\[0\]: /);
  assert.match(refusal('{"events": [1'), /ends before its JSON does/);
});

Deno.test("the scanner takes a byte order mark, a body that is not an object, and one events array only", () => {
  const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('{"events": [1]}')]);
  assert.deepEqual(scan(bom, random(2)).events, [1]);
  assert.deepEqual(scan(new TextEncoder().encode(" [1, 2] "), random(3)).other, [1, 2]);
  assert.throws(
    () => scan(new TextEncoder().encode('{"events": [1], "events": [2]}'), random(4)),
    (err: HttpError) => err.code === "invalid_field" && /events: given twice/.test(err.message),
  );
});

Deno.test("a member larger than any chunk arrives whole", () => {
  const long = 'x\\"'.repeat(300_000);
  const bytes = new TextEncoder().encode(`{"note": "${long}", "events": [{"n": "${long}"}]}`);
  const found = scan(bytes, random(5));
  assert.equal(found.members.note, JSON.parse(`"${long}"`));
  assert.deepEqual(found.events, [{ n: JSON.parse(`"${long}"`) }]);
});
