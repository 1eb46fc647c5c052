/**
 * ICS reader benchmark: a generated calendar of about 50,000 occurrences in one year
 * (daily, weekday, weekly and monthly series in zones with and without VTIMEZONE, EXDATEs,
 * about 5 % of occurrences overridden, all-day series and single events) read and
 * expanded with `parseIcsDetailed`.
 *
 * It runs in a child process (`deno run --allow-all`, which /proc needs) so that the peak
 * is the reader's own: the child reads its VmHWM (peak resident set) from
 * /proc/self/status after the first parse and subtracts the VmRSS it had just before,
 * once the calendar text was built. `Deno.memoryUsage()` sampled around a synchronous
 * call would only see the end, not the peak. Times: the first (cold) run, and the
 * median of three more.
 *
 * @module
 */
import { parseIcsDetailed } from "../shared/ics/mod.ts";
import type { Figure } from "./ingest.ts";

const WINDOW = { start: "2026-01-01T00:00:00Z", end: "2027-01-01T00:00:00Z" };
const WARM_ROUNDS = 3;
const DAY = 86_400_000;

const VTIMEZONES = `BEGIN:VTIMEZONE
TZID:W. Europe Standard Time
BEGIN:STANDARD
DTSTART:16011028T030000
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010325T020000
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
END:DAYLIGHT
END:VTIMEZONE
BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE`.split("\n");

/** Zones by how they are given: VTIMEZONE in the file, IANA name without one, UTC. */
const ZONES: (string | null)[] = [
  "W. Europe Standard Time",
  "Europe/Berlin",
  "America/New_York",
  "Asia/Tokyo",
  "Australia/Sydney",
  null, // UTC, written with Z
];

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

/** Wall-clock text of a UTC-based millisecond count: `20260105T090000` or a date. */
function wall(ms: number, dateOnly = false): string {
  const d = new Date(ms);
  const date = `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}`;
  return dateOnly ? date : `${date}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}00`;
}

function timeProp(name: string, zone: string | null, ms: number): string {
  return zone === null ? `${name}:${wall(ms)}Z` : `${name};TZID=${zone}:${wall(ms)}`;
}

function addMonths(ms: number, months: number): number {
  const d = new Date(ms);
  return Date.UTC(
    d.getUTCFullYear(),
    d.getUTCMonth() + months,
    d.getUTCDate(),
    d.getUTCHours(),
    d.getUTCMinutes(),
  );
}

interface Series {
  kind: "daily" | "weekdays" | "weekly" | "monthly" | "allday-weekly";
  count: number;
  perYear: number;
}

const SERIES: Series[] = [
  { kind: "daily", count: 60, perYear: 365 },
  { kind: "weekdays", count: 40, perYear: 261 },
  { kind: "weekly", count: 250, perYear: 52 },
  { kind: "monthly", count: 150, perYear: 12 },
  { kind: "allday-weekly", count: 80, perYear: 52 },
];
const SINGLES = 1_500;
const ALLDAY_SINGLES = 300;

/** The calendar text: about 50,000 occurrences inside {@link WINDOW}. */
export function bigCalendar(): string {
  const lines = [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//calsync//bench//EN",
    "X-WR-CALNAME:Benchmark",
    ...VTIMEZONES,
  ];
  const monday = Date.UTC(2026, 0, 5, 7, 0); // Monday 5 January 2026, 07:00 wall clock
  let n = 0;
  for (const { kind, count, perYear } of SERIES) {
    for (let i = 0; i < count; i++, n++) {
      const zone = kind === "allday-weekly" ? null : ZONES[n % ZONES.length];
      const allDay = kind === "allday-weekly";
      // Starts spread over the first weeks and the working day, on Mondays for the
      // weekday rule (so that every "+7 days" is an occurrence of every kind).
      const start = monday + (i % 4) * 7 * DAY + (i % 10) * 3_600_000 + (i % 4) * 15 * 60_000;
      const step = (k: number) => kind === "monthly" ? addMonths(start, k) : start + k * 7 * DAY;
      const uid = `bench-${kind}-${i}@calsync.test`;
      const rule = {
        daily: "FREQ=DAILY",
        weekdays: "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
        weekly: "FREQ=WEEKLY",
        monthly: "FREQ=MONTHLY",
        "allday-weekly": "FREQ=WEEKLY",
      }[kind] + (i % 2 === 0 ? "" : ";UNTIL=20261231T235959Z");
      lines.push("BEGIN:VEVENT", `UID:${uid}`, "DTSTAMP:20260101T000000Z");
      if (allDay) {
        lines.push(
          `DTSTART;VALUE=DATE:${wall(start, true)}`,
          `DTEND;VALUE=DATE:${wall(start + DAY, true)}`,
        );
      } else {
        lines.push(timeProp("DTSTART", zone, start), "DURATION:PT45M");
      }
      lines.push(`RRULE:${rule}`, `SUMMARY:${kind} series ${i}`);
      for (const k of [3, 11]) {
        lines.push(
          allDay ? `EXDATE;VALUE=DATE:${wall(step(k), true)}` : timeProp("EXDATE", zone, step(k)),
        );
      }
      lines.push("END:VEVENT");
      // About 5 % of the occurrences overridden: moved by an hour (a day if all-day), at
      // even steps so that none is one of the EXDATEs above.
      const overrides = Math.round(perYear * 0.05);
      for (let o = 0; o < overrides; o++) {
        const original = step(2 + 2 * o);
        lines.push("BEGIN:VEVENT", `UID:${uid}`, "DTSTAMP:20260101T000000Z", "SEQUENCE:1");
        if (allDay) {
          lines.push(
            `RECURRENCE-ID;VALUE=DATE:${wall(original, true)}`,
            `DTSTART;VALUE=DATE:${wall(original + DAY, true)}`,
            `DTEND;VALUE=DATE:${wall(original + 2 * DAY, true)}`,
          );
        } else {
          lines.push(
            timeProp("RECURRENCE-ID", zone, original),
            timeProp("DTSTART", zone, original + 3_600_000),
            timeProp("DTEND", zone, original + 3_600_000 + 45 * 60_000),
          );
        }
        lines.push(`SUMMARY:${kind} series ${i} (moved)`, "END:VEVENT");
      }
    }
  }
  for (let i = 0; i < SINGLES + ALLDAY_SINGLES; i++) {
    const day = Date.UTC(2026, 0, 1) + (i % 365) * DAY;
    lines.push("BEGIN:VEVENT", `UID:bench-single-${i}@calsync.test`, "DTSTAMP:20260101T000000Z");
    if (i < SINGLES) {
      const zone = ZONES[i % ZONES.length];
      const start = day + (8 + (i % 9)) * 3_600_000;
      lines.push(
        timeProp("DTSTART", zone, start),
        timeProp("DTEND", zone, start + 3_600_000),
      );
    } else {
      lines.push(
        `DTSTART;VALUE=DATE:${wall(day, true)}`,
        `DTEND;VALUE=DATE:${wall(day + DAY, true)}`,
      );
    }
    lines.push(`SUMMARY:Single ${i}`, "LOCATION:Room 1", "END:VEVENT");
  }
  lines.push("END:VCALENDAR");
  return lines.join("\r\n") + "\r\n";
}

function statusKiB(field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(
    Deno.readTextFileSync("/proc/self/status"),
  );
  if (!m) throw new Error(`no ${field} in /proc/self/status`);
  return Number(m[1]);
}

interface ChildResult {
  bytes: number;
  occurrences: number;
  warnings: number;
  firstMs: number;
  warmMs: number;
  peakGrowthMiB: number;
}

function child(): ChildResult {
  const bytes = new TextEncoder().encode(bigCalendar());
  const rssBefore = statusKiB("VmRSS");
  const started = performance.now();
  const first = parseIcsDetailed(bytes, WINDOW);
  const firstMs = performance.now() - started;
  const peakGrowthMiB = (statusKiB("VmHWM") - rssBefore) / 1024;
  const warm: number[] = [];
  for (let i = 0; i < WARM_ROUNDS; i++) {
    const t = performance.now();
    parseIcsDetailed(bytes, WINDOW);
    warm.push(performance.now() - t);
  }
  return {
    bytes: bytes.length,
    occurrences: first.occurrences.length,
    warnings: first.warnings.length,
    firstMs,
    warmMs: warm.sort((a, b) => a - b)[Math.floor(WARM_ROUNDS / 2)],
    peakGrowthMiB,
  };
}

/** Runs the benchmark in a child process and returns its figures. */
export async function icsExpandBenchmark(): Promise<Figure[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", import.meta.filename!, "--child"],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`ICS benchmark child failed (exit ${out.code})`);
  const r: ChildResult = JSON.parse(new TextDecoder().decode(out.stdout));
  return [
    { name: "calendar size", value: r.bytes / (1024 * 1024), unit: "MiB" },
    { name: "occurrences in the year", value: r.occurrences, unit: "" },
    { name: "warnings", value: r.warnings, unit: "", target: 0, exact: true },
    { name: "parse + expand, first run", value: r.firstMs / 1000, unit: "s", target: 2 },
    {
      name: `parse + expand, warm (median of ${WARM_ROUNDS})`,
      value: r.warmMs / 1000,
      unit: "s",
      target: 2,
    },
    {
      name: "peak RSS growth, first run (VmHWM − VmRSS before)",
      value: r.peakGrowthMiB,
      unit: "MiB",
      target: 200,
    },
  ];
}

if (import.meta.main && Deno.args.includes("--child")) {
  console.log(JSON.stringify(child()));
} else if (import.meta.main) {
  for (const f of await icsExpandBenchmark()) console.log(f.name, f.value, f.unit);
}
