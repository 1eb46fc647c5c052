/**
 * Microsoft 365 benchmark: 2,000 occurrences synced by a master process into a mailbox of
 * the Graph stand-in, then an unchanged resync and one changed event; HTTP requests to
 * Graph (a `$batch` counts once, tokens apart) and the writes inside them.
 *
 * @module
 */
import { startFakeGraph } from "../tests/fakes/graph/mod.ts";
import type { RequestKind } from "../tests/fakes/graph/context.ts";
import type { Figure } from "./ingest.ts";
import { occurrences, startPushingMaster } from "./pushing_master.ts";

const COUNT = 2000;
const MAILBOX = "calendar@contoso.com";
const WRITES: RequestKind[] = ["createEvent", "updateEvent", "deleteEvent"];

/** Runs the Microsoft 365 benchmark and returns its figures, with request counts as notes. */
export async function microsoft365Benchmark(): Promise<{ figures: Figure[]; notes: string[] }> {
  await using graph = await startFakeGraph();
  const app = graph.addApp({ permissions: ["Calendars.ReadWrite", "MailboxSettings.Read"] });
  graph.addMailbox(MAILBOX, { timeZone: "W. Europe Standard Time" });
  const file = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.writeTextFile(
    file,
    JSON.stringify([{
      id: "m365",
      type: "microsoft365",
      tenant_id: graph.tenantId,
      client_id: app.clientId,
      client_secret: "env:BENCH_GRAPH_SECRET",
      authority: graph.origin,
      graph_url: graph.origin,
      mailbox: MAILBOX,
    }]),
  );
  try {
    await using pushing = await startPushingMaster({
      DESTINATIONS_FILE: file,
      BENCH_GRAPH_SECRET: app.secret,
    });
    const counted = async () => {
      graph.resetRequests();
      const { ms } = await pushing.reconcile();
      const http: Record<string, number> = {};
      let writes = 0;
      let tokens = 0;
      for (const r of graph.requests) {
        if (r.kind === "token") tokens++;
        else if (r.batch === null) http[r.kind] = (http[r.kind] ?? 0) + 1;
        if (WRITES.includes(r.kind)) writes++;
      }
      return { ms, http, writes, tokens };
    };
    const total = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
    const describe = (c: { http: Record<string, number>; writes: number; tokens: number }) =>
      `${
        Object.entries(c.http).sort().map(([kind, n]) => `${kind} ${n}`).join(", ")
      }; ${c.writes} writes inside; ${c.tokens} token requests`;

    // Reconciling the empty calendar first (the master's start-up run, then an admin's)
    // opens the destination (token, mailbox settings), starts the delta round and lists
    // it; counted apart from the first sync.
    await pushing.reconcile();
    const startup = graph.requests.filter((r) => r.batch === null).map((r) => r.kind);
    await pushing.push(occurrences(COUNT, (i) => `Event ${i}`));
    const first = await counted();
    const unchanged = await counted();
    await pushing.push(occurrences(COUNT, (i) => i === 7 ? "Event 7 (moved)" : `Event ${i}`));
    const changed = await counted();
    return {
      figures: [
        { name: `first sync of ${COUNT} occurrences`, value: first.ms / 1000, unit: "s" },
        {
          name: "first sync: HTTP requests to Graph",
          value: total(first.http),
          unit: "",
          target: COUNT / 20 + 5,
          atMost: true,
        },
        {
          name: "first sync: creates (in $batch requests of 20)",
          value: first.writes,
          unit: "",
          target: COUNT,
          exact: true,
        },
        { name: "unchanged resync: wall time", value: unchanged.ms, unit: "ms" },
        {
          name: "unchanged resync: HTTP requests to Graph",
          value: total(unchanged.http),
          unit: "",
          target: 1,
          exact: true,
        },
        {
          name: "one changed event: writes",
          value: changed.writes,
          unit: "",
          target: 1,
          exact: true,
        },
        {
          name: "one changed event: HTTP requests (delta, $batch, delta)",
          value: total(changed.http),
          unit: "",
          target: 3,
          exact: true,
        },
      ],
      notes: [
        `before the first sync (start-up): ${startup.join(", ")}`,
        `first sync: ${describe(first)}`,
        `unchanged resync: ${describe(unchanged)}`,
        `one changed event: ${describe(changed)}`,
      ],
    };
  } finally {
    await Deno.remove(file);
  }
}
