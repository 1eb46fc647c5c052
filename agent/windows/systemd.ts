/**
 * The agent as a systemd user service on Linux: the unit file, the commands to put it in
 * place and to remove it, and its state. The agent only prints the unit and the
 * commands; it never changes the system itself.
 *
 * @module
 */
import type { AgentLaunch } from "./launch.ts";
import { decodeText, ProgramNotFoundError, runProgram } from "./program.ts";

/** The unit's name, without `.service`. */
export const UNIT_NAME = "calsync-agent";

/** Where a user's units live. */
const UNIT_PATH = `~/.config/systemd/user/${UNIT_NAME}.service`;

/**
 * `text` with systemd's specifiers and variables kept literal: `%` starts a specifier
 * and `$` a variable in a unit file.
 */
function literal(text: string): string {
  return text.replace(/%/g, "%%").replace(/\$/g, () => "$$");
}

/** One word of an `ExecStart=` line, quoted when systemd would otherwise split it. */
export function systemdWord(word: string): string {
  const text = literal(word);
  if (text !== "" && !/[\s"'\\]/.test(text)) return text;
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/**
 * The unit. It restarts the agent a minute after a failure; there is no dependency on
 * the network, which a user's systemd cannot wait for, since the agent retries the master
 * by itself.
 */
export function systemdUnit(launch: AgentLaunch): string {
  const command = [launch.program, ...launch.args].map(systemdWord).join(" ");
  return `[Unit]
Description=calsync agent: sends calendars to the calsync master

[Service]
Type=simple
ExecStart=${command}
WorkingDirectory=${literal(launch.workingDirectory)}
Restart=on-failure
RestartSec=60

[Install]
WantedBy=default.target
`;
}

/** How to put the unit printed on standard output in place and start it. */
export function installSteps(): string {
  return `The unit above goes into ${UNIT_PATH}, for example:
  mkdir -p ~/.config/systemd/user
  agent install > ${UNIT_PATH}
Then start it, now and at every login:
  systemctl --user daemon-reload
  systemctl --user enable --now ${UNIT_NAME}
To keep it running while you are logged out:
  loginctl enable-linger "$USER"
Its console output: journalctl --user -u ${UNIT_NAME}`;
}

/** How to stop and remove the unit. */
export function uninstallSteps(): string {
  return `To stop the agent and remove its unit:
  systemctl --user disable --now ${UNIT_NAME}
  rm ${UNIT_PATH}
  systemctl --user daemon-reload`;
}

/**
 * The unit's state as `systemctl --user is-active` tells it ("active", "inactive",
 * "failed"…), or null when there is no systemctl.
 */
export async function unitState(env: Record<string, string>): Promise<string | null> {
  try {
    const result = await runProgram("systemctl", ["--user", "is-active", UNIT_NAME], {
      timeoutMs: 30_000,
      env,
    });
    return decodeText(result.stdout).trim() || "unknown";
  } catch (error) {
    if (error instanceof ProgramNotFoundError) return null;
    throw error;
  }
}
