/**
 * A real Redis for tests: Debian's `redis-server` on a free loopback port, without
 * persistence, in a temporary folder removed on close.
 *
 * @module
 */
import { type LoggedProcess, spawnLogged, stopLogged } from "./process.ts";
import { freePort } from "./master_process.ts";

const REDIS_SERVER = "/usr/bin/redis-server";
const START_TIMEOUT_MS = 15_000;

/** A running Redis; `await using` closes it. */
export interface RedisServer extends AsyncDisposable {
  host: string;
  port: number;
  /** `redis://127.0.0.1:PORT`. */
  url: string;
  /** Kills the process (its data is lost: there is no persistence). */
  stop(): Promise<void>;
  /** Starts the process again on the same port. */
  restart(): Promise<void>;
  /** Stops the process and removes its folder. */
  close(): Promise<void>;
}

/** Whether a PING on a fresh connection to `port` answers PONG. */
async function pings(port: number): Promise<boolean> {
  let conn: Deno.TcpConn | null = null;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(new TextEncoder().encode("PING\r\n"));
    const buf = new Uint8Array(64);
    const n = await conn.read(buf);
    return n !== null && new TextDecoder().decode(buf.subarray(0, n)).startsWith("+PONG");
  } catch {
    return false;
  } finally {
    conn?.close();
  }
}

function spawn(dir: string, port: number): LoggedProcess {
  return spawnLogged(REDIS_SERVER, [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    dir,
    // The log goes to a file in the folder, shown when the server fails to start.
    "--logfile",
    `${dir}/redis.log`,
  ]);
}

/** Waits until the server answers PING; kills it and throws on timeout or exit. */
async function waitUntilUp(dir: string, port: number, running: LoggedProcess): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let exited = false;
  running.child.status.then(() => (exited = true));
  for (;;) {
    if (await pings(port)) return;
    if (exited || Date.now() > deadline) {
      await stopLogged(running, "SIGKILL");
      const log = await Deno.readTextFile(`${dir}/redis.log`).catch(() => "");
      throw new Error(`redis-server did not start on port ${port}:\n${running.log()}${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Starts `redis-server` on a free loopback port and waits until it answers PING. */
export async function startRedis(): Promise<RedisServer> {
  const dir = await Deno.makeTempDir({ prefix: "calsync-redis-" });
  const port = freePort();
  let running: LoggedProcess | null = null;
  try {
    running = spawn(dir, port);
    await waitUntilUp(dir, port, running);
    const stop = async () => {
      if (running) await stopLogged(running, "SIGKILL");
      running = null;
    };
    const close = async () => {
      await stop();
      await Deno.remove(dir, { recursive: true });
    };
    return {
      host: "127.0.0.1",
      port,
      url: `redis://127.0.0.1:${port}`,
      stop,
      async restart() {
        await stop();
        const next = spawn(dir, port);
        await waitUntilUp(dir, port, next);
        running = next;
      },
      close,
      [Symbol.asyncDispose]: close,
    };
  } catch (error) {
    if (running) await stopLogged(running, "SIGKILL");
    await Deno.remove(dir, { recursive: true });
    throw error;
  }
}
