/**
 * Microsoft 365 benchmark: 2,000 occurrences synced by a master process into a mailbox of
 * the Graph stand-in, then an unchanged resync and one changed event; HTTP requests to
 * Graph (a `$batch` counts once, tokens apart) and the writes inside them. And the other
 * side: the agent's `microsoft365` source reading 2,000 occurrences, then again unchanged.
 *
 * @module
 */
import { createMicrosoft365Source, Microsoft365Settings } from "../agent/sources/microsoft365.ts";
import { startFakeGraph } from "../tests/fakes/graph/mod.ts";
import { httpRequests, openM365Destination } from "../tests/helpers/m365_destination.ts";
import { destinationItem } from "../tests/master/destination_contract.ts";
import { reconcileDestination } from "../master/sync/reconcile.ts";
import { SqliteStore } from "../master/store/sqlite.ts";
import { memoryLogger } from "../master/log.ts";
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
    const cold = await coldFirstSync();
    const source = await sourceReading();
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
        {
          name: "cold first sync, opening included (in-process): HTTP requests",
          value: cold.requests,
          unit: "",
          target: COUNT / 20 + 5,
          atMost: true,
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
        {
          name: `source reading ${COUNT} occurrences: wall time`,
          value: source.firstMs,
          unit: "ms",
        },
        {
          name: `source reading ${COUNT} occurrences: Graph requests`,
          value: source.first,
          unit: "",
          target: COUNT / 20 + 5,
          atMost: true,
        },
        {
          name: "source reading again, unchanged: Graph requests",
          value: source.again,
          unit: "",
          target: 1,
          exact: true,
        },
      ],
      notes: [
        `before the first sync (start-up): ${startup.join(", ")}`,
        `first sync: ${describe(first)}`,
        `cold first sync: ${cold.kinds}`,
        `unchanged resync: ${describe(unchanged)}`,
        `one changed event: ${describe(changed)}`,
      ],
    };
  } finally {
    await Deno.remove(file);
  }
}

/** The agent's `microsoft365` source reading a calendar of {@link COUNT} events, twice. */
async function sourceReading(): Promise<{ firstMs: number; first: number; again: number }> {
  await using graph = await startFakeGraph();
  const app = graph.addApp({ permissions: ["Calendars.Read"] });
  const mailbox = graph.addMailbox("ann@contoso.com");
  for (const event of occurrences(COUNT, (i) => `Meeting ${i}`)) {
    mailbox.addEvent({
      subject: event.title,
      start: { dateTime: event.start.slice(0, 19), timeZone: "UTC" },
      end: { dateTime: event.end.slice(0, 19), timeZone: "UTC" },
    });
  }
  const settings = Microsoft365Settings.parse({
    tenant_id: graph.tenantId,
    client_id: app.clientId,
    client_secret: app.secret,
    authority: graph.origin,
    graph_url: graph.origin,
    mailbox: "ann@contoso.com",
  });
  const source = createMicrosoft365Source();
  const context = {
    window: { start: "2026-11-01T00:00:00Z", end: "2027-06-01T00:00:00Z" },
    configDir: ".",
    fetch,
  };
  const graphRequests = () => graph.requests.filter((r) => r.kind !== "token").length;
  const started = performance.now();
  const reading = await source.read(settings, context);
  const firstMs = performance.now() - started;
  if (reading.occurrences.length !== COUNT) {
    throw new Error(`the source read ${reading.occurrences.length} of ${COUNT} occurrences`);
  }
  const first = graphRequests();
  graph.resetRequests();
  await source.read(settings, context);
  return { firstMs, first, again: graphRequests() };
}

/**
 * Opening the destination and one reconcile of {@link COUNT} occurrences into an empty
 * calendar, in-process: everything a first sync costs, in one run.
 */
async function coldFirstSync(): Promise<{ requests: number; kinds: string }> {
  await using graph = await startFakeGraph();
  const app = graph.addApp({ permissions: ["Calendars.ReadWrite", "MailboxSettings.Read"] });
  graph.addMailbox(MAILBOX);
  const store = await SqliteStore.open(":memory:");
  try {
    const destination = await openM365Destination(graph, app, MAILBOX);
    const items = occurrences(COUNT, (i) => `Event ${i}`).map((o) => destinationItem(o));
    const report = await reconcileDestination(
      destination,
      store,
      new Map(items.map((i) => [i.key, i])),
      { logger: memoryLogger() },
    );
    if (report.created !== COUNT) throw new Error(`created ${report.created} of ${COUNT}`);
    const counts: Record<string, number> = {};
    for (const r of httpRequests(graph)) counts[r.kind] = (counts[r.kind] ?? 0) + 1;
    return {
      requests: httpRequests(graph).length,
      kinds: Object.entries(counts).sort().map(([kind, n]) => `${kind} ${n}`).join(", "),
    };
  } finally {
    await store.close();
  }
}
