/**
 * Series expansion of a `patternedRecurrence` (the pattern and range of "patternedRecurrence
 * resource type", https://learn.microsoft.com/en-us/graph/api/resources/patternedrecurrence?view=graph-rest-1.0):
 * occurrences fall at the series' wall-clock start time in its start zone (09:00 Berlin
 * stays 09:00 across a DST change), from `range.startDate` until `range.endDate`
 * (inclusive), for `numberOfOccurrences`, or without end.
 *
 * @module
 */
import type { PatternedRecurrence } from "@microsoft/microsoft-graph-types";
import rrulePkg from "rrule";
import { badRequest } from "./errors.ts";
import { instantOfWall } from "./zones.ts";

const { RRule } = rrulePkg;
type Weekday = InstanceType<typeof rrulePkg.Weekday>;
const DAY_MS = 86_400_000;

const WEEKDAYS: Record<string, Weekday> = {
  monday: RRule.MO,
  tuesday: RRule.TU,
  wednesday: RRule.WE,
  thursday: RRule.TH,
  friday: RRule.FR,
  saturday: RRule.SA,
  sunday: RRule.SU,
};
const INDEX: Record<string, number> = { first: 1, second: 2, third: 3, fourth: 4, last: -1 };

/** `rrule` expands in floating time: a wall clock kept in a Date's UTC fields. */
function floating(wall: Temporal.PlainDateTime): Date {
  return new Date(Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute));
}

function unfloat(date: Date): Temporal.PlainDateTime {
  return Temporal.PlainDateTime.from(date.toISOString().slice(0, 19));
}

function days(pattern: NonNullable<PatternedRecurrence["pattern"]>): Weekday[] {
  const list = pattern.daysOfWeek ?? [];
  if (list.length === 0) throw badRequest("The recurrence pattern needs daysOfWeek.");
  return list.map((day) => WEEKDAYS[day]);
}

/** The rule of a series whose first occurrence starts at `wallStart` (in the series' zone). */
function ruleOf(recurrence: PatternedRecurrence, wallStart: Temporal.PlainTime) {
  const { pattern, range } = recurrence;
  if (!pattern?.type || !range?.type || !range.startDate) {
    throw badRequest("The recurrence needs a pattern type, a range type and a range startDate.");
  }
  const startDate = Temporal.PlainDate.from(range.startDate);
  const options: Partial<ConstructorParameters<typeof RRule>[0]> = {
    interval: pattern.interval ?? 1,
    dtstart: floating(startDate.toPlainDateTime(wallStart)),
    wkst: WEEKDAYS[pattern.firstDayOfWeek ?? "sunday"],
  };
  const index = INDEX[pattern.index ?? "first"];
  switch (pattern.type) {
    case "daily":
      options.freq = RRule.DAILY;
      break;
    case "weekly":
      options.freq = RRule.WEEKLY;
      options.byweekday = days(pattern);
      break;
    case "absoluteMonthly":
      options.freq = RRule.MONTHLY;
      options.bymonthday = pattern.dayOfMonth ?? startDate.day;
      break;
    case "relativeMonthly":
      options.freq = RRule.MONTHLY;
      options.byweekday = days(pattern).map((day) => day.nth(index));
      break;
    case "absoluteYearly":
      options.freq = RRule.YEARLY;
      options.bymonth = pattern.month ?? startDate.month;
      options.bymonthday = pattern.dayOfMonth ?? startDate.day;
      break;
    case "relativeYearly":
      options.freq = RRule.YEARLY;
      options.bymonth = pattern.month ?? startDate.month;
      options.byweekday = days(pattern).map((day) => day.nth(index));
      break;
  }
  if (range.type === "endDate") {
    if (!range.endDate) throw badRequest("A recurrence range of type endDate needs endDate.");
    options.until = floating(Temporal.PlainDate.from(range.endDate).toPlainDateTime("23:59"));
  } else if (range.type === "numbered") {
    if (!range.numberOfOccurrences) {
      throw badRequest("A recurrence range of type numbered needs numberOfOccurrences.");
    }
    options.count = range.numberOfOccurrences;
  }
  return new RRule(options);
}

/** Checks a recurrence as Graph does on create and update (400 when unusable). */
export function validateRecurrence(recurrence: PatternedRecurrence): void {
  ruleOf(recurrence, Temporal.PlainTime.from("00:00"));
}

/**
 * The original starts (epoch ms) of a series' occurrences that start in
 * `[fromMs - durationMs, toMs)`, i.e. that may overlap `[fromMs, toMs)`.
 */
export function occurrenceStarts(
  recurrence: PatternedRecurrence,
  wallStart: Temporal.PlainTime,
  zone: string,
  fromMs: number,
  toMs: number,
  durationMs: number,
): number[] {
  // Widened by two days on each side: floating times differ from instants by the offset.
  return ruleOf(recurrence, wallStart)
    .between(new Date(fromMs - durationMs - 2 * DAY_MS), new Date(toMs + 2 * DAY_MS), true)
    .map((date) => instantOfWall(unfloat(date), zone))
    .filter((start) => start < toMs && start + durationMs > fromMs);
}
