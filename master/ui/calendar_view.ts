/**
 * The week and month views of the management page as plain data: which days to draw,
 * and where each occurrence sits on them in the viewer's time zone. Pure code, so the
 * layout rules (DST days, all-day dates never shifted, overlapping meetings side by
 * side) are tested without a browser.
 *
 * @module
 */
import { occurrenceKey } from "../../shared/model.ts";
import type { StoredEvent } from "../../shared/protocol.ts";
import { addDays } from "../../shared/time.ts";
import { zonedToUtc } from "../../shared/timezones.ts";

/** Which view to draw. */
export type CalendarMode = "week" | "month";

/** A source as the legend shows it: its colour index is stable for the page. */
export type SourceKey = { agent_id: string; source_id: string };

/** One occurrence placed on one day; a meeting several sources hold is drawn once. */
export type PlacedEvent = {
  title: string;
  location: string;
  /** Local start and end as `HH:MM` (empty for all-day events). */
  from: string;
  to: string;
  /** Indexes into `CalendarView.sources` of every source holding this occurrence. */
  sources: number[];
  all_day: boolean;
  /** Vertical placement inside the day column, in percent of 24 hours. */
  top: number;
  height: number;
  /** Side-by-side placement among overlapping events: column `lane` of `lanes`. */
  lane: number;
  lanes: number;
  tentative: boolean;
};

/** One drawn day. */
export type CalendarDay = {
  /** The local date, `YYYY-MM-DD`. */
  date: string;
  /** False for the days of a month view that belong to the months around it. */
  in_range: boolean;
  today: boolean;
  all_day: PlacedEvent[];
  timed: PlacedEvent[];
};

/** A laid-out view. */
export type CalendarView = {
  mode: CalendarMode;
  zone: string;
  /** The date the view was asked for, and those of the previous and next views. */
  anchor: string;
  previous: string;
  next: string;
  /** What the header says, e.g. "23 Nov – 29 Nov 2026" or "November 2026". */
  title: string;
  days: CalendarDay[];
  sources: SourceKey[];
};

/** The instants a view covers, to query the store with. */
export type ViewRange = { start: string; end: string; days: string[] };

const DAY_MS = 86_400_000;

/** The local date of an instant in a zone, `YYYY-MM-DD`. */
export function localDate(instant: Date, zone: string): string {
  return new Intl.DateTimeFormat("en-CA", {
    timeZone: zone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).format(instant);
}

function weekday(date: string): number {
  // 0 = Monday: ISO weeks, as most calendars outside the US start them.
  return (new Date(`${date}T00:00:00Z`).getUTCDay() + 6) % 7;
}

function midnight(date: string, zone: string): number {
  const [year, month, day] = date.split("-").map(Number);
  return zonedToUtc({ year, month, day, hour: 0, minute: 0, second: 0 }, zone).getTime();
}

function shiftMonth(date: string, months: number): string {
  const d = new Date(`${date.slice(0, 7)}-01T00:00:00Z`);
  d.setUTCMonth(d.getUTCMonth() + months);
  return d.toISOString().slice(0, 10);
}

/** The days a view of `mode` around `anchor` shows, and the instants to query for them. */
export function viewRange(mode: CalendarMode, anchor: string, zone: string): ViewRange {
  let first: string;
  let count: number;
  if (mode === "week") {
    first = addDays(anchor, -weekday(anchor));
    count = 7;
  } else {
    const monthStart = `${anchor.slice(0, 7)}-01`;
    first = addDays(monthStart, -weekday(monthStart));
    const nextMonth = shiftMonth(anchor, 1);
    const weeks = Math.ceil((Date.parse(nextMonth) - Date.parse(first)) / (7 * DAY_MS));
    count = weeks * 7;
  }
  const days = Array.from({ length: count }, (_, i) => addDays(first, i));
  const end = addDays(first, count);
  // All-day dates count from UTC midnight in the store, up to 14 hours away from local
  // midnight: a day of margin each side catches them, and placement filters exactly.
  return {
    start: new Date(midnight(first, zone) - DAY_MS).toISOString(),
    end: new Date(midnight(end, zone) + DAY_MS).toISOString(),
    days,
  };
}

/** A `HH:MM` formatter for `zone`: built once per layout, as building one is costly. */
function hhmmIn(zone: string): (ms: number) => string {
  const format = new Intl.DateTimeFormat("en-GB", {
    timeZone: zone,
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  });
  return (ms) => format.format(ms);
}

function titleOf(mode: CalendarMode, days: string[], anchor: string): string {
  const long = (date: string, parts: Intl.DateTimeFormatOptions) =>
    new Intl.DateTimeFormat("en-GB", { timeZone: "UTC", ...parts }).format(
      new Date(`${date}T00:00:00Z`),
    );
  if (mode === "month") return long(anchor, { month: "long", year: "numeric" });
  const first = days[0];
  const last = days[days.length - 1];
  return `${long(first, { day: "numeric", month: "short" })} – ${
    long(last, { day: "numeric", month: "short", year: "numeric" })
  }`;
}

/** A timed event placed on a day, with its exact bounds on that day in epoch ms. */
type Span = { placed: PlacedEvent; from: number; to: number };

/**
 * Gives overlapping timed events of one day side-by-side lanes and returns them in start
 * order. Overlap is decided on the exact instants, not on the percentages: 10/24 + 1/24
 * of a day in floating point is a hair more than 11/24, which would put back-to-back
 * meetings side by side.
 */
function assignLanes(spans: Span[]): PlacedEvent[] {
  spans.sort((a, b) => a.from - b.from || b.to - a.to);
  let cluster: PlacedEvent[] = [];
  let clusterEnd = -Infinity;
  const laneEnds: number[] = [];
  const close = () => {
    for (const e of cluster) e.lanes = laneEnds.length;
    cluster = [];
    laneEnds.length = 0;
  };
  for (const { placed, from, to } of spans) {
    if (from >= clusterEnd) close();
    let lane = laneEnds.findIndex((end) => end <= from);
    if (lane === -1) lane = laneEnds.push(0) - 1;
    // A zero-length event still occupies its instant.
    laneEnds[lane] = Math.max(to, from + 1);
    placed.lane = lane;
    cluster.push(placed);
    clusterEnd = Math.max(clusterEnd, laneEnds[lane]);
  }
  close();
  return spans.map((s) => s.placed);
}

/**
 * Lays out `events` (as the store lists them, one row per source) on the days of the
 * view. Cancelled occurrences are left out, as they are left out of destinations.
 */
export function layoutCalendar(
  mode: CalendarMode,
  anchor: string,
  zone: string,
  events: readonly StoredEvent[],
  now: Date,
): CalendarView {
  const range = viewRange(mode, anchor, zone);
  const sources: SourceKey[] = [];
  const sourceIndex = new Map<string, number>();
  const byKey = new Map<string, { event: StoredEvent; sources: number[] }>();
  const sorted = events.toSorted((a, b) =>
    a.agent_id.localeCompare(b.agent_id) || a.source_id.localeCompare(b.source_id)
  );
  for (const e of sorted) {
    if (e.status === "cancelled") continue;
    const sourceId = JSON.stringify([e.agent_id, e.source_id]);
    let index = sourceIndex.get(sourceId);
    if (index === undefined) {
      index = sources.push({ agent_id: e.agent_id, source_id: e.source_id }) - 1;
      sourceIndex.set(sourceId, index);
    }
    const key = occurrenceKey(e);
    const known = byKey.get(key);
    if (known) {
      if (!known.sources.includes(index)) known.sources.push(index);
    } else byKey.set(key, { event: e, sources: [index] });
  }

  const today = localDate(now, zone);
  const inMonth = anchor.slice(0, 7);
  const days: CalendarDay[] = range.days.map((date) => ({
    date,
    in_range: mode === "week" || date.startsWith(inMonth),
    today: date === today,
    all_day: [],
    timed: [],
  }));
  const spans: Span[][] = days.map(() => []);
  // Local midnights of every drawn day, and the day after the last: each day's bounds.
  const midnights = [...range.days, addDays(range.days[range.days.length - 1], 1)]
    .map((date) => midnight(date, zone));
  const bounds = range.days.map((_, i) => [midnights[i], midnights[i + 1]] as const);
  const hhmm = hhmmIn(zone);

  for (const { event, sources: held } of byKey.values()) {
    const base = {
      title: event.title,
      location: event.location,
      sources: held,
      all_day: event.all_day,
      lane: 0,
      lanes: 1,
      tentative: event.show_as === "tentative" || event.status === "tentative",
    };
    if (event.all_day) {
      // Plain dates: the same day in every zone, end exclusive.
      const last = event.end > event.start ? addDays(event.end, -1) : event.start;
      for (const day of days) {
        if (day.date >= event.start && day.date <= last) {
          day.all_day.push({ ...base, from: "", to: "", top: 0, height: 0 });
        }
      }
      continue;
    }
    const start = Date.parse(event.start);
    const end = Math.max(Date.parse(event.end), start);
    for (const [i, [dayStart, dayEnd]] of bounds.entries()) {
      const touches = start < dayEnd && (end > dayStart || (start === end && start >= dayStart));
      if (!touches) continue;
      // A DST day is 23 or 25 hours long: positions are fractions of that day.
      const length = dayEnd - dayStart;
      const from = Math.max(start, dayStart);
      const to = Math.min(end, dayEnd);
      const placed: PlacedEvent = {
        ...base,
        from: hhmm(start),
        to: hhmm(end),
        top: ((from - dayStart) / length) * 100,
        height: ((to - from) / length) * 100,
      };
      spans[i].push({ placed, from, to });
    }
  }
  for (const [i, day] of days.entries()) {
    day.all_day.sort((a, b) => a.title.localeCompare(b.title));
    day.timed = assignLanes(spans[i]);
  }

  const step = (n: number) => mode === "week" ? addDays(anchor, 7 * n) : shiftMonth(anchor, n);
  return {
    mode,
    zone,
    anchor,
    previous: step(-1),
    next: step(1),
    title: titleOf(mode, range.days, anchor),
    days,
    sources,
  };
}
