/**
 * An in-process fake of the master's agent API, recording every request. It follows
 * the contract the agent is written against: bearer tokens, `agent_exists`,
 * `unknown_source`, gzip snapshots validated with the shared schemas.
 *
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { contentHash } from "../../shared/hash.ts";
import { occurrenceKey } from "../../shared/model.ts";
import { Heartbeat, Registration, Snapshot } from "../../shared/protocol.ts";
import type { FetchLike } from "../../agent/http.ts";

/** One request as the fake saw it, body decoded. */
export interface RecordedRequest {
  method: string;
  path: string;
  authorization: string | null;
  contentEncoding: string | null;
  body: unknown;
}

/** A canned answer given instead of the normal one, once. */
interface Override {
  method: string;
  path: RegExp;
  answer: () => Response;
}

interface RegisteredAgent {
  token: string;
  sources: Set<string>;
}

/** Hono environment of the fake: the decoded request body travels in `body`. */
type FakeEnv = { Variables: { body: unknown } };

function apiError(
  c: Context<FakeEnv>,
  status: 400 | 401 | 404 | 409,
  code: string,
  message: string,
  field: string | null = null,
) {
  return c.json({ error: { code, message, field } }, status);
}

/** The fake master. */
export class FakeMaster {
  /** Accepted as `Bearer` for first registrations. */
  enrollmentToken = "enroll-0123456789";
  /** Every request, in order. */
  readonly requests: RecordedRequest[] = [];
  /** Registered agents by id. */
  readonly agents = new Map<string, RegisteredAgent>();
  /** Last accepted snapshot per `agent/source`. */
  readonly snapshots = new Map<string, Snapshot>();
  /** Accepted heartbeats. */
  readonly heartbeats: Heartbeat[] = [];
  readonly #overrides: Override[] = [];
  #issued = 0;

  /** The Hono app; serve it or call it through {@linkcode fetch}. */
  readonly app: Hono<FakeEnv> = new Hono<FakeEnv>();

  /** Calls the app in-process, without a port. */
  readonly fetch: FetchLike = (request) => Promise.resolve(this.app.fetch(request));

  constructor() {
    this.app.use("*", async (c, next) => {
      const path = new URL(c.req.url).pathname;
      let body: unknown = null;
      if (c.req.method !== "GET") {
        const bytes = new Uint8Array(await c.req.arrayBuffer());
        const raw = c.req.header("content-encoding") === "gzip"
          ? new Uint8Array(
            await new Response(
              new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip")),
            ).arrayBuffer(),
          )
          : bytes;
        body = raw.length === 0 ? null : JSON.parse(new TextDecoder().decode(raw));
      }
      c.set("body", body);
      this.requests.push({
        method: c.req.method,
        path,
        authorization: c.req.header("authorization") ?? null,
        contentEncoding: c.req.header("content-encoding") ?? null,
        body,
      });
      const index = this.#overrides.findIndex((o) =>
        o.method === c.req.method && o.path.test(path)
      );
      if (index >= 0) return this.#overrides.splice(index, 1)[0].answer();
      await next();
    });

    this.app.get(
      "/health",
      (c) =>
        c.json({
          status: "ok",
          version: "9.9.9",
          uptime_s: 1,
          store: { backend: "memory", ok: true },
        }),
    );

    this.app.post("/api/agents/register", (c) => {
      const parsed = Registration.safeParse(c.get("body"));
      if (!parsed.success) return apiError(c, 400, "invalid", parsed.error.message);
      const reg = parsed.data;
      const token = bearer(c);
      const known = this.agents.get(reg.agent_id);
      const sources = new Set(reg.sources.map((s) => s.source_id));
      if (known !== undefined && token === known.token) {
        known.sources = sources;
        return c.json(this.#registration(reg.agent_id, known.token, sources));
      }
      if (token !== this.enrollmentToken) return apiError(c, 401, "unauthorized", "bad token");
      if (known !== undefined) {
        return apiError(c, 409, "agent_exists", `agent ${reg.agent_id} exists`, "agent_id");
      }
      const issued = `agent-token-${++this.#issued}-abcdef`;
      this.agents.set(reg.agent_id, { token: issued, sources });
      return c.json(this.#registration(reg.agent_id, issued, sources));
    });

    this.app.put("/api/agents/:agent/sources/:source/snapshot", (c) => {
      const agent = this.#authorised(c);
      if (agent === null) return apiError(c, 401, "unauthorized", "bad token");
      const source = c.req.param("source");
      if (!agent.sources.has(source)) {
        return apiError(c, 404, "unknown_source", `source ${source} is not registered`);
      }
      const parsed = Snapshot.safeParse(c.get("body"));
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        return apiError(c, 400, "invalid", issue.message, issue.path.join("."));
      }
      const key = `${c.req.param("agent")}/${source}`;
      const before = new Map(
        (this.snapshots.get(key)?.events ?? []).map((e) => [occurrenceKey(e), contentHash(e)]),
      );
      const counts = { added: 0, updated: 0, removed: 0, unchanged: 0 };
      for (const event of parsed.data.events) {
        const old = before.get(occurrenceKey(event));
        before.delete(occurrenceKey(event));
        if (old === undefined) counts.added++;
        else if (old === contentHash(event)) counts.unchanged++;
        else counts.updated++;
      }
      counts.removed = before.size;
      this.snapshots.set(key, parsed.data);
      return c.json(counts);
    });

    this.app.post("/api/agents/:agent/heartbeat", (c) => {
      if (this.#authorised(c) === null) return apiError(c, 401, "unauthorized", "bad token");
      const parsed = Heartbeat.safeParse(c.get("body"));
      if (!parsed.success) return apiError(c, 400, "invalid", parsed.error.message);
      this.heartbeats.push(parsed.data);
      return c.json({ ok: true });
    });
  }

  /** What the real master answers a registration: the token and what it holds per source. */
  #registration(agentId: string, token: string, sources: Set<string>) {
    return {
      agent_id: agentId,
      token,
      sources: [...sources].map((id) => ({
        source_id: id,
        last_generated_at: this.snapshots.get(`${agentId}/${id}`)?.generated_at ?? null,
      })),
    };
  }

  /** Answers the next `method` request whose path matches with `answer` instead. */
  override(method: string, path: RegExp, answer: () => Response): void {
    this.#overrides.push({ method, path, answer });
  }

  /** What an admin reset does: forgets the agent so it may enrol again. */
  reset(agentId: string): void {
    this.agents.delete(agentId);
  }

  /** The requests to paths matching `path`. */
  requestsTo(path: RegExp): RecordedRequest[] {
    return this.requests.filter((r) => path.test(r.path));
  }

  #authorised(c: Context<FakeEnv>): RegisteredAgent | null {
    const agent = this.agents.get(c.req.param("agent") ?? "");
    return agent !== undefined && agent.token === bearer(c) ? agent : null;
  }
}

function bearer(c: Context<FakeEnv>): string | null {
  return c.req.header("authorization")?.replace(/^Bearer /, "") ?? null;
}
