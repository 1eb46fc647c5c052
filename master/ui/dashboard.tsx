/**
 * The dashboard: agents and their sources, destinations, feeds and read tokens, and the
 * calendar, each row with the actions that apply to it.
 *
 * @module
 */
import type { SourceStatus, SyncStatus } from "../../shared/protocol.ts";
import type { CredentialRecord } from "../store/types.ts";
import { Activity, type DestinationActivity } from "./activity.tsx";
import { Calendar } from "./calendar.tsx";
import type { CalendarView } from "./calendar_view.ts";
import { Page } from "./layout.tsx";

/** Everything the dashboard shows. */
export type DashboardData = {
  csrf: string;
  status: SyncStatus;
  feeds: CredentialRecord[];
  readTokens: CredentialRecord[];
  view: CalendarView;
  now: Date;
  /** Each configured destination's reconciles of the last day, newest first. */
  activity: DestinationActivity[];
  /** A confirmation of the action just done, in plain words. */
  notice: string | null;
  /** Builds the address of the dashboard with some calendar parameters changed. */
  query: (p: object) => string;
};

/** Seconds between automatic reloads of the dashboard. */
export const DASHBOARD_REFRESH_S = 30;

/** "3 min ago" for an instant, in the coarsest unit that is still precise enough. */
export function ago(instant: string | null, now: Date): string {
  if (instant === null) return "never";
  const s = Math.round((now.getTime() - Date.parse(instant)) / 1000);
  if (s < 0) return "just now";
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400 * 2) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} days ago`;
}

function When({ instant, now, zone }: { instant: string | null; now: Date; zone: string }) {
  if (instant === null) return <span class="muted">never</span>;
  const exact = new Intl.DateTimeFormat("en-GB", {
    timeZone: zone,
    dateStyle: "medium",
    timeStyle: "medium",
  }).format(new Date(instant));
  return <time datetime={instant} title={`${exact} (${zone})`}>{ago(instant, now)}</time>;
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

/**
 * What the agent repaired or skipped reading a source: "3 warnings", opening to the count
 * per reason and the sample messages. Nothing when there were none.
 */
function Warnings({ source }: { source: SourceStatus }) {
  const { count, by_reason, samples } = source.warnings;
  if (count === 0) return null;
  const skipped = by_reason["event-skipped"] ?? 0;
  return (
    <details class="warnings" data-warnings={count}>
      <summary class={skipped > 0 ? "bad" : "warn"}>
        {count === 1 ? "1 warning" : `${count} warnings`}
        {skipped > 0 ? ` (${skipped} event${skipped === 1 ? "" : "s"} skipped)` : ""}
      </summary>
      <ul class="reasons">
        {Object.entries(by_reason).map(([reason, n]) => (
          <li data-reason={reason}>
            <code>{reason}</code> {n}
          </li>
        ))}
      </ul>
      <ol class="samples">
        {samples.map((w) => (
          <li>
            <code>{w.reason}</code>
            {w.line === null ? null : <span class="muted">line {w.line}</span>} {w.message}
          </li>
        ))}
      </ol>
      {count > samples.length
        ? <p class="muted">The first {samples.length} of {count}; the agent's log has them all.</p>
        : null}
    </details>
  );
}

function Agents({ d }: { d: DashboardData }) {
  const { agents } = d.status;
  const zone = d.view.zone;
  return (
    <section id="agents">
      <h2>Agents</h2>
      {agents.length === 0
        ? (
          <p class="muted">
            No agent has registered yet. Set one up with the enrollment token (README, "Agents").
          </p>
        )
        : (
          <table>
            <thead>
              <tr>
                <th>Agent / source</th>
                <th>Status</th>
                <th>Events</th>
                <th>Last seen / last sync</th>
                <th>Version, environment / last error</th>
                <th>Actions</th>
              </tr>
            </thead>
            <tbody>
              {agents.map((a) => (
                <>
                  <tr class="agent" data-agent={a.agent_id}>
                    <td>
                      <b>{a.agent_name}</b> <span class="muted">{a.agent_id}</span>
                    </td>
                    <td>
                      {a.online ? <span class="ok">online</span> : <span class="bad">offline</span>}
                    </td>
                    <td>{a.sources.reduce((n, s) => n + s.event_count, 0)}</td>
                    <td>
                      <When instant={a.last_seen} now={d.now} zone={zone} />
                    </td>
                    <td>
                      {a.version || "?"}
                      {a.environment ? <span class="muted">· {a.environment}</span> : null}
                    </td>
                    <td class="actions">
                      <a class="button" href={`/ui/agents/${enc(a.agent_id)}/reset`}>
                        Reset credentials
                      </a>
                      <a class="button" href={`/ui/agents/${enc(a.agent_id)}/remove`}>
                        Remove agent
                      </a>
                    </td>
                  </tr>
                  {a.sources.map((s) => (
                    <tr class="source" data-source={`${a.agent_id}/${s.source_id}`}>
                      <td>
                        {s.name} <span class="muted">{s.source_id} · {s.type}</span>
                      </td>
                      <td>
                        {s.last_error
                          ? <span class="bad">error</span>
                          : s.last_snapshot_at
                          ? <span class="ok">ok</span>
                          : <span class="warn">waiting</span>}
                      </td>
                      <td>{s.event_count}</td>
                      <td>
                        <When instant={s.last_snapshot_at} now={d.now} zone={zone} />
                      </td>
                      <td class="error">
                        {s.last_error ?? ""}
                        <Warnings source={s} />
                      </td>
                      <td class="actions">
                        <a
                          class="button"
                          href={`/ui/agents/${enc(a.agent_id)}/sources/${enc(s.source_id)}/remove`}
                        >
                          Remove source
                        </a>
                      </td>
                    </tr>
                  ))}
                </>
              ))}
            </tbody>
          </table>
        )}
    </section>
  );
}

function Destinations({ d }: { d: DashboardData }) {
  const { destinations } = d.status;
  return (
    <section id="destinations">
      <h2>Destinations</h2>
      {destinations.length === 0
        ? (
          <p class="muted">
            No destination is configured; events are served only as ICS feeds. Set CALDAV_URL,
            EXCHANGE_SERVER_URL or DESTINATIONS_FILE (README, "Destinations").
          </p>
        )
        : (
          <table>
            <thead>
              <tr>
                <th>Destination</th>
                <th>Last reconcile</th>
                <th>Items</th>
                <th>Pending</th>
                <th>Last error</th>
              </tr>
            </thead>
            <tbody>
              {destinations.map((x) => (
                <tr data-destination={x.id}>
                  <td>
                    <b>{x.id}</b> <span class="muted">{x.type} · {x.url}</span>
                  </td>
                  <td>
                    <When instant={x.last_reconcile_at} now={d.now} zone={d.view.zone} />
                  </td>
                  <td>{x.item_count}</td>
                  <td class={x.pending > 0 ? "warn" : ""}>{x.pending}</td>
                  <td class="error">
                    {x.last_error ?? ""}
                    {x.refused_until && (
                      <p>
                        The server refused the credentials; calsync tries no login before{" "}
                        <When instant={x.refused_until} now={d.now} zone={d.view.zone} />.{" "}
                        <a class="button" href={`/ui/destinations/${x.id}/retry`}>Retry now</a>
                      </p>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      <p>
        <a class="button" href="/ui/reconcile">Reconcile now</a>{" "}
        <a class="button" href="/ui/strays">Delete stray items…</a>
      </p>
    </section>
  );
}

function Credentials(
  { d, kind, records }: {
    d: DashboardData;
    kind: "feeds" | "read-tokens";
    records: CredentialRecord[];
  },
) {
  const feeds = kind === "feeds";
  return (
    <section id={kind}>
      <h2>{feeds ? "ICS feeds" : "Read tokens for web apps"}</h2>
      <p class="muted">
        {feeds
          ? "Each feed has its own secret address that calendar apps can subscribe to."
          : "A read token can only read events (GET /api/events), for the CalendarClient of a web app."}
      </p>
      {records.length > 0
        ? (
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Created</th>
                <th></th>
              </tr>
            </thead>
            <tbody>
              {records.map((r) => (
                <tr data-credential={r.credential_id}>
                  <td>{r.name}</td>
                  <td>
                    <When instant={r.created_at} now={d.now} zone={d.view.zone} />
                  </td>
                  <td>
                    <a class="button" href={`/ui/${kind}/${enc(r.credential_id)}/revoke`}>Revoke</a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )
        : null}
      <form method="get" action={`/ui/${kind}/new`} class="inline">
        <input type="text" name="name" required maxlength={256} placeholder="Name" />
        <button type="submit">{feeds ? "Create feed…" : "Create read token…"}</button>
      </form>
    </section>
  );
}

const MEASURES = { sqlite_file: "database file", redis_used_memory: "Redis used_memory" };

/** Bytes in the largest unit that keeps them at 1 or more, with one decimal: `4.2 MB`. */
export function formatBytes(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** The store line: occurrences held and bytes taken, named by how they were measured. */
function StoreSize({ store }: { store: NonNullable<SyncStatus["store"]> }) {
  return (
    <span class="store-size">
      store: <b>{store.occurrences}</b> occurrences, <b>{formatBytes(store.bytes)}</b>{" "}
      ({MEASURES[store.measure]})
    </span>
  );
}

/** The dashboard page. */
export function Dashboard({ d }: { d: DashboardData }) {
  const { totals, agents } = d.status;
  const online = agents.filter((a) => a.online).length;
  const problems = agents.flatMap((a) => a.sources).filter((s) => s.last_error).length +
    d.status.destinations.filter((x) => x.last_error).length;
  return (
    <Page
      title="Dashboard"
      csrf={d.csrf}
      refresh={{ seconds: DASHBOARD_REFRESH_S, url: d.query({}) }}
    >
      {d.notice ? <p class="notice" role="status">{d.notice}</p> : null}
      <div class="totals">
        <span>
          <b>{online}/{totals.agents}</b> agents online
        </span>
        <span>
          <b>{totals.sources}</b> sources
        </span>
        <span>
          <b>{totals.events}</b> events
        </span>
        {d.status.store ? <StoreSize store={d.status.store} /> : null}
        <span>
          <b class={problems > 0 ? "bad" : "ok"}>{problems}</b> errors
        </span>
      </div>
      <Agents d={d} />
      <Destinations d={d} />
      <Activity activity={d.activity} zone={d.view.zone} />
      <Calendar view={d.view} query={d.query} />
      <Credentials d={d} kind="feeds" records={d.feeds} />
      <Credentials d={d} kind="read-tokens" records={d.readTokens} />
    </Page>
  );
}
