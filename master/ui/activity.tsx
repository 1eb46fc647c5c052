/**
 * The dashboard's activity log: each destination's reconciles of the last day, newest
 * first, in the page's time zone. Runs in a row that found nothing to change share one
 * line, so that what wrote or failed stands out among the timer's quiet runs.
 *
 * @module
 */
import type { ActivityEntry, ActivityTrigger } from "../store/activity.ts";

/** How far back the dashboard shows the log. */
export const ACTIVITY_PAGE_HOURS = 24;

/** The most entries per destination the dashboard reads; the API has the rest. */
export const ACTIVITY_PAGE_LIMIT = 1000;

/** One destination's part of the log, newest first. */
export type DestinationActivity = { destination_id: string; entries: ActivityEntry[] };

/** What started a run, as the page says it. */
const TRIGGER_WORDS: Record<ActivityTrigger, string> = {
  startup: "master started",
  snapshot: "snapshot",
  removal: "admin removal",
  timer: "timer",
  admin: "admin",
  retry: "retry",
  lease: "lease free",
};

/** A run that wrote nothing, failed nothing and said nothing worth a line of its own. */
function quiet(e: ActivityEntry): boolean {
  return e.outcome === "completed" && e.error === null &&
    e.created + e.updated + e.deleted + e.failed === 0;
}

/** A row of the table: one entry, or several quiet ones in a row (newest first). */
type Row = { entry: ActivityEntry } | { quiet: ActivityEntry[] };

function rows(entries: ActivityEntry[]): Row[] {
  const out: Row[] = [];
  for (const entry of entries) {
    const last = out.at(-1);
    if (!quiet(entry)) out.push({ entry });
    else if (last && "quiet" in last) last.quiet.push(entry);
    else out.push({ quiet: [entry] });
  }
  return out;
}

/** "Tue 09:15:03" in `zone`, with the exact instant in the element. */
function At({ instant, zone }: { instant: string; zone: string }) {
  const text = new Intl.DateTimeFormat("en-GB", {
    timeZone: zone,
    weekday: "short",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  }).format(new Date(instant));
  return <time datetime={instant}>{text}</time>;
}

function seconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function EntryRow({ e, zone }: { e: ActivityEntry; zone: string }) {
  const bad = e.outcome !== "completed" || e.failed > 0;
  return (
    <tr data-activity={e.id} class={bad ? "failed" : ""}>
      <td>
        <At instant={e.started_at} zone={zone} />
      </td>
      <td>{e.trigger === null ? "?" : TRIGGER_WORDS[e.trigger]}</td>
      <td class="muted">{e.master_id}</td>
      <td>{seconds(e.took_ms)}</td>
      <td>{e.created}</td>
      <td>{e.updated}</td>
      <td>{e.deleted}</td>
      <td class={e.failed > 0 ? "bad" : ""}>{e.failed}</td>
      <td class={e.pending > 0 ? "warn" : ""}>{e.pending}</td>
      <td class="error">
        {e.outcome === "failed"
          ? <b>Failed:</b>
          : e.outcome === "not_contacted"
          ? <b>Not contacted:</b>
          : null} {e.error ?? ""}
      </td>
    </tr>
  );
}

function QuietRow({ runs, zone }: { runs: ActivityEntry[]; zone: string }) {
  const newest = runs[0];
  const oldest = runs.at(-1)!;
  const triggers = [
    ...new Set(runs.map((r) => r.trigger === null ? "?" : TRIGGER_WORDS[r.trigger])),
  ];
  return (
    <tr class="quiet muted" data-quiet={runs.length}>
      <td>
        {runs.length > 1
          ? (
            <>
              <At instant={oldest.started_at} zone={zone} />–
            </>
          )
          : null}
        <At instant={newest.started_at} zone={zone} />
      </td>
      <td>{triggers.join(", ")}</td>
      <td colspan={8}>
        {runs.length === 1 ? "1 run" : `${runs.length} runs`}, nothing to change
      </td>
    </tr>
  );
}

/** The activity section of the dashboard; nothing when no destination is configured. */
export function Activity(
  { activity, zone }: { activity: DestinationActivity[]; zone: string },
) {
  if (activity.length === 0) return null;
  return (
    <section id="activity">
      <h2>Activity, last {ACTIVITY_PAGE_HOURS} hours</h2>
      <p class="muted">
        Every reconcile of each destination, newest first; times in{" "}
        {zone}. GET /api/admin/activity has the last 7 days.
      </p>
      {activity.map(({ destination_id, entries }) => (
        <div class="activity" data-activity-destination={destination_id}>
          <h3>{destination_id}</h3>
          {entries.length === 0
            ? (
              <p class="muted">
                No reconcile of {destination_id} in the last {ACTIVITY_PAGE_HOURS}{" "}
                hours by any master.
              </p>
            )
            : (
              <table>
                <thead>
                  <tr>
                    <th>Started</th>
                    <th>Started by</th>
                    <th>Master</th>
                    <th>Took</th>
                    <th>Created</th>
                    <th>Updated</th>
                    <th>Deleted</th>
                    <th>Failed</th>
                    <th>Pending</th>
                    <th>Error</th>
                  </tr>
                </thead>
                <tbody>
                  {rows(entries).map((row) =>
                    "entry" in row
                      ? <EntryRow key={row.entry.id} e={row.entry} zone={zone} />
                      : <QuietRow key={row.quiet[0].id} runs={row.quiet} zone={zone} />
                  )}
                </tbody>
              </table>
            )}
          {entries.length === ACTIVITY_PAGE_LIMIT
            ? <p class="muted">The newest {ACTIVITY_PAGE_LIMIT} runs; the API has the rest.</p>
            : null}
        </div>
      ))}
    </section>
  );
}
