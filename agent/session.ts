/**
 * The agent's standing with the master: which token to send, when to (re-)register, and
 * what the master has already accepted. Wraps {@linkcode MasterClient} with the
 * registration rules of the protocol and keeps the state file current.
 *
 * @module
 */
import { contentHash } from "../shared/hash.ts";
import type {
  Heartbeat,
  Registration,
  RegistrationResult,
  Snapshot,
  SnapshotResult,
} from "../shared/protocol.ts";
import { toInstant } from "../shared/time.ts";
import { VERSION } from "../shared/version.ts";
import type { AgentConfig } from "./config.ts";
import type { Logger } from "./log.ts";
import { MasterError } from "./master_client.ts";
import type { MasterClient } from "./master_client.ts";
import { type AgentState, emptyState, readState, writeState } from "./state.ts";

/** Registration failed in a way only a person can fix; the message says how. */
export class RegistrationError extends Error {
  /** Creates the error with its explanation. */
  constructor(message: string) {
    super(message);
    this.name = "RegistrationError";
  }
}

/** What a {@linkcode AgentSession} works with. */
export interface AgentSessionOptions {
  /** The agent's config. */
  config: AgentConfig;
  /** The master. */
  client: MasterClient;
  /** Where the state is kept. */
  statePath: string;
  /** Receives progress and problems. */
  log: Logger;
}

/** How a registration was authorised. */
export type RegisteredWith = "own token" | "enrollment token";

/** The agent's registration, token and accepted snapshots, backed by the state file. */
export class AgentSession {
  readonly #config: AgentConfig;
  readonly #client: MasterClient;
  readonly #statePath: string;
  readonly #log: Logger;
  #state: AgentState;

  private constructor(options: AgentSessionOptions, state: AgentState) {
    this.#config = options.config;
    this.#client = options.client;
    this.#statePath = options.statePath;
    this.#log = options.log;
    this.#state = state;
  }

  /** Opens the session from the state file; throws `StateError` if it is unusable. */
  static async open(options: AgentSessionOptions): Promise<AgentSession> {
    let state = await readState(options.statePath);
    const agentId = options.config.agent_id;
    if (state.agent_id !== null && state.agent_id !== agentId) {
      // The token and hashes belong to another agent id; this one starts from scratch.
      options.log.info(
        `agent_id changed from "${state.agent_id}" to "${agentId}"; registering afresh`,
      );
      state = emptyState();
    }
    options.log.addSecret(state.token);
    options.log.addSecret(options.config.enrollment_token);
    return new AgentSession(options, state);
  }

  /** A copy of the current state. */
  get state(): AgentState {
    return structuredClone(this.#state);
  }

  /** The registration this agent's config describes; only enabled sources are declared. */
  registration(): Registration {
    const c = this.#config;
    return {
      agent_id: c.agent_id,
      agent_name: c.agent_name,
      environment: c.environment,
      version: VERSION,
      sources: c.calendar_sources
        .filter((s) => s.enabled)
        .map((s) => ({ source_id: s.id, name: s.name, type: s.type })),
    };
  }

  /** Registers unless the master already holds this exact registration and we hold a token. */
  async ensureRegistered(): Promise<void> {
    const current = contentHash(this.registration());
    if (this.#state.token !== null && this.#state.registration_hash === current) return;
    await this.register();
  }

  /**
   * Registers now: with the agent's own token when it has one, falling back to
   * `enrollment_token` when the master rejects it (after an admin reset).
   */
  async register(): Promise<RegisteredWith> {
    const registration = this.registration();
    const own = this.#state.token;
    if (own !== null) {
      try {
        await this.#accept(registration, await this.#client.register(registration, own), false);
        return "own token";
      } catch (error) {
        if (!(error instanceof MasterError && error.status === 401)) throw error;
        if (this.#config.enrollment_token === undefined) {
          throw new RegistrationError(
            "the master rejected this agent's token (HTTP 401) and the config has no " +
              '"enrollment_token" to register again; ask the master\'s admin for one and ' +
              "add it to the config",
          );
        }
        this.#log.warn(
          "the master rejected this agent's token (HTTP 401); registering with enrollment_token",
        );
      }
    }
    const enrollment = this.#config.enrollment_token;
    if (enrollment === undefined) {
      throw new RegistrationError(
        `agent "${registration.agent_id}" has no token yet; add "enrollment_token" (from the ` +
          "master's admin) to the config so it can register",
      );
    }
    let result: RegistrationResult;
    try {
      result = await this.#client.register(registration, enrollment);
    } catch (error) {
      throw explainEnrollmentFailure(error, registration.agent_id);
    }
    await this.#accept(registration, result, true);
    return "enrollment token";
  }

  /** Hash of the last snapshot of `sourceId` the master accepted, or `null`. */
  acceptedHash(sourceId: string): string | null {
    return this.#state.sources[sourceId]?.snapshot_hash ?? null;
  }

  /** How many events the last snapshot of `sourceId` the master accepted held, or `null`. */
  acceptedEventCount(sourceId: string): number | null {
    return this.#state.sources[sourceId]?.event_count ?? null;
  }

  /**
   * Uploads a snapshot. A rejected token or a source the master does not know means our
   * registration is stale (admin reset, new source): register again and retry once.
   */
  async uploadSnapshot(
    sourceId: string,
    snapshot: Snapshot,
    hash: string,
  ): Promise<SnapshotResult> {
    const result = await this.#authorised((token) =>
      this.#client.putSnapshot(this.#config.agent_id, sourceId, snapshot, token)
    );
    this.#state.sources[sourceId] = {
      snapshot_hash: hash,
      accepted_at: toInstant(new Date()),
      generated_at: snapshot.generated_at,
      event_count: snapshot.events.length,
    };
    await this.#save();
    return result;
  }

  /** Sends a heartbeat, re-registering once if the token turns out stale. */
  async sendHeartbeat(heartbeat: Heartbeat): Promise<void> {
    await this.#authorised((token) =>
      this.#client.heartbeat(this.#config.agent_id, heartbeat, token)
    );
  }

  async #authorised<T>(send: (token: string) => Promise<T>): Promise<T> {
    await this.ensureRegistered();
    try {
      return await send(this.#token());
    } catch (error) {
      const stale = error instanceof MasterError &&
        (error.status === 401 || (error.status === 404 && error.code === "unknown_source"));
      if (!stale) throw error;
      this.#log.warn(`${error.message}; registering again and retrying once`);
      await this.register();
      return await send(this.#token());
    }
  }

  #token(): string {
    if (this.#state.token === null) throw new RegistrationError("the agent is not registered");
    return this.#state.token;
  }

  async #accept(
    registration: Registration,
    result: RegistrationResult,
    enrolled: boolean,
  ): Promise<void> {
    const { token } = result;
    this.#log.addSecret(token);
    this.#state.agent_id = registration.agent_id;
    this.#state.token = token;
    this.#state.registration_hash = contentHash(registration);
    // A (re-)enrolled agent may be new to the master, which then holds none of our
    // snapshots: forget what was accepted so every source is uploaded again.
    if (enrolled) this.#state.sources = {};
    // A master restored from a backup, or rebuilt, holds another snapshot than ours (or
    // none): upload that source again.
    for (const { source_id, last_generated_at } of result.sources) {
      const accepted = this.#state.sources[source_id];
      if (accepted && accepted.generated_at !== last_generated_at) {
        this.#log.info(
          `the master holds another snapshot of source "${source_id}" than the last one ` +
            "accepted; uploading it again",
        );
        delete this.#state.sources[source_id];
      }
    }
    await this.#save();
    this.#log.info(
      enrolled
        ? `registered agent "${registration.agent_id}" with the enrollment token`
        : `updated the registration of agent "${registration.agent_id}"`,
    );
  }

  async #save(): Promise<void> {
    try {
      await writeState(this.#statePath, this.#state);
    } catch (error) {
      this.#log.error(
        `cannot write the state file ${this.#statePath}: ${(error as Error).message}; ` +
          "a restart will need enrollment_token again and re-upload every source",
      );
    }
  }
}

function explainEnrollmentFailure(error: unknown, agentId: string): unknown {
  if (!(error instanceof MasterError)) return error;
  if (error.status === 401) {
    return new RegistrationError(
      "the master rejected enrollment_token (HTTP 401); copy the enrollment token from the " +
        "master's configuration into the agent's config",
    );
  }
  if (error.status === 409 && error.code === "agent_exists") {
    return new RegistrationError(
      `agent_id "${agentId}" is already registered at the master and this agent does not ` +
        "hold its token (state file lost, or another machine uses the same agent_id). " +
        `An admin must reset it with POST /api/admin/agents/${agentId}/reset; the agent then ` +
        "registers with enrollment_token on its next pass. Or give this agent another agent_id.",
    );
  }
  return error;
}
