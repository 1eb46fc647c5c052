/**
 * Runs the master as a real process on a free loopback port, as a user would start it,
 * for end-to-end tests and benchmarks.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { spawnLogged } from "./process.ts";

const MAIN = fileURLToPath(new URL("../../master/main.ts", import.meta.url));

/** A free TCP port on 127.0.0.1. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** A running master process. */
export type MasterProcess = {
  url: string;
  port: number;
  dataDir: string;
  pid: number;
  adminToken: string;
  enrollmentToken: string;
  /** Everything the process wrote to stderr so far. */
  log(): string;
  /** Sends SIGTERM and waits for the exit; returns the exit code. */
  stop(): Promise<number>;
  /** Resident memory of the process in bytes (Linux). */
  rssBytes(): Promise<number>;
};

/**
 * The allocator settings `deno task master` and the Docker image run the master with
 * (README, "Memory"); a deploy test checks that both still say so.
 */
export const MASTER_ALLOCATOR_ENV: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: "2",
  MALLOC_TRIM_THRESHOLD_: "131072",
  MALLOC_MMAP_THRESHOLD_: "131072",
};

/**
 * The V8 flags `deno task master`, `deno task compile:master` and the Docker image run the master
 * with (README, "Memory"): a young generation of at most 8 MiB per half, so that the garbage left
 * by a large upload is collected in small steps instead of piling up; a deploy test checks all
 * three.
 */
export const MASTER_V8_FLAGS: readonly string[] = ["--max-semi-space-size=8"];

/**
 * Starts the master as `deno task master` does, with `DATA_DIR=dataDir` and extra
 * environment; waits for `/health`.
 */
export async function startMaster(
  dataDir: string,
  env: Record<string, string> = {},
  port = freePort(),
): Promise<MasterProcess> {
  const { child, drained, log } = spawnLogged(Deno.execPath(), [
    "run",
    `--v8-flags=${MASTER_V8_FLAGS.join(",")}`,
    "--allow-all",
    MAIN,
  ], {
    ...MASTER_ALLOCATOR_ENV,
    DATA_DIR: dataDir,
    API_PORT: String(port),
    API_HOST: "127.0.0.1",
    ...env,
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const res = await fetch(`${url}/health`);
      await res.body?.cancel();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      await child.status;
      throw new Error(`master did not start on ${url}:\n${log()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const readToken = async (name: string, configured?: string) =>
    configured ?? (await Deno.readTextFile(`${dataDir}/${name}`)).trim();
  return {
    url,
    port,
    dataDir,
    pid: child.pid,
    adminToken: await readToken("admin_token", env.ADMIN_TOKEN),
    enrollmentToken: await readToken("enrollment_token", env.AGENT_ENROLLMENT_TOKEN),
    log,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
      const status = await child.status;
      await drained;
      return status.code;
    },
    async rssBytes() {
      const status = await Deno.readTextFile(`/proc/${child.pid}/status`);
      const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? "0");
      return kb * 1024;
    },
  };
}
