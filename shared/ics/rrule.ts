/**
 * RRULE values (RFC 5545 §3.3.10): a strict parser and a bounded expansion on top of
 * `npm:rrule`, run on the wall clock of the series so that DST never moves an occurrence.
 *
 * `rrule` accepts nonsense silently (an unknown FREQ yields a daily rule) and loops without
 * end on rules that never match (`FREQ=HOURLY;INTERVAL=2;BYHOUR=3` from midnight spins
 * forever; `FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30` runs to year 9999). Hence the own parser,
 * the reachability check and the way the expansion is anchored below.
 *
 * @module
 */
import rrulePkg from "rrule";
import type { Options, Weekday as WeekdayType } from "rrule";
import type { Moment } from "./values.ts";

const { RRule, Weekday } = rrulePkg;

/** A parsed RRULE: options for `rrule` plus the UNTIL that still needs a zone. */
export interface RecurrenceRule {
  options: Partial<Options>;
  until: { wall: number; utc: boolean; date: boolean } | null;
}

const DAY_MS = 86_400_000;
/** The Gregorian calendar repeats exactly every 400 years, weekdays included. */
const CYCLE_MS = 146_097 * DAY_MS;
const FREQUENCIES = ["YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY", "MINUTELY", "SECONDLY"];
const WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];
const PERIOD_MS: Partial<Record<number, number>> = {
  [RRule.WEEKLY]: 7 * DAY_MS,
  [RRule.DAILY]: DAY_MS,
  [RRule.HOURLY]: 3_600_000,
  [RRule.MINUTELY]: 60_000,
  [RRule.SECONDLY]: 1_000,
};
const SUB_DAILY_UNIT_SECONDS: Partial<Record<number, number>> = {
  [RRule.HOURLY]: 3600,
  [RRule.MINUTELY]: 60,
  [RRule.SECONDLY]: 1,
};
const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function integers(text: string, part: string, min: number, max: number, signed = false): number[] {
  return text.split(",").map((item) => {
    const n = Number(item);
    const inRange = signed ? n !== 0 && Math.abs(n) <= max : n >= min && n <= max;
    if (!/^[+-]?\d+$/.test(item) || !inRange) {
      throw new Error(`RRULE ${part}=${text}: "${item}" is out of range`);
    }
    return n;
  });
}

function weekday(text: string, part: string): number {
  const day = WEEKDAYS.indexOf(text.toUpperCase());
  if (day < 0) throw new Error(`RRULE ${part}: "${text}" is not a weekday such as MO`);
  return day;
}

/** Parses an RRULE value; throws a message naming the rule part that is wrong. */
export function parseRecurrenceRule(text: string): RecurrenceRule {
  const options: Partial<Options> = {};
  let until: RecurrenceRule["until"] = null;
  for (const part of text.trim().split(";").filter((p) => p !== "")) {
    const [rawName, value = ""] = part.split("=", 2);
    const name = rawName.toUpperCase();
    switch (name) {
      case "FREQ": {
        const freq = FREQUENCIES.indexOf(value.toUpperCase());
        if (freq < 0) {
          throw new Error(`RRULE FREQ "${value}" is not one of ${FREQUENCIES.join(", ")}`);
        }
        options.freq = freq;
        break;
      }
      case "INTERVAL":
        options.interval = integers(value, name, 1, 100_000)[0];
        break;
      case "COUNT":
        options.count = integers(value, name, 1, 1_000_000)[0];
        break;
      case "UNTIL": {
        const m = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z?))?$/i.exec(value);
        if (!m) throw new Error(`RRULE UNTIL "${value}" is not a date or date-time`);
        const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0));
        until = { wall, utc: m[7] !== undefined && m[7] !== "", date: m[4] === undefined };
        break;
      }
      case "BYSECOND":
        options.bysecond = integers(value, name, 0, 60);
        break;
      case "BYMINUTE":
        options.byminute = integers(value, name, 0, 59);
        break;
      case "BYHOUR":
        options.byhour = integers(value, name, 0, 23);
        break;
      case "BYMONTHDAY":
        options.bymonthday = integers(value, name, 1, 31, true);
        break;
      case "BYYEARDAY":
        options.byyearday = integers(value, name, 1, 366, true);
        break;
      case "BYWEEKNO":
        options.byweekno = integers(value, name, 1, 53, true);
        break;
      case "BYMONTH":
        options.bymonth = integers(value, name, 1, 12);
        break;
      case "BYSETPOS":
        options.bysetpos = integers(value, name, 1, 366, true);
        break;
      case "WKST":
        options.wkst = weekday(value, name);
        break;
      case "BYDAY":
        options.byweekday = value.split(",").map((item) => {
          const m = /^([+-]?\d{1,2})?([A-Za-z]{2})$/.exec(item);
          const n = m?.[1] === undefined ? undefined : Number(m[1]);
          if (!m || n === 0 || (n !== undefined && Math.abs(n) > 53)) {
            throw new Error(`RRULE BYDAY: "${item}" is not a weekday such as MO or -1FR`);
          }
          return new Weekday(weekday(m[2], name), n);
        });
        break;
      default:
        if (!name.startsWith("X-")) throw new Error(`RRULE has an unknown part "${part}"`);
    }
  }
  if (options.freq === undefined) throw new Error(`RRULE "${text}" has no FREQ`);
  return { options, until };
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function list(value: number | number[] | null | undefined): number[] | null {
  return value === null || value === undefined ? null : Array.isArray(value) ? value : [value];
}

/**
 * Throws when a rule can never produce an occurrence after `start`, the cases in which
 * `rrule` would search until year 9999 or, for sub-daily rules, forever.
 */
function assertReachable(options: Partial<Options>, start: Date): void {
  const months = list(options.bymonth) ?? [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
  const monthDays = list(options.bymonthday);
  if (monthDays && !months.some((m) => monthDays.some((d) => Math.abs(d) <= MONTH_DAYS[m - 1]))) {
    throw new Error("RRULE never occurs: no BYMONTH has any of the BYMONTHDAY days");
  }
  const interval = options.interval ?? 1;
  const days = (options.byweekday as WeekdayType[] | undefined)?.map((w) => w.weekday);
  if (options.freq === RRule.DAILY && days && interval % 7 === 0) {
    if (!days.includes((start.getUTCDay() + 6) % 7)) {
      throw new Error(
        "RRULE never occurs: every INTERVAL lands on the weekday of DTSTART, not in BYDAY",
      );
    }
  }
  // A sub-daily rule steps through the day in INTERVAL units, so it only ever reaches
  // the times of day congruent to DTSTART modulo gcd(INTERVAL, units per day).
  const unit = SUB_DAILY_UNIT_SECONDS[options.freq!];
  if (unit === undefined) return;
  const hours = list(options.byhour) ?? [...Array(24).keys()];
  const minutes = unit <= 60 ? list(options.byminute) ?? [...Array(60).keys()] : [0];
  const seconds = unit === 1 ? list(options.bysecond) ?? [...Array(60).keys()] : [0];
  const step = gcd(interval, 86_400 / unit);
  const startUnits = Math.floor(
    (start.getUTCHours() * 3600 + (unit <= 60 ? start.getUTCMinutes() * 60 : 0) +
      (unit === 1 ? start.getUTCSeconds() : 0)) / unit,
  );
  const reachable = hours.some((h) =>
    minutes.some((m) =>
      seconds.some((s) => ((h * 3600 + m * 60 + s) / unit - startUnits) % step === 0)
    )
  );
  if (!reachable) {
    throw new Error(
      "RRULE never occurs: INTERVAL never reaches the BYHOUR/BYMINUTE/BYSECOND times",
    );
  }
}

/**
 * The wall-clock starts of a rule's occurrences that lie in `[fromWall, toWall]`, for a
 * series starting at `start`. The work done is bounded by the range, not by the rule.
 */
export function expandRule(
  rule: RecurrenceRule,
  start: Moment,
  fromWall: number,
  toWall: number,
): number[] {
  const options: Partial<Options> = { ...rule.options, dtstart: new Date(start.wall) };
  if (rule.until) {
    const { wall, utc, date } = rule.until;
    // UNTIL is inclusive: a UTC UNTIL is read on the series' wall clock, and a bare
    // date on a timed series keeps that whole day.
    options.until = new Date(
      utc && start.zone
        ? wall + start.zone.offsetAt(wall)
        : date && start.zone
        ? wall + DAY_MS - 1000
        : wall,
    );
  }
  assertReachable(options, options.dtstart!);
  let anchor = start.wall;
  const period = (PERIOD_MS[options.freq!] ?? 0) * (options.interval ?? 1);
  if (!options.count && period > 0 && fromWall - anchor > 2 * period) {
    // Without COUNT, starting whole periods later changes nothing but the work: each
    // period repeats the same pattern, so skip to just before the range.
    anchor += (Math.floor((fromWall - anchor) / period) - 1) * period;
  }
  // `rrule` stops searching after year 9999: shifting by whole 400-year cycles so that the
  // range ends near it caps the search for a rule that stops matching at < 400 years.
  const lastYear = new Date(toWall).getUTCFullYear();
  const shift = Math.max(0, Math.floor((9_998 - lastYear) / 400)) * CYCLE_MS;
  const shiftedOptions = {
    ...options,
    dtstart: new Date(anchor + shift),
    until: options.until ? new Date(options.until.getTime() + shift) : null,
  };
  if (options.count) {
    // RFC 5545 §3.3.10: DTSTART always counts as the first occurrence. `rrule` counts
    // only the dates that match the rule, so a DTSTART that does not match uses one up.
    const [first] = new RRule({ ...shiftedOptions, count: 1 }).all();
    if (first?.getTime() !== anchor + shift) shiftedOptions.count = options.count - 1;
    if (shiftedOptions.count === 0) return [];
  }
  const shifted = new RRule(shiftedOptions);
  return shifted.between(new Date(fromWall + shift), new Date(toWall + shift), true)
    .map((d) => d.getTime() - shift);
}
