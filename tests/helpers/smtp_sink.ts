/**
 * An SMTP server for tests that accepts every mail and keeps it, so that a test can
 * prove a calendar server sent no invitation (or that it did). It speaks just
 * enough of RFC 5321 for a plain client: no TLS, no AUTH, no size limit.
 *
 * @module
 */

/** One message as the sink received it. */
export interface SinkMessage {
  /** The `MAIL FROM` address, without the angle brackets (empty for a bounce). */
  from: string;
  /** Every accepted `RCPT TO` address, in order. */
  to: string[];
  /** The message text after DATA, dot-stuffing undone, lines ending in CRLF. */
  data: string;
}

/** A running sink; `await using` closes it. */
export interface SmtpSink extends AsyncDisposable {
  /** The loopback port it listens on. */
  port: number;
  /** `smtp://127.0.0.1:PORT`, the form servers such as SOGo take. */
  url: string;
  /** The messages received so far, oldest first (a copy). */
  messages(): SinkMessage[];
  /** Forgets the messages received so far. */
  clear(): void;
  /**
   * Resolves with the messages once at least `count` have arrived; throws after
   * `timeoutMs`. Mail may be sent after the request that caused it has been answered.
   */
  waitForMessages(count: number, timeoutMs?: number): Promise<SinkMessage[]>;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

const encoder = new TextEncoder();

/** The address inside `MAIL FROM:<a@b> SIZE=1` or `RCPT TO: <a@b>`. */
function address(argument: string): string {
  const bracketed = /<([^>]*)>/.exec(argument);
  return (bracketed ? bracketed[1] : argument.split(/\s+/)[0] ?? "").trim();
}

/** Reads CRLF- (or LF-) terminated lines from a connection. */
async function* lines(conn: Deno.Conn): AsyncGenerator<string> {
  // Latin-1 maps every byte to one character, so 8-bit mail text survives the split
  // into lines whatever its charset; `data` is turned back into bytes only by the caller.
  const decoder = new TextDecoder("latin1");
  let buffered = "";
  for await (const chunk of conn.readable) {
    buffered += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffered.indexOf("\n")) >= 0) {
      yield buffered.slice(0, end).replace(/\r$/, "");
      buffered = buffered.slice(end + 1);
    }
  }
}

/** Latin-1 text back to bytes and then to UTF-8, which is what SOGo and most clients send. */
function utf8(latin1: string): string {
  const bytes = Uint8Array.from(latin1, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/** Serves one SMTP session on `conn`, handing each complete message to `keep`. */
async function session(conn: Deno.Conn, keep: (message: SinkMessage) => void): Promise<void> {
  const writer = conn.writable.getWriter();
  const reply = (text: string) => writer.write(encoder.encode(`${text}\r\n`));
  let from: string | null = null;
  let to: string[] = [];
  let data: string[] | null = null;
  try {
    await reply("220 calsync-smtp-sink ESMTP");
    for await (const line of lines(conn)) {
      if (data) {
        if (line === ".") {
          keep({ from: from ?? "", to, data: utf8(data.map((l) => `${l}\r\n`).join("")) });
          from = null;
          to = [];
          data = null;
          await reply("250 2.0.0 queued");
        } else {
          data.push(line.startsWith(".") ? line.slice(1) : line);
        }
        continue;
      }
      const [verb, ...rest] = line.split(" ");
      const argument = rest.join(" ");
      switch (verb.toUpperCase()) {
        case "EHLO":
          await reply("250-calsync-smtp-sink");
          await reply("250-8BITMIME");
          await reply("250 SMTPUTF8");
          break;
        case "HELO":
          await reply("250 calsync-smtp-sink");
          break;
        case "MAIL":
          from = address(argument.replace(/^FROM:/i, ""));
          to = [];
          await reply("250 2.1.0 ok");
          break;
        case "RCPT":
          if (from === null) {
            await reply("503 5.5.1 MAIL first");
            break;
          }
          to.push(address(argument.replace(/^TO:/i, "")));
          await reply("250 2.1.5 ok");
          break;
        case "DATA":
          if (from === null || to.length === 0) {
            await reply("503 5.5.1 MAIL and RCPT first");
            break;
          }
          data = [];
          await reply("354 end with <CRLF>.<CRLF>");
          break;
        case "RSET":
          from = null;
          to = [];
          await reply("250 2.0.0 ok");
          break;
        case "NOOP":
          await reply("250 2.0.0 ok");
          break;
        case "QUIT":
          await reply("221 2.0.0 bye");
          return;
        default:
          await reply("502 5.5.2 not implemented");
      }
    }
  } catch {
    // The client hung up or the sink is closing: nothing left to answer.
  } finally {
    try {
      conn.close();
    } catch {
      // closed already by close()
    }
  }
}

/** Starts a sink on a free loopback port (the OS picks it, so parallel tests never clash). */
export function startSmtpSink(): SmtpSink {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  const received: SinkMessage[] = [];
  const open = new Set<Deno.Conn>();
  const sessions = new Set<Promise<void>>();
  const waiters = new Set<() => void>();
  const keep = (message: SinkMessage) => {
    received.push(message);
    for (const wake of waiters) wake();
  };
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        open.add(conn);
        const running = session(conn, keep).finally(() => {
          open.delete(conn);
          sessions.delete(running);
        });
        sessions.add(running);
      }
    } catch {
      // the listener was closed
    }
  })();
  let closed: Promise<void> | null = null;
  const close = () =>
    closed ??= (async () => {
      listener.close();
      for (const conn of open) {
        try {
          conn.close();
        } catch {
          // the session closed it meanwhile
        }
      }
      await accepting;
      await Promise.all([...sessions]);
    })();
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    messages: () => received.map((m) => ({ ...m, to: [...m.to] })),
    clear: () => void received.splice(0),
    async waitForMessages(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new Error(
            `SMTP sink: ${received.length} of ${count} messages after ${timeoutMs} ms`,
          );
        }
        await new Promise<void>((resolve) => {
          const wake = () => {
            clearTimeout(timer);
            waiters.delete(wake);
            resolve();
          };
          const timer = setTimeout(wake, left);
          waiters.add(wake);
        });
      }
      return received.map((m) => ({ ...m, to: [...m.to] }));
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
