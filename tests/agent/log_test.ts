import assert from "node:assert/strict";
import { join } from "node:path";
import { Logger, MemorySink, RotatingFileSink } from "../../agent/log.ts";
import { tempDir } from "./helpers.ts";

Deno.test("log: lines carry the ISO time and level; debug only when asked", () => {
  const sink = new MemorySink();
  const now = () => new Date("2026-03-29T08:00:00.000Z");
  const log = new Logger({ sinks: [sink], now });
  log.debug("hidden");
  log.info("hello");
  log.error("broken");
  new Logger({ level: "debug", sinks: [sink], now }).debug("shown");
  assert.deepEqual(sink.lines, [
    "2026-03-29T08:00:00.000Z INFO  hello",
    "2026-03-29T08:00:00.000Z ERROR broken",
    "2026-03-29T08:00:00.000Z DEBUG shown",
  ]);
});

Deno.test("log: secrets never reach a sink", () => {
  const sink = new MemorySink();
  const log = new Logger({ sinks: [sink] });
  log.addSecret("agent-token-1-abcdef");
  log.addSecret("ab");
  log.warn("sent Bearer agent-token-1-abcdef to ab");
  assert.match(sink.lines[0], / WARN {2}sent Bearer \*\*\* to ab$/);
});

Deno.test("log: the file rotates by size and keeps three old files", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "calendar_agent.log");
  const sink = new RotatingFileSink(path, { maxBytes: 100, keep: 3 });
  for (let i = 0; i < 10; i++) sink.write(`line ${i} ${"x".repeat(40)}`);
  const names = [];
  for await (const entry of Deno.readDir(dir.path)) names.push(entry.name);
  assert.deepEqual(names.sort(), [
    "calendar_agent.log",
    "calendar_agent.log.1",
    "calendar_agent.log.2",
    "calendar_agent.log.3",
  ]);
  for (const name of names) {
    assert.ok((await Deno.stat(join(dir.path, name))).size <= 100, `${name} too big`);
  }
  assert.match(await Deno.readTextFile(path), /^line 8 x+\nline 9 x+\n$/);
  assert.match(await Deno.readTextFile(`${path}.3`), /^line 2 /);
});

Deno.test("log: an existing file's size counts toward rotation", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "calendar_agent.log");
  await Deno.writeTextFile(path, "x".repeat(90) + "\n");
  new RotatingFileSink(path, { maxBytes: 100 }).write("this line does not fit");
  assert.equal(await Deno.readTextFile(path), "this line does not fit\n");
  assert.equal((await Deno.readTextFile(`${path}.1`)).length, 91);
});
