/**
 * The CalendarClient as web apps get it: built by `deno task build:client` into
 * `dist/client.js`, then run by Node against a live master.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { eventOrder, liveMaster } from "../helpers/live_master.ts";
import { freePort } from "../helpers/master_process.ts";
import type { StoredEvent } from "../../shared/protocol.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BUNDLE = `${ROOT}dist/client.js`;
const CHECK = fileURLToPath(new URL("../fixtures/client_node_check.mjs", import.meta.url));
const text = new TextDecoder();

/** Runs `command` in the repository and returns its stdout; fails the test on a non-zero exit. */
async function run(command: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(command, {
    args,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = text.decode(out.stdout);
  assert.equal(
    out.code,
    0,
    `${command} ${args.join(" ")} failed:\n${stdout}\n${text.decode(out.stderr)}`,
  );
  return stdout;
}

Deno.test("the bundle built by `deno task build:client` works in Node against a live master", async () => {
  // Without Node on PATH, Deno runs itself for `node`: insist on Node's own version line.
  const version = (await run("node", ["--version"])).trim();
  const major = /^v(\d+)\.\d+\.\d+$/.exec(version)?.[1];
  assert.ok(major, `'node --version' printed ${JSON.stringify(version)}: install Node.js 20+`);
  assert.ok(Number(major) >= 20, `Node ${version} is older than 20`);

  await run(Deno.execPath(), ["task", "build:client"]);
  const bundle = await Deno.readTextFile(BUNDLE);
  assert.doesNotMatch(bundle, /\bDeno\./, "the bundle uses no Deno API");

  await using master = await liveMaster();
  const closed = `http://127.0.0.1:${freePort()}`;
  const report = JSON.parse(
    await run("node", [CHECK, BUNDLE, master.url, master.readToken, master.adminToken, closed]),
  );

  assert.equal(report.node, version);
  assert.deepEqual((report.events as StoredEvent[]).toSorted(eventOrder), master.sent);
  assert.deepEqual(report.pagedByOne, report.events, "pages of one event, cursor by cursor");
  assert.deepEqual(report.iterated, report.events, "events() yields the same, in order");
  assert.deepEqual(
    (report.pc2Main as StoredEvent[]).toSorted(eventOrder),
    master.sent.filter((e) => e.agent_id === "pc2" && e.source_id === "main"),
  );
  assert.deepEqual(report.totals, { agents: 2, sources: 3, events: master.sent.length });
  assert.deepEqual(report.agents, ["pc1", "pc2"]);

  assert.deepEqual(
    pick(report.forbidden, ["name", "instanceOf", "isError", "status", "code"]),
    {
      name: "CalendarHttpError",
      instanceOf: ["CalendarClientError", "CalendarHttpError"],
      isError: true,
      status: 403,
      code: "forbidden",
    },
  );
  assert.deepEqual(pick(report.wrongToken, ["instanceOf", "status", "code"]), {
    instanceOf: ["CalendarClientError", "CalendarHttpError"],
    status: 401,
    code: "invalid_token",
  });
  assert.deepEqual(pick(report.unreachable, ["name", "instanceOf", "timedOut", "hasCause"]), {
    name: "CalendarNetworkError",
    instanceOf: ["CalendarClientError", "CalendarNetworkError"],
    timedOut: false,
    hasCause: true,
  });
  assert.match(report.unreachable.message, /could not reach .*ECONNREFUSED/);
  assert.deepEqual(pick(report.badArgument, ["name", "instanceOf", "argument"]), {
    name: "CalendarArgumentError",
    instanceOf: ["CalendarClientError", "CalendarArgumentError"],
    argument: "end",
  });
  assert.deepEqual(pick(report.badAnswer, ["name", "instanceOf", "field"]), {
    name: "CalendarResponseError",
    instanceOf: ["CalendarClientError", "CalendarResponseError"],
    field: "events[0].start",
  });
});

/** The `keys` of `record`, to compare only what the test is about. */
function pick(record: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, record[k]]));
}
