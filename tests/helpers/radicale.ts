/**
 * A real CalDAV server for tests: Debian's Radicale on a free loopback port, with its
 * storage and plain-text users in a temporary folder removed on close.
 *
 * @module
 */
import { createCalDavDestination } from "../../master/destinations/caldav.ts";
import { sourceFilter } from "../../master/destinations/config.ts";
import { configured, type ConfiguredDestination } from "../../master/destinations/mod.ts";
import { type LoggedProcess, spawnLogged, stopLogged } from "./process.ts";
import { join } from "node:path";
import { freePort } from "./master_process.ts";
import { xmlText } from "../../shared/caldav/multistatus.ts";

/** The Debian package's entry point; the `python3` on PATH may lack the module. */
const RADICALE = "/usr/bin/radicale";
const START_TIMEOUT_MS = 15_000;

/** Options for {@linkcode startRadicale}. */
export interface RadicaleOptions {
  /** Users and their passwords; the first one is the main test user. */
  users?: Record<string, string>;
  /** Display name of the main user's calendar. */
  calendarName?: string;
}

/** A running Radicale; `await using` closes it. */
export interface Radicale extends AsyncDisposable {
  /** The server root, such as `http://127.0.0.1:PORT/`. */
  url: string;
  /** The main user's calendar collection, created at start (ends with `/`). */
  collectionUrl: string;
  /** The main user. */
  username: string;
  /** The main user's password. */
  password: string;
  /** Every user and password. */
  users: Record<string, string>;
  /** Kills the process, keeping its storage. */
  stop(): Promise<void>;
  /** Starts the process again on the same port with the same storage. */
  restart(): Promise<void>;
  /** Stops the process and removes its folder. */
  close(): Promise<void>;
}

/** Basic auth header value for `username` and `password`. */
export function basicAuth(username: string, password: string): string {
  return `Basic ${
    btoa(String.fromCharCode(...new TextEncoder().encode(`${username}:${password}`)))
  }`;
}

/**
 * Creates a calendar collection at `url` (MKCALENDAR) named `displayName`, as
 * `username`; returns `url`. Throws unless the server answers 201.
 */
export async function makeCalendar(
  url: string,
  username: string,
  password: string,
  displayName = "Calendar",
): Promise<string> {
  const body = `<?xml version="1.0" encoding="utf-8"?>
<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:set><D:prop><D:displayname>${xmlText(displayName)}</D:displayname></D:prop></D:set>
</C:mkcalendar>`;
  const response = await fetch(url, {
    method: "MKCALENDAR",
    headers: { authorization: basicAuth(username, password), "content-type": "application/xml" },
    body,
  });
  const text = await response.text();
  if (response.status !== 201) {
    throw new Error(`MKCALENDAR ${url}: HTTP ${response.status} ${text}`);
  }
  return url;
}

/** Deletes the collection or resource at `url`; a missing one is fine. */
export async function deleteResource(url: string, username: string, password: string) {
  const response = await fetch(url, {
    method: "DELETE",
    headers: { authorization: basicAuth(username, password) },
  });
  await response.body?.cancel();
  if (!response.ok && response.status !== 404) {
    throw new Error(`DELETE ${url}: HTTP ${response.status}`);
  }
}

/**
 * Stores iCalendar `ics` at `url` (a plain PUT, as another client would) and returns
 * `url`. Throws unless the server accepts it.
 */
export async function putResource(
  url: string,
  ics: string,
  username: string,
  password: string,
): Promise<string> {
  const response = await fetch(url, {
    method: "PUT",
    headers: {
      authorization: basicAuth(username, password),
      "content-type": "text/calendar; charset=utf-8",
    },
    body: ics,
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`PUT ${url}: HTTP ${response.status} ${text}`);
  return url;
}

function configText(dir: string, port: number): string {
  return `[server]
hosts = 127.0.0.1:${port}

[auth]
type = htpasswd
htpasswd_filename = ${join(dir, "users")}
htpasswd_encryption = plain
# Wrong-password tests would otherwise wait a second each.
delay = 0

[rights]
type = owner_only

[storage]
filesystem_folder = ${join(dir, "collections")}

[web]
type = none

[logging]
level = warning
`;
}

function spawn(configFile: string): LoggedProcess {
  return spawnLogged(RADICALE, ["--config", configFile]);
}

/** Waits until the server answers any HTTP request; kills it and throws on timeout. */
async function waitUntilUp(url: string, running: LoggedProcess): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let exited = false;
  running.child.status.then(() => (exited = true));
  for (;;) {
    try {
      const response = await fetch(url, { method: "OPTIONS" });
      await response.body?.cancel();
      return;
    } catch {
      // not listening yet
    }
    if (exited || Date.now() > deadline) {
      await stopLogged(running, "SIGTERM");
      throw new Error(`radicale did not start on ${url}:\n${running.log()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Starts Radicale with htpasswd users (plain text) and owner-only rights, waits until
 * it answers, and creates the main user's calendar `calendar/`.
 */
export async function startRadicale(options: RadicaleOptions = {}): Promise<Radicale> {
  const users = options.users ?? { calsync: "s3cret-pw" };
  const [username, password] = Object.entries(users)[0];
  const dir = await Deno.makeTempDir({ prefix: "calsync-radicale-" });
  const configFile = join(dir, "config");
  const port = freePort();
  const url = `http://127.0.0.1:${port}/`;
  let running: LoggedProcess | null = null;
  try {
    await Deno.writeTextFile(
      join(dir, "users"),
      Object.entries(users).map(([user, pw]) => `${user}:${pw}\n`).join(""),
    );
    await Deno.writeTextFile(configFile, configText(dir, port));
    running = spawn(configFile);
    await waitUntilUp(url, running);
    const collectionUrl = await makeCalendar(
      `${url}${username}/calendar/`,
      username,
      password,
      options.calendarName ?? "Calendar",
    );
    const stop = async () => {
      if (running) await stopLogged(running, "SIGTERM");
      running = null;
    };
    const close = async () => {
      await stop();
      await Deno.remove(dir, { recursive: true });
    };
    return {
      url,
      collectionUrl,
      username,
      password,
      users,
      stop,
      async restart() {
        await stop();
        const next = spawn(configFile);
        await waitUntilUp(url, next);
        running = next;
      },
      close,
      [Symbol.asyncDispose]: close,
    };
  } catch (error) {
    if (running) await stopLogged(running, "SIGTERM");
    await Deno.remove(dir, { recursive: true });
    throw error;
  }
}

/**
 * Radicale's collection as the one destination of a test master, `radicale`, taking
 * every source.
 */
export async function radicaleDestination(radicale: Radicale): Promise<ConfiguredDestination> {
  const destination = await createCalDavDestination({
    id: "radicale",
    url: radicale.collectionUrl,
    username: radicale.username,
    password: radicale.password,
  });
  return configured(destination, sourceFilter(["*"]));
}
