/**
 * When the agent was last active, for `agent status`: the last snapshot the master
 * accepted (from the state file) and the log's last line.
 *
 * @module
 */
import type { AgentFiles } from "../files.ts";
import { readState, StateError } from "../state.ts";

/**
 * Lines telling when the master last accepted a snapshot (from the state file) and what
 * the log said last: an unchanged pass uploads nothing, so the log shows later activity.
 */
export async function lastActivity(files: AgentFiles): Promise<string[]> {
  const lines: string[] = [];
  try {
    const state = await readState(files.state);
    const accepted = Object.entries(state.sources)
      .sort(([, a], [, b]) => b.accepted_at.localeCompare(a.accepted_at));
    lines.push(
      accepted.length === 0
        ? `Last snapshot accepted by the master: none yet (${files.state})`
        : `Last snapshot accepted by the master: ${accepted[0][1].accepted_at} ` +
          `(source "${accepted[0][0]}")`,
    );
  } catch (error) {
    if (!(error instanceof StateError)) throw error;
    lines.push(`Last snapshot accepted by the master: unknown; ${error.message}`);
  }
  const last = await lastLogLine(files.log);
  lines.push(last === null ? `Log: ${files.log} (empty or missing)` : `Log: ${files.log}`);
  if (last !== null) lines.push(`  last line: ${last}`);
  return lines;
}

/** How much of the log's end is read to find its last line. */
const LOG_TAIL_BYTES = 16_384;

/** The log's last line, or null when it is missing or empty. */
async function lastLogLine(path: string): Promise<string | null> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
  try {
    const size = (await file.stat()).size;
    await file.seek(Math.max(0, size - LOG_TAIL_BYTES), Deno.SeekMode.Start);
    const buffer = new Uint8Array(Math.min(size, LOG_TAIL_BYTES));
    let read = 0;
    while (read < buffer.length) {
      const n = await file.read(buffer.subarray(read));
      if (n === null) break;
      read += n;
    }
    const lines = new TextDecoder().decode(buffer.subarray(0, read)).trimEnd().split("\n");
    const line = lines[lines.length - 1].trim();
    return line === "" ? null : line;
  } finally {
    file.close();
  }
}
