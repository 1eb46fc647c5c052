/**
 * The week and month views of the consolidated calendar, drawn from a laid-out
 * {@link CalendarView}: plain HTML and CSS, no script.
 *
 * @module
 */
import type { CalendarView, PlacedEvent, SourceKey } from "./calendar_view.ts";
import { SOURCE_COLOURS } from "./style.ts";

const DAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

function colour(index: number): string {
  return SOURCE_COLOURS[index % SOURCE_COLOURS.length];
}

/** A meeting held by several sources is striped in all their colours. */
function background(e: PlacedEvent): string {
  if (e.sources.length === 1) return colour(e.sources[0]);
  const step = 100 / e.sources.length;
  const stops = e.sources.map((s, i) => `${colour(s)} ${i * step}% ${(i + 1) * step}%`);
  return `linear-gradient(90deg, ${stops.join(", ")})`;
}

function tooltip(e: PlacedEvent, sources: SourceKey[]): string {
  const when = e.all_day ? "all day" : `${e.from}–${e.to}`;
  const from = e.sources.map((i) => `${sources[i].agent_id}/${sources[i].source_id}`).join(", ");
  return [`${e.title || "(no title)"}`, when, e.location, `from ${from}`]
    .filter((s) => s !== "").join("\n");
}

function Chip({ e, sources }: { e: PlacedEvent; sources: SourceKey[] }) {
  return (
    <span
      class={e.tentative ? "chip tentative" : "chip"}
      style={`background:${background(e)}`}
      title={tooltip(e, sources)}
    >
      {e.all_day ? "" : `${e.from} `}
      {e.title || "(no title)"}
    </span>
  );
}

/** Links and a form that keep the view, date and time zone in the address. */
function ViewControls({ view, query }: { view: CalendarView; query: (p: object) => string }) {
  return (
    <div class="cal-head">
      <h2>
        {view.title} <span class="muted">({view.zone})</span>
      </h2>
      <a class="button" href={query({ date: view.previous })}>‹ Previous</a>
      <a class="button" href={query({ date: "" })}>Today</a>
      <a class="button" href={query({ date: view.next })}>Next ›</a>
      <a class={view.mode === "week" ? "button primary" : "button"} href={query({ view: "week" })}>
        Week
      </a>
      <a
        class={view.mode === "month" ? "button primary" : "button"}
        href={query({ view: "month" })}
      >
        Month
      </a>
      <form method="get" action="/" class="inline">
        <input type="hidden" name="view" value={view.mode} />
        <input type="hidden" name="date" value={view.anchor} />
        <label>
          Time zone <input type="text" name="tz" value={view.zone} list="zones" size={18} />
        </label>
        <datalist id="zones">
          {Intl.supportedValuesOf("timeZone").map((z) => <option key={z} value={z} />)}
        </datalist>
        <button type="submit">Show</button>
      </form>
    </div>
  );
}

function Legend({ sources }: { sources: SourceKey[] }) {
  if (sources.length === 0) return <p class="muted">No events in this period.</p>;
  return (
    <div class="legend">
      {sources.map((s, i) => (
        <span>
          <span class="swatch" style={`background:${colour(i)}`} />
          {s.agent_id} / {s.source_id}
        </span>
      ))}
    </div>
  );
}

function Week({ view }: { view: CalendarView }) {
  return (
    <div class="week">
      <div class="dayname" />
      {view.days.map((d, i) => (
        <div class={d.today ? "dayname today" : "dayname"}>
          {DAY_NAMES[i]} {d.date.slice(8)}
        </div>
      ))}
      <div class="allday muted">all day</div>
      {view.days.map((d) => (
        <div class="allday">
          {d.all_day.map((e, i) => <Chip key={i} e={e} sources={view.sources} />)}
        </div>
      ))}
      <div class="hours">
        {Array.from({ length: 24 }, (_, h) => (
          <span class="hour" style={`top:${(h * 100) / 24}%`}>
            {String(h).padStart(2, "0")}:00
          </span>
        ))}
      </div>
      {view.days.map((d) => (
        <div class="col" data-date={d.date}>
          {d.timed.map((e) => (
            <div
              class={e.tentative ? "event tentative" : "event"}
              style={`top:${e.top.toFixed(3)}%;height:max(${e.height.toFixed(3)}%,1.1rem);` +
                `left:${(e.lane * 100) / e.lanes}%;width:${100 / e.lanes}%;` +
                `background:${background(e)}`}
              title={tooltip(e, view.sources)}
            >
              {e.from} {e.title || "(no title)"}
            </div>
          ))}
        </div>
      ))}
    </div>
  );
}

function Month({ view }: { view: CalendarView }) {
  const shown = 4;
  return (
    <div class="month">
      {DAY_NAMES.map((n) => <div key={n} class="dayname">{n}</div>)}
      {view.days.map((d) => {
        const events = [...d.all_day, ...d.timed.toSorted((a, b) => a.top - b.top)];
        return (
          <div
            class={["cell", d.in_range ? "" : "out", d.today ? "today" : ""].join(" ").trim()}
            data-date={d.date}
          >
            <span class="num">{Number(d.date.slice(8))}</span>
            {events.slice(0, shown).map((e, i) => <Chip key={i} e={e} sources={view.sources} />)}
            {events.length > shown
              ? <span class="muted">+{events.length - shown} more</span>
              : null}
          </div>
        );
      })}
    </div>
  );
}

/** The calendar section: controls, legend and the grid of the view's mode. */
export function Calendar(
  { view, query }: { view: CalendarView; query: (p: object) => string },
) {
  return (
    <section id="calendar">
      <ViewControls view={view} query={query} />
      <Legend sources={view.sources} />
      {view.mode === "week" ? <Week view={view} /> : <Month view={view} />}
    </section>
  );
}
