/**
 * A real SOGo 5.8 for tests, as mailcow runs it: users in an SQL view with e-mail
 * logins, calendar mail notifications on (into an SMTP sink, so a test sees every
 * invitation), and mailcow's failed-login block (10 failures in 15 minutes block the
 * account for 15 minutes). PostgreSQL, memcached and SOGo run from Debian's packages on
 * free loopback ports in a temporary folder removed on close.
 *
 * @module
 */
import { join } from "node:path";
import { freePort } from "./master_process.ts";
import { type LoggedProcess, spawnLogged, stopLogged } from "./process.ts";
import { basicAuth } from "./radicale.ts";
import { type SmtpSink, startSmtpSink } from "./smtp_sink.ts";

const START_TIMEOUT_MS = 60_000;

/** Options for {@linkcode startSogo}. */
export interface SogoOptions {
  /** Logins (e-mail addresses) and plain passwords; default a destination account and a colleague. */
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
  /** `login`'s personal calendar, which exists once this is answered. */
  calendarUrl(login: string): string;
  /** Stops every process and removes the folder. */
  close(): Promise<void>;
}

/** The destination account and an internal colleague, with mailcow-style logins. */
export const SOGO_USERS = {
  "unified@example.org": "secret-unified",
  "colleague@example.org": "secret-colleague",
};

async function postgresBin(): Promise<string> {
  const versions: string[] = [];
  for await (const entry of Deno.readDir("/usr/lib/postgresql")) versions.push(entry.name);
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error("PostgreSQL is not installed (Debian package postgresql)");
  return `/usr/lib/postgresql/${newest}/bin`;
}

/** Runs `command` as `user` and waits; throws with its output when it fails. */
async function runAs(user: string, command: string, args: string[]): Promise<string> {
  const output = await new Deno.Command("setpriv", {
    args: [`--reuid=${user}`, `--regid=${user}`, "--init-groups", command, ...args],
    stdin: "null",
  }).output();
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  if (!output.success) throw new Error(`${command} ${args.join(" ")} failed:\n${text}`);
  return text;
}

function spawnAs(user: string, command: string, args: string[], env = {}): LoggedProcess {
  return spawnLogged(
    "setpriv",
    [`--reuid=${user}`, `--regid=${user}`, "--init-groups", command, ...args],
    env,
  );
}

/** Children of `pid`, read from /proc (SOGo's workers, which ignore SIGTERM when idle). */
async function childrenOf(pid: number): Promise<number[]> {
  const found: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = await Deno.readTextFile(`/proc/${entry.name}/stat`);
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) found.push(Number(entry.name));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

async function until(what: string, check: () => Promise<boolean>, logs: () => string) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${what} did not start:\n${logs()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Answers a PROPFIND of `url` as `login`: SOGo makes a user's calendar at first access. */
async function propfind(url: string, login: string, password: string): Promise<number> {
  const response = await fetch(url, {
    method: "PROPFIND",
    headers: { authorization: basicAuth(login, password), depth: "0" },
  });
  await response.body?.cancel();
  return response.status;
}

/** Starts PostgreSQL, memcached, an SMTP sink and SOGo; every user's calendar exists. */
export async function startSogo(options: SogoOptions = {}): Promise<Sogo> {
  const users = options.users ?? SOGO_USERS;
  const dir = await Deno.makeTempDir({ prefix: "calsync-sogo-" });
  // postgres and sogo, not root, must reach their folders inside.
  await Deno.chmod(dir, 0o711);
  const pgDir = join(dir, "pg");
  const home = join(dir, "home");
  await Deno.mkdir(pgDir);
  await Deno.mkdir(home);
  await new Deno.Command("chown", { args: ["postgres", pgDir] }).output();
  await new Deno.Command("chown", { args: ["sogo", home] }).output();
  const processes: LoggedProcess[] = [];
  const smtp = startSmtpSink();
  let sogod: LoggedProcess | null = null;
  const close = async () => {
    if (sogod) {
      // The watchdog restarts workers it loses; stop it first, then its idle workers.
      const workers = await childrenOf(sogod.child.pid);
      await stopLogged(sogod, "SIGKILL");
      for (const pid of workers) {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch {
          // gone already
        }
      }
      sogod = null;
    }
    for (const p of processes.reverse()) await stopLogged(p, "SIGTERM");
    processes.length = 0;
    await smtp.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    const bin = await postgresBin();
    const pgPort = freePort();
    await runAs("postgres", `${bin}/initdb`, [
      "-D",
      join(pgDir, "data"),
      "-A",
      "trust",
      "-U",
      "postgres",
      "-E",
      "UTF8",
      "--locale=C.UTF-8",
    ]);
    const postgres = spawnAs("postgres", `${bin}/postgres`, [
      "-D",
      join(pgDir, "data"),
      "-c",
      "listen_addresses=127.0.0.1",
      "-p",
      String(pgPort),
      "-k",
      pgDir,
      "-c",
      "fsync=off",
    ]);
    processes.push(postgres);
    const psql = (db: string, sql: string) =>
      runAs("postgres", `${bin}/psql`, [
        "-h",
        "127.0.0.1",
        "-p",
        String(pgPort),
        "-U",
        "postgres",
        "-d",
        db,
        "-v",
        "ON_ERROR_STOP=1",
        "-c",
        sql,
      ]);
    await until("PostgreSQL", async () => (await psql("postgres", "SELECT 1"), true), postgres.log);
    await psql("postgres", "CREATE DATABASE sogo");
    const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;
    const rows = Object.entries(users).map(([login, pw]) =>
      `(${quote(login)}, ${quote(login)}, ${quote(pw)}, ${quote(login.split("@")[0])}, ${
        quote(login)
      })`
    );
    await psql(
      "sogo",
      "CREATE TABLE sogo_users (c_uid TEXT PRIMARY KEY, c_name TEXT, c_password TEXT, " +
        `c_cn TEXT, mail TEXT); INSERT INTO sogo_users VALUES ${rows.join(", ")};`,
    );

    const mcPort = freePort();
    const memcached = spawnAs("memcache", "/usr/bin/memcached", [
      "-l",
      "127.0.0.1",
      "-p",
      String(mcPort),
      "-U",
      "0",
    ]);
    processes.push(memcached);

    const port = freePort();
    const db = `postgresql://postgres:unused@127.0.0.1:${pgPort}/sogo`;
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
      SOGoSMTPServer: `smtp://127.0.0.1:${smtp.port}`,
      SOGoMaximumFailedLoginCount: "10",
      SOGoMaximumFailedLoginInterval: "900",
      SOGoFailedLoginBlockInterval: "900",
    };
    const args = Object.entries(defaults).flatMap(([name, value]) => [`-${name}`, value]);
    sogod = spawnAs("sogo", "/usr/sbin/sogod", args, { HOME: home });
    const url = `http://127.0.0.1:${port}/`;
    const calendarUrl = (login: string) => `${url}SOGo/dav/${login}/Calendar/personal/`;
    const running = sogod;
    for (const [login, password] of Object.entries(users)) {
      await until(
        `SOGo on ${url}`,
        async () => (await propfind(calendarUrl(login), login, password)) === 207,
        running.log,
      );
    }
    return { url, users, smtp, calendarUrl, close, [Symbol.asyncDispose]: close };
  } catch (error) {
    await close();
    throw error;
  }
}
