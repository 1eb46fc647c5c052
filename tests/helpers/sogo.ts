/**
 * A real SOGo 5.8 for tests, as mailcow runs it: users in an SQL table with e-mail
 * logins, calendar mail notifications on (into an SMTP sink, so a test sees every
 * invitation), and mailcow's failed-login block (10 failures in 15 minutes block the
 * account for 15 minutes). PostgreSQL, memcached and SOGo run from Debian's packages on
 * free loopback ports in a temporary folder removed on close, so that several test
 * files can each run their own at once. Needs root (the servers run as their own users).
 *
 * @module
 */
import { dirname, join } from "node:path";
import { freePort } from "./master_process.ts";
import { type LoggedProcess, spawnLogged, stopLogged } from "./process.ts";
import { basicAuth } from "./radicale.ts";
import { type SmtpSink, startSmtpSink } from "./smtp_sink.ts";

/** How long the whole start may take before it gives up and shows the logs. */
const START_TIMEOUT_MS = 60_000;
/** One readiness request; a worker that is still starting may hold it for a while. */
const PROBE_TIMEOUT_MS = 5_000;
const SOGOD = "/usr/sbin/sogod";
const MEMCACHED = "/usr/bin/memcached";

/** Options for {@linkcode startSogo}. */
export interface SogoOptions {
  /**
   * Logins (e-mail addresses) and plain passwords, added to {@linkcode SOGO_USERS}
   * (a login named in both takes the password given here).
   */
  users?: Record<string, string>;
}

/** A running SOGo; `await using` closes it. */
export interface Sogo extends AsyncDisposable {
  /** The server root, `http://127.0.0.1:PORT/`. */
  url: string;
  /** Every login and its password. */
  users: Record<string, string>;
  /** The mail SOGo sent. */
  smtp: SmtpSink;
  /**
   * `login`'s personal calendar, `http://127.0.0.1:PORT/SOGo/dav/LOGIN/Calendar/personal/`,
   * which exists for every user in {@linkcode users} once startSogo has resolved.
   */
  calendarUrl(login: string): string;
  /**
   * Empties SOGo's memcached: cached users and password hashes, and failed-login counts
   * (which lifts a block). SOGo checks a login against the hash cached at the last
   * successful one and counts no failure on a mismatch; only once that entry is gone
   * (SOGo logs a cache cleanup interval of 300 s) or after this do wrong passwords add
   * up to a block. startSogo ends with it, so every test starts in that state.
   */
  flushCache(): Promise<void>;
  /** What SOGo (watchdog and workers) wrote to stderr so far; requests are not logged there. */
  log(): string;
  /** Stops SOGo, PostgreSQL, memcached and the sink, keeping the folder (for a post-mortem). */
  stop(): Promise<void>;
  /** Stops everything and removes the folder. */
  close(): Promise<void>;
}

/** The destination account and an internal colleague, with mailcow-style logins. */
export const SOGO_USERS: Record<string, string> = {
  "unified@example.org": "secret-unified",
  "colleague@example.org": "secret-colleague",
};

/** Debian installs one folder per major version; take the newest. */
async function postgresBin(): Promise<string> {
  const versions: string[] = [];
  for await (const entry of Deno.readDir("/usr/lib/postgresql")) {
    if (/^\d+$/.test(entry.name)) versions.push(entry.name);
  }
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error("PostgreSQL is not installed (Debian package postgresql)");
  return `/usr/lib/postgresql/${newest}/bin`;
}

/** The uid and gid of a system account, from /etc/passwd. */
async function account(name: string): Promise<{ uid: number; gid: number } | null> {
  for (const line of (await Deno.readTextFile("/etc/passwd")).split("\n")) {
    const fields = line.split(":");
    if (fields[0] === name) return { uid: Number(fields[2]), gid: Number(fields[3]) };
  }
  return null;
}

/** `setpriv` arguments that run `command` as `user` (it execs, so the pid stays the server's). */
function asUser(user: string, command: string, args: string[]): string[] {
  return [`--reuid=${user}`, `--regid=${user}`, "--init-groups", command, ...args];
}

/** Runs `command` to the end; throws with its output when it fails. */
async function run(command: string, args: string[]): Promise<void> {
  const output = await new Deno.Command(command, { args, stdin: "null" }).output();
  if (!output.success) {
    const decoder = new TextDecoder();
    throw new Error(
      `${command} ${args.join(" ")} failed:\n${decoder.decode(output.stdout)}${
        decoder.decode(output.stderr)
      }`,
    );
  }
}

/**
 * Lets the servers' own users into `dir`: the temporary folder is private to root, and
 * a parent without the search bit for others (say, a TMPDIR under /root) would keep
 * them out too. Only the search bit is added to a parent, never the right to list it.
 */
async function openToServers(dir: string): Promise<void> {
  await Deno.chmod(dir, 0o711);
  for (let parent = dirname(dir); parent !== dirname(parent); parent = dirname(parent)) {
    const mode = (await Deno.stat(parent)).mode! & 0o7777;
    if ((mode & 0o011) !== 0o011) await Deno.chmod(parent, mode | 0o011);
  }
}

/** Children of `pid`, read from /proc: SOGo's workers, which ignore SIGTERM when idle. */
async function childrenOf(pid: number): Promise<number[]> {
  const found: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = await Deno.readTextFile(`/proc/${entry.name}/stat`);
      // The command name may hold spaces and parentheses; the fields after the last ")"
      // are "state ppid ...".
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) found.push(Number(entry.name));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/**
 * Stops sogod: the watchdog first (frozen, so that it cannot replace the workers it is
 * about to lose), then its workers with SIGKILL, then the watchdog itself.
 */
async function stopSogod(sogod: LoggedProcess): Promise<void> {
  const pid = sogod.child.pid;
  try {
    Deno.kill(pid, "SIGSTOP");
    for (const worker of await childrenOf(pid)) {
      try {
        Deno.kill(worker, "SIGKILL");
      } catch {
        // gone already
      }
    }
  } catch {
    // the watchdog has exited already
  }
  // The workers share its stderr: stopLogged waits until every one of them is gone.
  await stopLogged(sogod, "SIGKILL");
}

/** A PROPFIND (Depth 0) of `url` as `login`; SOGo makes a user's calendar at first access. */
async function propfind(url: string, login: string, password: string): Promise<number> {
  const response = await fetch(url, {
    method: "PROPFIND",
    headers: { authorization: basicAuth(login, password), depth: "0" },
    signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
  });
  await response.body?.cancel();
  return response.status;
}

/** Sends memcached `flush_all` on `port` and waits for its `OK`. */
async function flushMemcached(port: number): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode("flush_all\r\n"));
    let answer = "";
    const buffer = new Uint8Array(64);
    while (!answer.includes("\r\n")) {
      const read = await conn.read(buffer);
      if (read === null) break;
      answer += new TextDecoder().decode(buffer.subarray(0, read));
    }
    if (!answer.startsWith("OK")) throw new Error(`memcached flush_all: ${answer}`);
  } finally {
    conn.close();
  }
}

/** A string literal for SQL. */
function sql(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/**
 * Starts PostgreSQL, memcached, an SMTP sink and SOGo on free loopback ports, and
 * resolves once every user can log in and has a personal calendar. Throws with the
 * logs of the servers if that takes longer than a minute.
 */
export async function startSogo(options: SogoOptions = {}): Promise<Sogo> {
  if (Deno.uid() !== 0) throw new Error("startSogo needs root: the servers run as their own users");
  const users = { ...SOGO_USERS, ...options.users };
  const deadline = Date.now() + START_TIMEOUT_MS;
  const dir = await Deno.makeTempDir({ prefix: "calsync-sogo-" });
  const pgDir = join(dir, "pg");
  const home = join(dir, "home");
  const smtp = startSmtpSink();
  /** Running servers by name, for stopping in reverse order and for the error message. */
  const processes = new Map<string, LoggedProcess>();
  let stopped: Promise<void> | null = null;
  const stop = () =>
    stopped ??= (async () => {
      const sogod = processes.get("sogod");
      if (sogod) await stopSogod(sogod);
      // Immediate shutdown: the cluster is thrown away, so no checkpoint is worth waiting for.
      const postgres = processes.get("postgres");
      if (postgres) await stopLogged(postgres, "SIGQUIT");
      // memcached lingers a second on SIGTERM for its threads; it holds nothing worth it.
      const memcached = processes.get("memcached");
      if (memcached) await stopLogged(memcached, "SIGKILL");
      await smtp.close();
    })();
  const close = async () => {
    await stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  const logs = () =>
    [...processes].map(([name, p]) => `--- ${name} ---\n${p.log().slice(-6000)}`).join("\n");
  /** Polls `ready` until it is true; throws if a server has exited or time is up. */
  const until = async (what: string, ready: () => Promise<boolean>) => {
    let lastError = "";
    for (;;) {
      try {
        if (await ready()) return;
      } catch (error) {
        lastError = String(error);
      }
      const gone = [...processes].find(([, p]) => exited.has(p));
      if (gone || Date.now() > deadline) {
        throw new Error(
          `${what}: ${gone ? `${gone[0]} exited` : "timed out"} ${lastError}\n${logs()}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const exited = new Set<LoggedProcess>();
  const spawn = (name: string, command: string, args: string[], env = {}) => {
    const p = spawnLogged(command, args, env);
    p.child.status.then(() => exited.add(p));
    processes.set(name, p);
    return p;
  };
  try {
    const [postgresUser, sogoUser, memcacheUser] = await Promise.all(
      ["postgres", "sogo", "memcache"].map(account),
    );
    if (!postgresUser || !sogoUser) {
      throw new Error("users postgres and sogo are missing (Debian packages postgresql, sogo)");
    }
    await openToServers(dir);
    await Deno.mkdir(pgDir, { mode: 0o700 });
    await Deno.mkdir(home, { mode: 0o700 });
    await Deno.chown(pgDir, postgresUser.uid, postgresUser.gid);
    await Deno.chown(home, sogoUser.uid, sogoUser.gid);

    // memcached needs nothing else, so it starts while the cluster is made.
    const mcPort = freePort();
    spawn("memcached", MEMCACHED, [
      "-u",
      memcacheUser ? "memcache" : "nobody",
      "-l",
      "127.0.0.1",
      "-p",
      String(mcPort),
      "-U",
      "0",
      "-m",
      "16",
    ]);

    const bin = await postgresBin();
    const data = join(pgDir, "data");
    await run(
      "setpriv",
      asUser("postgres", `${bin}/initdb`, [
        "-D",
        data,
        "-A",
        "trust",
        "-U",
        "postgres",
        "-E",
        "UTF8",
        "--locale=C.UTF-8",
        // Nothing here has to survive a crash: skip every fsync.
        "--no-sync",
        "--no-instructions",
      ]),
    );
    const pgPort = freePort();
    spawn(
      "postgres",
      "setpriv",
      asUser("postgres", `${bin}/postgres`, [
        "-D",
        data,
        "-p",
        String(pgPort),
        "-k",
        pgDir,
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        "fsync=off",
        "-c",
        "synchronous_commit=off",
        "-c",
        "full_page_writes=off",
      ]),
    );
    const pgArgs = ["-h", "127.0.0.1", "-p", String(pgPort), "-U", "postgres"];
    await until("PostgreSQL", async () => {
      const status = await new Deno.Command(`${bin}/pg_isready`, {
        args: [...pgArgs, "-q"],
        stdin: "null",
      }).output();
      return status.success;
    });
    const rows = Object.entries(users).map(([login, password]) =>
      `(${sql(login)}, ${sql(login)}, ${sql(password)}, ${sql(login.split("@")[0])}, ${sql(login)})`
    );
    // SOGo creates its own tables (profiles, folders, sessions) at first start.
    await run(`${bin}/psql`, [
      ...pgArgs,
      "-X",
      "-q",
      "-d",
      "postgres",
      "-v",
      "ON_ERROR_STOP=1",
      "-c",
      "CREATE TABLE sogo_users (c_uid TEXT PRIMARY KEY, c_name TEXT, c_password TEXT, " +
      `c_cn TEXT, mail TEXT); INSERT INTO sogo_users VALUES ${rows.join(", ")};`,
    ]);

    const port = freePort();
    // The password is never checked (trust), but SOGo's URL parser wants one.
    const db = `postgresql://postgres:unused@127.0.0.1:${pgPort}/postgres`;
    // Command-line defaults win over /etc/sogo/sogo.conf, which stays untouched.
    const defaults: Record<string, string> = {
      WONoDetach: "YES",
      WOPort: `127.0.0.1:${port}`,
      WOLogFile: "-",
      WOPidFile: join(home, "sogo.pid"),
      WOWorkersCount: "3",
      SOGoProfileURL: `${db}/sogo_user_profile`,
      OCSFolderInfoURL: `${db}/sogo_folder_info`,
      OCSSessionsFolderURL: `${db}/sogo_sessions_folder`,
      OCSEMailAlarmsFolderURL: `${db}/sogo_alarms_folder`,
      SOGoMemcachedHost: `127.0.0.1:${mcPort}`,
      SOGoTimeZone: "UTC",
      SOGoMailDomain: "example.org",
      SOGoUserSources: `({type = sql; id = directory; viewURL = "${db}/sogo_users"; ` +
        "canAuthenticate = YES; isAddressBook = YES; displayName = Users; " +
        "userPasswordAlgorithm = plain;})",
      // mailcow's own values (data/conf/sogo/sogo.conf).
      SOGoAppointmentSendEMailNotifications: "YES",
      SOGoMailingMechanism: "smtp",
      SOGoSMTPServer: smtp.url,
      SOGoMaximumFailedLoginCount: "10",
      SOGoMaximumFailedLoginInterval: "900",
      SOGoFailedLoginBlockInterval: "900",
    };
    const args = Object.entries(defaults).flatMap(([name, value]) => [`-${name}`, value]);
    const sogod = spawn("sogod", "setpriv", asUser("sogo", SOGOD, args), { HOME: home });
    const url = `http://127.0.0.1:${port}/`;
    const calendarUrl = (login: string) => `${url}SOGo/dav/${login}/Calendar/personal/`;
    // At first start the workers race to create SOGo's tables and the loser logs an error;
    // only a logged-in PROPFIND that succeeds shows that SOGo really serves. One per user
    // also makes that user's personal calendar.
    await Promise.all(
      Object.entries(users).map(([login, password]) =>
        until(
          `SOGo on ${url} for ${login}`,
          async () => (await propfind(calendarUrl(login), login, password)) === 207,
        )
      ),
    );
    // The logins above cached every password: forget them, or wrong passwords would
    // never count towards a block (see flushCache).
    const flushCache = () => flushMemcached(mcPort);
    await flushCache();
    return {
      url,
      users,
      smtp,
      calendarUrl,
      flushCache,
      log: sogod.log,
      stop,
      close,
      [Symbol.asyncDispose]: close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
