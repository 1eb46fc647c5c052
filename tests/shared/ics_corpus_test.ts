/**
 * The iCalendar reader against an independent expander (ical.js, through
 * tests/helpers/ical_reference.ts) over a corpus: the fixtures of
 * tests/fixtures/ics-corpus/ (one class of real-world defect each, plus a few clean
 * exports) and the sample calendars that installed Debian packages ship, read where the
 * packages put them.
 *
 * Per file, the keys `{uid, recurrence_id, start, end, all_day, title}` of both sides
 * must be equal except for the differences tests/fixtures/ics-corpus/divergences.json
 * lists, each with its reason; a listed difference that no longer shows fails too, so the
 * table stays true. Occurrences of VEVENTs without UID match by everything but the UID
 * (calsync derives one, the reference has none).
 */
import assert from "node:assert/strict";
import { parseIcsDetailed } from "../../shared/ics/mod.ts";
import { type ComparableKey, keyText, referenceExpand } from "../helpers/ical_reference.ts";

interface Divergence {
  file: string;
  reason: string;
  onlyInReference?: ComparableKey[];
  onlyInCalsync?: ComparableKey[];
}

interface CorpusFile {
  /** Name in messages and in divergences.json: the fixture's file name, or the path. */
  name: string;
  path: string;
  window: { start: string; end: string };
}

const FIXTURE_WINDOW = { start: "2025-01-01T00:00:00Z", end: "2028-01-01T00:00:00Z" };
/** Package samples are older: 1996 to 2012 and open-ended rules. */
const SAMPLE_WINDOW = { start: "1995-01-01T00:00:00Z", end: "2030-01-01T00:00:00Z" };
const FLOATING_ZONE = "UTC";

const corpusDir = new URL("../fixtures/ics-corpus/", import.meta.url);

/**
 * Where installed Debian packages keep sample calendars, for the packages .ci/run
 * installs (or that those depend on): python3-icalendar comes with xandikos, sogo-common
 * with sogo. Every `.ics` found in a directory is used; an absent directory is skipped.
 */
const PACKAGE_SAMPLE_DIRS: { dir: string; only?: string[]; via: string }[] = [
  { dir: "/usr/lib/python3/dist-packages/icalendar/tests", via: "python3-icalendar (xandikos)" },
  {
    // 595 zone-only calendars: three of them show VTIMEZONE-only files read as empty.
    dir: "/usr/share/GNUstep/Libraries/Resources/NGCards/TimeZones",
    only: ["Europe/Berlin.ics", "America/New_York.ics", "Pacific/Chatham.ics"],
    via: "sogo-common (sogo)",
  },
];

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function corpusFiles(): Promise<{ files: CorpusFile[]; used: string[]; absent: string[] }> {
  const files: CorpusFile[] = [];
  for await (const entry of Deno.readDir(corpusDir)) {
    if (entry.isFile && entry.name.endsWith(".ics")) {
      files.push({
        name: entry.name,
        path: new URL(entry.name, corpusDir).pathname,
        window: FIXTURE_WINDOW,
      });
    }
  }
  files.sort((a, b) => a.name.localeCompare(b.name));
  const used: string[] = [];
  const absent: string[] = [];
  for (const { dir, only, via } of PACKAGE_SAMPLE_DIRS) {
    const names = only ?? (await exists(dir) ? [...Deno.readDirSync(dir)] : [])
      .filter((e) => e.isFile && e.name.endsWith(".ics")).map((e) => e.name).sort();
    for (const name of names) {
      const path = `${dir}/${name}`;
      if (!await exists(path)) {
        absent.push(`${path} (${via})`);
        continue;
      }
      used.push(`${path} (${via})`);
      files.push({ name: path, path, window: SAMPLE_WINDOW });
    }
    if (names.length === 0) absent.push(`${dir} (${via})`);
  }
  return { files, used, absent };
}

/** What calsync made of a file, as comparable keys (derived UIDs become null). */
function calsyncKeys(
  bytes: Uint8Array,
  file: CorpusFile,
  fileUids: Set<string>,
): { keys: ComparableKey[]; error: string | null } {
  try {
    const { occurrences } = parseIcsDetailed(bytes, file.window, { floatingZone: FLOATING_ZONE });
    return {
      keys: occurrences.map((o) => ({
        uid: fileUids.has(o.uid) ? o.uid : null,
        recurrence_id: o.recurrence_id,
        start: o.start,
        end: o.end,
        all_day: o.all_day,
        title: o.title,
      })),
      error: null,
    };
  } catch (error) {
    return { keys: [], error: (error as Error).message };
  }
}

/** Keys in `a` and not in `b`, as multisets (a key twice on one side counts twice). */
function minus(a: ComparableKey[], b: ComparableKey[]): ComparableKey[] {
  const left = new Map<string, number>();
  for (const k of b) left.set(keyText(k), (left.get(keyText(k)) ?? 0) + 1);
  return a.filter((k) => {
    const n = left.get(keyText(k)) ?? 0;
    if (n === 0) return true;
    left.set(keyText(k), n - 1);
    return false;
  });
}

const divergences: Divergence[] = JSON.parse(
  await Deno.readTextFile(new URL("divergences.json", corpusDir)),
);

function describe(keys: ComparableKey[]): string {
  return keys.map((k) => `    ${keyText(k)}`).join("\n");
}

Deno.test({
  name: "the ICS reader agrees with ical.js over the corpus, but for the listed divergences",
  async fn(t) {
    const { files, used, absent } = await corpusFiles();
    let referenceTotal = 0, calsyncTotal = 0, matchedTotal = 0;
    for (const file of files) {
      await t.step(file.name, async () => {
        const bytes = await Deno.readFile(file.path);
        const reference = referenceExpand(new TextDecoder().decode(bytes), file.window, {
          floatingZone: FLOATING_ZONE,
        });
        const calsync = calsyncKeys(bytes, file, reference.uids);
        const onlyRef = minus(reference.keys, calsync.keys);
        const onlyCal = minus(calsync.keys, reference.keys);
        referenceTotal += reference.keys.length;
        calsyncTotal += calsync.keys.length;
        matchedTotal += reference.keys.length - onlyRef.length;
        const listed = divergences.filter((d) => d.file === file.name);
        const expectRef = listed.flatMap((d) => d.onlyInReference ?? []);
        const expectCal = listed.flatMap((d) => d.onlyInCalsync ?? []);
        const problems = [
          [minus(onlyRef, expectRef), "only the reference has (not listed)"],
          [minus(onlyCal, expectCal), "only calsync has (not listed)"],
          [minus(expectRef, onlyRef), "listed as only in the reference, but not so now"],
          [minus(expectCal, onlyCal), "listed as only in calsync, but not so now"],
        ] as const;
        const text = problems.filter(([keys]) => keys.length > 0)
          .map(([keys, what]) => `  ${what}:\n${describe(keys)}`).join("\n");
        const notes = [
          reference.error && `  ical.js refused the file: ${reference.error}`,
          calsync.error && `  calsync refused the file: ${calsync.error}`,
        ].filter(Boolean).join("\n");
        assert.ok(text === "", `${file.name}\n${notes}\n${text}`);
      });
    }
    const matched = referenceTotal === 0 ? 100 : (100 * matchedTotal) / referenceTotal;
    console.log(
      `ics corpus: ${files.length} files, ${referenceTotal} reference occurrences, ` +
        `${calsyncTotal} calsync occurrences, ${matched.toFixed(1)}% of the reference matched`,
    );
    console.log(`package samples used:\n  ${used.join("\n  ") || "(none)"}`);
    if (absent.length > 0) console.log(`package samples absent:\n  ${absent.join("\n  ")}`);
  },
});

Deno.test("the reference expander: Intl-made zones, floating times, SEQUENCE, overrides", () => {
  const text = [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//Test//EN",
    "BEGIN:VEVENT",
    "UID:s",
    "DTSTART;TZID=Europe/Berlin:20260323T090000",
    "DTEND;TZID=Europe/Berlin:20260323T100000",
    "RRULE:FREQ=WEEKLY;COUNT=3",
    "SUMMARY:Series",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "UID:s",
    "RECURRENCE-ID;TZID=Europe/Berlin:20260406T090000",
    "DTSTART;TZID=Europe/Berlin:20260406T110000",
    "DTEND;TZID=Europe/Berlin:20260406T120000",
    "SEQUENCE:2",
    "SUMMARY:Moved",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "UID:s",
    "RECURRENCE-ID;TZID=Europe/Berlin:20260406T090000",
    "DTSTART;TZID=Europe/Berlin:20260406T150000",
    "DTEND;TZID=Europe/Berlin:20260406T160000",
    "SEQUENCE:1",
    "SUMMARY:Moved earlier revision",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "DTSTART:20260501T080000",
    "DURATION:PT30M",
    "SUMMARY:Floating, no UID",
    "END:VEVENT",
    "END:VCALENDAR",
  ].join("\r\n");
  const window = { start: "2026-01-01T00:00:00Z", end: "2027-01-01T00:00:00Z" };
  const result = referenceExpand(text, window, { floatingZone: "America/New_York" });
  assert.equal(result.error, null);
  assert.deepEqual(result.generatedZones, ["Europe/Berlin"]);
  assert.deepEqual(
    result.keys.map(keyText),
    [
      ["s", "2026-03-23T08:00:00Z", "2026-03-23T08:00:00Z", "2026-03-23T09:00:00Z", "Series"],
      ["s", "2026-03-30T07:00:00Z", "2026-03-30T07:00:00Z", "2026-03-30T08:00:00Z", "Series"],
      ["s", "2026-04-06T07:00:00Z", "2026-04-06T09:00:00Z", "2026-04-06T10:00:00Z", "Moved"],
      [null, null, "2026-05-01T12:00:00Z", "2026-05-01T12:30:00Z", "Floating, no UID"],
    ].map(([uid, rid, start, end, title]) =>
      keyText({
        uid,
        recurrence_id: rid,
        start: start!,
        end: end!,
        all_day: false,
        title: title!,
      })
    ),
  );
  assert.deepEqual([...result.uids], ["s"]);
});
