/**
 * An SMTP server for tests that accepts every mail and keeps it, so that a test can
 * prove a calendar server sent no invitation (or that it did).
 *
 * @module
 */

/** One mail the sink received. */
export interface SinkMessage {
  from: string;
  to: string[];
  /** The message as sent in DATA, dot-stuffing undone. */
  data: string;
}

/** A running sink; `await using` closes it. */
export interface SmtpSink extends AsyncDisposable {
  port: number;
  /** Every mail received so far. */
  messages(): SinkMessage[];
  close(): Promise<void>;
}

const encoder = new TextEncoder();

async function serve(conn: Deno.Conn, received: SinkMessage[]): Promise<void> {
  const reply = (line: string) => conn.write(encoder.encode(`${line}\r\n`));
  const decoder = new TextDecoder();
  let buffer = "";
  let mail: SinkMessage | null = null;
  let data: string[] | null = null;
  await reply("220 calsync-test-sink ESMTP");
  const reader = conn.readable.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf("\r\n")) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (data !== null) {
          if (line === ".") {
            received.push({ ...mail!, data: data.join("\r\n") });
            mail = null;
            data = null;
            await reply("250 queued");
          } else data.push(line.startsWith("..") ? line.slice(1) : line);
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === "EHLO" || verb === "HELO") await reply("250 calsync-test-sink");
        else if (verb === "MAIL") {
          mail = { from: line.slice(line.indexOf(":") + 1).trim(), to: [], data: "" };
          await reply("250 ok");
        } else if (verb === "RCPT") {
          mail?.to.push(line.slice(line.indexOf(":") + 1).trim());
          await reply("250 ok");
        } else if (verb === "DATA") {
          data = [];
          await reply("354 end with .");
        } else if (verb === "QUIT") {
          await reply("221 bye");
          return;
        } else if (verb === "RSET") {
          mail = null;
          await reply("250 ok");
        } else await reply("250 ok");
      }
    }
  } catch {
    // The client went away.
  } finally {
    reader.releaseLock();
    try {
      conn.close();
    } catch {
      // closed already
    }
  }
}

/** Starts a sink on a free loopback port. */
export function startSmtpSink(): SmtpSink {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const received: SinkMessage[] = [];
  const connections = new Set<Promise<void>>();
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        const served = serve(conn, received).finally(() => connections.delete(served));
        connections.add(served);
      }
    } catch {
      // closed
    }
  })();
  const close = async () => {
    try {
      listener.close();
    } catch {
      // closed already
    }
    await accepting;
    await Promise.all(connections);
  };
  return {
    port: (listener.addr as Deno.NetAddr).port,
    messages: () => [...received],
    close,
    [Symbol.asyncDispose]: close,
  };
}
