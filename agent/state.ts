/**
 * The agent's state file (`calendar_agent_state.json` beside the config): its own token
 * and, per source, the hash and event count of the last snapshot the master accepted.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import { z } from "zod";

/** The state file the agent keeps beside its config. */
export const STATE_FILE_NAME = "calendar_agent_state.json";

/** What the agent remembers between runs. */
export const AgentState = z.object({
  /** The agent the token belongs to; a changed `agent_id` in the config voids the rest. */
  agent_id: z.string().nullable().default(null),
  /** The agent's own bearer token, issued by the master at registration. */
  token: z.string().nullable().default(null),
  /** Hash of the last registration the master accepted, to re-register only on change. */
  registration_hash: z.string().nullable().default(null),
  /**
   * Per source id: hash of the last accepted snapshot, when it was accepted, its
   * `generated_at`, which the master reports back so a loss on its side shows, and how
   * many events it held, so that a source that suddenly reads empty is not uploaded.
   */
  sources: z
    .record(
      z.string(),
      z.object({
        snapshot_hash: z.string(),
        accepted_at: z.string(),
        generated_at: z.string().nullable().default(null),
        /** Null in state files written before the count was kept. */
        event_count: z.number().int().min(0).nullable().default(null),
      }),
    )
    .default({}),
});
/** The agent's remembered state. */
export type AgentState = z.output<typeof AgentState>;

/** A state file that exists but cannot be used. */
export class StateError extends Error {
  /** Creates the error for `path`. */
  constructor(path: string, reason: string) {
    super(
      `state file ${path} is unusable (${reason}). Fix it, or delete it to start over: the ` +
        "agent then registers again with enrollment_token.",
    );
    this.name = "StateError";
  }
}

/** A fresh state: no token, nothing uploaded yet. */
export function emptyState(): AgentState {
  return AgentState.parse({});
}

/** Reads the state at `path`; a missing file is a fresh state. */
export async function readState(path: string): Promise<AgentState> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return emptyState();
    throw new StateError(path, (error as Error).message);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new StateError(path, `not valid JSON: ${(error as Error).message}`);
  }
  const parsed = AgentState.safeParse(raw);
  if (!parsed.success) throw new StateError(path, parsed.error.issues[0].message);
  return parsed.data;
}

/**
 * Writes the state atomically: a temporary file in the same folder, then a rename over
 * the old one, so a crash leaves either the old or the new state, never half of one. The
 * file holds a token, so it is created readable by its owner only where modes exist.
 */
export async function writeState(path: string, state: AgentState): Promise<void> {
  const temp = join(
    dirname(path),
    `.${basename(path)}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`,
  );
  try {
    await Deno.writeTextFile(temp, JSON.stringify(state, null, 2) + "\n", { mode: 0o600 });
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
}
