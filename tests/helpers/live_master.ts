/**
 * A test master served on a free loopback port and filled through its HTTP API: two
 * agents with snapshots and a read token. For clients that must talk real HTTP, such as
 * `CalendarClient` in Deno or in a Node process.
 *
 * @module
 */
import { StoredEvent } from "../../shared/protocol.ts";
import { toInstant } from "../../shared/time.ts";
import { ADMIN_TOKEN, ENROLLMENT_TOKEN, testMaster, timed } from "./master_app.ts";

/** A served, filled test master. */
export type LiveMaster = {
  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  url: string;
  adminToken: string;
  /** A read token issued by `POST /api/admin/read-tokens`. */
  readToken: string;
  /**
   * Every event sent, as `GET /api/events` should answer it (changed when it was sent),
   * sorted by start then uid.
   */
  sent: StoredEvent[];
  [Symbol.asyncDispose](): Promise<void>;
};

/** The test master's clock is 2026-03-01T12:00:00Z; the snapshots cover March 2026. */
const WINDOW = { start: "2026-03-01T00:00:00Z", end: "2026-04-01T00:00:00Z" };

/** What each agent's sources hold. */
const SNAPSHOTS: Record<string, Record<string, Record<string, unknown>[]>> = {
  pc1: {
    main: [
      timed("standup", "2026-03-02T09:00:00Z", 15, {
        location: "Room 4",
        categories: ["Team"],
        attendees: [{ name: "Bob", email: "bob@example.com", status: "accepted" }],
      }),
      { uid: "holiday", all_day: true, start: "2026-03-10", end: "2026-03-12", title: "Off" },
    ],
    team: [timed("review", "2026-03-03T10:00:00Z", 60, { timezone: "Europe/Berlin" })],
  },
  pc2: {
    main: [timed("standup", "2026-03-02T09:00:00Z", 15), timed("late", "2026-03-20T18:00:00Z")],
  },
};

/**
 * Orders events by start, then uid, agent and source: a total order, so that lists can be
 * compared whatever order the master breaks ties in.
 */
export function eventOrder(a: StoredEvent, b: StoredEvent): number {
  return a.start.localeCompare(b.start) || a.uid.localeCompare(b.uid) ||
    a.agent_id.localeCompare(b.agent_id) || a.source_id.localeCompare(b.source_id);
}

/** Fetches `path` on `url` with a bearer token and JSON body; fails unless `status` comes back. */
async function call(
  url: string,
  method: string,
  path: string,
  token: string,
  body: unknown,
  status: number,
): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== status) {
    throw new Error(`${method} ${path}: expected ${status}, got ${res.status} ${text}`);
  }
  return JSON.parse(text);
}

/** Starts a test master on a free loopback port, enrols pc1 and pc2, sends their snapshots. */
export async function liveMaster(): Promise<LiveMaster> {
  const master = await testMaster();
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    master.app.fetch,
  );
  const dispose = async () => {
    await server.shutdown();
    await master[Symbol.asyncDispose]();
  };
  try {
    const url = `http://127.0.0.1:${server.addr.port}`;
    const sent: StoredEvent[] = [];
    for (const [agentId, sources] of Object.entries(SNAPSHOTS)) {
      const registered = await call(url, "POST", "/api/agents/register", ENROLLMENT_TOKEN, {
        agent_id: agentId,
        agent_name: `Agent ${agentId}`,
        environment: "test",
        version: "1.0.0",
        sources: Object.keys(sources).map((id) => ({
          source_id: id,
          name: `Source ${id}`,
          type: "ics",
        })),
      }, 200);
      for (const [sourceId, events] of Object.entries(sources)) {
        await call(
          url,
          "PUT",
          `/api/agents/${agentId}/sources/${sourceId}/snapshot`,
          registered.token as string,
          { window: WINDOW, generated_at: "2026-03-01T12:00:00Z", events },
          200,
        );
        for (const e of events) {
          sent.push(StoredEvent.parse({
            ...e,
            agent_id: agentId,
            source_id: sourceId,
            changed_at: toInstant(master.clock.now),
          }));
        }
      }
    }
    const issued = await call(url, "POST", "/api/admin/read-tokens", ADMIN_TOKEN, {
      name: "web app",
    }, 201);
    sent.sort(eventOrder);
    return {
      url,
      adminToken: ADMIN_TOKEN,
      readToken: issued.token as string,
      sent,
      [Symbol.asyncDispose]: dispose,
    };
  } catch (err) {
    await dispose();
    throw err;
  }
}
