/**
 * A second real CalDAV server for tests: Debian's Xandikos on a free loopback port,
 * serving a temporary folder removed on close. Xandikos has no authentication of its
 * own (it expects a reverse proxy to do it): every request acts as its one user, and an
 * `Authorization` header is ignored, so any username and password work.
 *
 * @module
 */
import { type LoggedProcess, spawnLogged, stopLogged } from "./process.ts";
import { freePort } from "./master_process.ts";

/** The Debian package's entry point; the `python3` on PATH lacks its modules. */
const XANDIKOS = "/usr/bin/xandikos";
const START_TIMEOUT_MS = 20_000;
/**
 * Where `--defaults` puts the calendar of its user `user` (the principal is `/user/`,
 * see `--current-user-principal`); startup checks it is a calendar collection.
 */
const COLLECTION_PATH = "user/calendars/calendar/";

/** A running Xandikos; `await using` closes it. */
export interface Xandikos extends AsyncDisposable {
  /** The server root, such as `http://127.0.0.1:PORT/`. */
  url: string;
  /** The default calendar, `http://127.0.0.1:PORT/user/calendars/calendar/`. */
  collectionUrl: string;
  /** A username for clients that insist on one; Xandikos ignores it. */
  username: string;
  /** A password for clients that insist on one; Xandikos ignores it. */
  password: string;
  /** Everything Xandikos wrote to stderr so far (its access log included). */
  log(): string;
  /** Stops the process and removes its folder. */
  close(): Promise<void>;
}

/** Whether `url` answers a PROPFIND as a calendar collection. */
async function isCalendar(url: string): Promise<boolean> {
  const response = await fetch(url, {
    method: "PROPFIND",
    headers: { depth: "0", "content-type": "application/xml" },
    body: `<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/></D:prop></D:propfind>`,
  });
  const text = await response.text();
  return response.status === 207 && /calendar\s*\/>/.test(text);
}

/**
 * Starts Xandikos with `--defaults` (a calendar and an address book for user `user`)
 * and waits until the calendar answers; throws with Xandikos's log otherwise.
 */
export async function startXandikos(): Promise<Xandikos> {
  const dir = await Deno.makeTempDir({ prefix: "calsync-xandikos-" });
  const port = freePort();
  const url = `http://127.0.0.1:${port}/`;
  const collectionUrl = `${url}${COLLECTION_PATH}`;
  const running: LoggedProcess = spawnLogged(XANDIKOS, [
    "--defaults",
    "-d",
    dir,
    "-l",
    "127.0.0.1",
    "-p",
    String(port),
  ]);
  let closed: Promise<void> | null = null;
  const close = () =>
    closed ??= (async () => {
      await stopLogged(running, "SIGTERM");
      await Deno.remove(dir, { recursive: true });
    })();
  try {
    let exited = false;
    running.child.status.then(() => (exited = true));
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      try {
        if (await isCalendar(collectionUrl)) break;
      } catch {
        // not listening yet
      }
      if (exited || Date.now() > deadline) {
        throw new Error(`xandikos did not serve ${collectionUrl}:\n${running.log()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } catch (error) {
    await close();
    throw error;
  }
  return {
    url,
    collectionUrl,
    username: "user",
    password: "unused",
    log: running.log,
    close,
    [Symbol.asyncDispose]: close,
  };
}
