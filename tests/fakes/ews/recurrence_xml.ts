/**
 * `t:Recurrence` of a recurring master, in both directions: the EWS patterns
 * (`DailyRecurrence`, `WeeklyRecurrence`, `AbsoluteMonthlyRecurrence`,
 * `RelativeMonthlyRecurrence`, `AbsoluteYearlyRecurrence`, `RelativeYearlyRecurrence`) and
 * ranges (`NoEndRecurrence`, `EndDateRecurrence`, `NumberedRecurrence`) to and from the
 * RRULE the store keeps. A rule EWS cannot express (hourly, several months…) has no
 * `t:Recurrence`, as a series made in another client would not map either.
 *
 * @module
 */
import rrulePkg from "rrule";
import type { ItemFields } from "./model.ts";
import { EwsError, NS } from "./soap.ts";
import { instantOf, wallClock } from "./timezones.ts";
import { child, el, text, type XmlElement } from "./xml.ts";

const { RRule } = rrulePkg;

const DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const CODES = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];
const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];
const INDEXES: Record<string, number> = { First: 1, Second: 2, Third: 3, Fourth: 4, Last: -1 };

const t = (name: string, value: string | number) => text(`t:${name}`, value);

function invalidRecurrence(why: string): EwsError {
  return new EwsError(
    "ErrorCalendarInvalidRecurrence",
    `The recurrence pattern is invalid: ${why}`,
  );
}

/** An xs:date with the zone offset of the series on that day, as Exchange writes it. */
function xsDate(date: Temporal.PlainDate, zone: string): string {
  const midnight = date.toPlainDateTime();
  const minutes = (instantOf(midnight, "UTC") - instantOf(midnight, zone)) / 60_000;
  const abs = Math.abs(minutes);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date}${minutes < 0 ? "-" : "+"}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** The weekday codes of a BYDAY without ordinals ("MO,WE" → Monday Wednesday). */
function plainDays(byday: string | undefined, fallback: number): string[] | null {
  const codes = byday ? byday.split(",") : [CODES[fallback]];
  if (codes.some((code) => !CODES.includes(code))) return null;
  return codes.map((code) => DAYS[CODES.indexOf(code)]);
}

/** One `BYDAY` with an ordinal ("2TU", "-1FR"), or `BYDAY` plus `BYSETPOS`. */
function nthDay(parts: Record<string, string>): { day: string; index: string } | null {
  const match = /^([+-]?\d)?(MO|TU|WE|TH|FR|SA|SU)$/.exec(parts.BYDAY ?? "");
  const position = Number(match?.[1] ?? parts.BYSETPOS);
  const index = Object.entries(INDEXES).find(([, n]) => n === position)?.[0];
  return match && index ? { day: DAYS[CODES.indexOf(match[2])], index } : null;
}

/** The `t:Recurrence` of a series, or null when EWS has no pattern for its rule. */
export function writeRecurrence(rrule: string, fields: ItemFields): string | null {
  const parts = Object.fromEntries(rrule.split(";").map((part) => part.split("=")));
  const wall = wallClock(fields.start, fields.startTimeZone);
  const interval = t("Interval", parts.INTERVAL ?? 1);
  let pattern: string | null = null;
  if (parts.FREQ === "DAILY" && !parts.BYDAY) {
    pattern = el("t:DailyRecurrence", {}, interval);
  } else if (parts.FREQ === "WEEKLY") {
    const days = plainDays(parts.BYDAY, wall.dayOfWeek - 1);
    const first = DAYS[CODES.indexOf(parts.WKST ?? "MO")];
    pattern = days &&
      el(
        "t:WeeklyRecurrence",
        {},
        interval,
        t("DaysOfWeek", days.join(" ")),
        t("FirstDayOfWeek", first),
      );
  } else if (parts.FREQ === "MONTHLY" || parts.FREQ === "YEARLY") {
    const yearly = parts.FREQ === "YEARLY";
    if (yearly && (parts.INTERVAL ?? "1") !== "1") return null;
    const month = yearly ? t("Month", MONTHS[Number(parts.BYMONTH ?? wall.month) - 1]) : "";
    const nth = parts.BYDAY ? nthDay(parts) : null;
    if (parts.BYDAY && !nth) return null;
    const kind = `${nth ? "Relative" : "Absolute"}${yearly ? "Yearly" : "Monthly"}Recurrence`;
    pattern = nth
      ? el(
        `t:${kind}`,
        {},
        yearly ? "" : interval,
        t("DaysOfWeek", nth.day),
        t("DayOfWeekIndex", nth.index),
        month,
      )
      : el(
        `t:${kind}`,
        {},
        yearly ? "" : interval,
        t("DayOfMonth", parts.BYMONTHDAY ?? wall.day),
        month,
      );
  }
  if (!pattern) return null;
  const start = t("StartDate", xsDate(wall.toPlainDate(), fields.startTimeZone));
  const until = parts.UNTIL && RRule.parseString(`UNTIL=${parts.UNTIL}`).until;
  const range = parts.COUNT
    ? el("t:NumberedRecurrence", {}, start, t("NumberOfOccurrences", parts.COUNT))
    : until
    ? el(
      "t:EndDateRecurrence",
      {},
      start,
      t(
        "EndDate",
        xsDate(
          wallClock(until.getTime(), fields.startTimeZone).toPlainDate(),
          fields.startTimeZone,
        ),
      ),
    )
    : el("t:NoEndRecurrence", {}, start);
  return el("t:Recurrence", {}, pattern, range);
}

function value(parent: XmlElement, name: string): string {
  const found = child(parent, NS.t, name)?.text.trim();
  if (found === undefined || found === "") throw invalidRecurrence(`'${name}' is missing.`);
  return found;
}

function dayCodes(days: string): string {
  const names = days.split(/\s+/);
  if (names.some((name) => !DAYS.includes(name))) {
    throw invalidRecurrence(`'${days}' are not days of the week.`);
  }
  return names.map((name) => CODES[DAYS.indexOf(name)]).join(",");
}

/** The `BYDAY` of a relative pattern: one day with its ordinal. */
function relative(pattern: XmlElement): string {
  const index = INDEXES[value(pattern, "DayOfWeekIndex")];
  if (index === undefined) throw invalidRecurrence("'DayOfWeekIndex' is invalid.");
  return `BYDAY=${index}${dayCodes(value(pattern, "DaysOfWeek"))}`;
}

function month(pattern: XmlElement): string {
  const index = MONTHS.indexOf(value(pattern, "Month"));
  if (index < 0) throw invalidRecurrence("'Month' is invalid.");
  return `BYMONTH=${index + 1}`;
}

/**
 * Reads a `t:Recurrence` into an RRULE for a series whose fields are `fields` (its start
 * zone decides where an `EndDate` ends). The series starts at the item's own `Start`.
 */
export function readRecurrence(element: XmlElement, fields: ItemFields): string {
  const [pattern, range] = element.children;
  if (!pattern || !range) throw invalidRecurrence("a pattern and a range are required.");
  const interval = () => {
    const n = Number(value(pattern, "Interval"));
    if (!Number.isInteger(n) || n < 1) throw invalidRecurrence("'Interval' must be positive.");
    return `INTERVAL=${n}`;
  };
  const rule: string[] = [];
  switch (pattern.name) {
    case "DailyRecurrence":
      rule.push("FREQ=DAILY", interval());
      break;
    case "WeeklyRecurrence": {
      const first = child(pattern, NS.t, "FirstDayOfWeek")?.text.trim();
      rule.push("FREQ=WEEKLY", interval(), `BYDAY=${dayCodes(value(pattern, "DaysOfWeek"))}`);
      if (first) rule.push(`WKST=${dayCodes(first)}`);
      break;
    }
    case "AbsoluteMonthlyRecurrence":
      rule.push("FREQ=MONTHLY", interval(), `BYMONTHDAY=${value(pattern, "DayOfMonth")}`);
      break;
    case "RelativeMonthlyRecurrence":
      rule.push("FREQ=MONTHLY", interval(), relative(pattern));
      break;
    case "AbsoluteYearlyRecurrence":
      rule.push("FREQ=YEARLY", month(pattern), `BYMONTHDAY=${value(pattern, "DayOfMonth")}`);
      break;
    case "RelativeYearlyRecurrence":
      rule.push("FREQ=YEARLY", month(pattern), relative(pattern));
      break;
    default:
      throw invalidRecurrence(`'${pattern.name}' is not supported for calendar items.`);
  }
  if (range.name === "NumberedRecurrence") {
    rule.push(`COUNT=${value(range, "NumberOfOccurrences")}`);
  } else if (range.name === "EndDateRecurrence") {
    const date = Temporal.PlainDate.from(value(range, "EndDate").slice(0, 10));
    const end = instantOf(date.add({ days: 1 }).toPlainDateTime(), fields.startTimeZone) - 1000;
    rule.push(`UNTIL=${new Date(end).toISOString().replace(/[-:]|\.\d{3}/g, "")}`);
  } else if (range.name !== "NoEndRecurrence") {
    throw invalidRecurrence(`'${range.name}' is not a recurrence range.`);
  }
  return rule.join(";");
}
