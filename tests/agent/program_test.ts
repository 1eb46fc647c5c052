/**
 * `runProgram` on its own: exit codes, raw output bytes, a missing program, and the time
 * limit, with Deno itself (`deno eval`) as the program so the tests need nothing else.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  decodeText,
  ProgramNotFoundError,
  ProgramTimeoutError,
  runProgram,
} from "../../agent/windows/program.ts";
import { tempDir } from "./helpers.ts";

/** The arguments that make Deno run `code`. */
function evalArgs(code: string): string[] {
  return ["eval", "--no-config", code];
}

/** Whether a process with `pid` still exists (signal 0 is not offered; SIGCONT is harmless). */
function alive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Polls for `path` until it holds text, for a process that writes it soon after starting. */
async function textOf(path: string): Promise<string> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const text = await Deno.readTextFile(path).catch(() => "");
    if (text !== "") return text;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${path} stayed empty`);
}

Deno.test("runProgram: the exit code and both outputs, bytes kept as written", async () => {
  const result = await runProgram(
    Deno.execPath(),
    evalArgs(
      "Deno.stdout.writeSync(new Uint8Array([0xff, 0xfe, 0x41, 0x00, 0x0a]));" +
        "Deno.stderr.writeSync(new TextEncoder().encode('Grüße'));" +
        "Deno.exit(3);",
    ),
    { timeoutMs: 60_000 },
  );
  assert.equal(result.code, 3);
  assert.deepEqual(result.stdout, new Uint8Array([0xff, 0xfe, 0x41, 0x00, 0x0a]));
  assert.equal(Object.getPrototypeOf(result.stdout), Uint8Array.prototype);
  assert.equal(decodeText(result.stderr), "Grüße");
});

Deno.test("runProgram: output larger than a pipe's buffer arrives whole", async () => {
  const result = await runProgram(
    Deno.execPath(),
    evalArgs("console.log('7'.repeat(1_000_000))"),
    { timeoutMs: 60_000 },
  );
  assert.equal(result.code, 0);
  assert.equal(decodeText(result.stdout), "7".repeat(1_000_000) + "\n");
});

Deno.test("runProgram: the variables given are added to the agent's environment", async () => {
  const result = await runProgram(
    Deno.execPath(),
    evalArgs("console.log(Deno.env.get('CALSYNC_PROGRAM_TEST'), Deno.env.has('PATH'))"),
    { timeoutMs: 60_000, env: { CALSYNC_PROGRAM_TEST: "given" } },
  );
  assert.equal(decodeText(result.stdout), "given true\n");
});

Deno.test("runProgram: a program that does not exist is a ProgramNotFoundError", async () => {
  const error = await runProgram("calsync-no-such-program", ["--version"], { timeoutMs: 60_000 })
    .then(() => assert.fail("it started"), (e) => e);
  assert.ok(error instanceof ProgramNotFoundError, String(error));
  assert.equal(error.program, "calsync-no-such-program");
  assert.equal(error.message, "cannot start calsync-no-such-program: not found");
});

Deno.test({
  name: "runProgram: a program past its limit is killed and a ProgramTimeoutError thrown",
  // SIGCONT, which tells whether the process is gone, is not on Windows.
  ignore: Deno.build.os === "windows",
  fn: async () => {
    let pid: number | undefined;
    const error = await runProgram(Deno.execPath(), evalArgs("setTimeout(() => {}, 600_000)"), {
      timeoutMs: 500,
      onSpawn: (started) => pid = started,
    }).then(() => assert.fail("it finished"), (e) => e);
    assert.ok(error instanceof ProgramTimeoutError, String(error));
    assert.equal(error.message, `${Deno.execPath()} did not finish within 0.5 s and was stopped`);
    assert.ok(pid !== undefined, "onSpawn was told the process id");
    assert.equal(alive(pid), false, `process ${pid} is still running`);
  },
});

Deno.test({
  name: "runProgram: a process left behind holding the output does not outlast the limit",
  // SIGCONT, which tells whether the process left behind is alive, is not on Windows.
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await using dir = await tempDir();
    const pidFile = join(dir.path, "left-behind.pid");
    // The program starts a second Deno that inherits its output pipes, then exits at once:
    // the second one holds the pipes open long after.
    const leftBehind = `Deno.writeTextFileSync(${JSON.stringify(pidFile)}, String(Deno.pid));` +
      "setTimeout(() => {}, 600_000);";
    const program = `new Deno.Command(Deno.execPath(), { args: ${
      JSON.stringify(evalArgs(leftBehind))
    }, stdout: "inherit", stderr: "inherit" }).spawn(); Deno.exit(0);`;
    const error = await runProgram(Deno.execPath(), evalArgs(program), { timeoutMs: 3_000 })
      .then(() => assert.fail("it finished"), (e) => e);
    const pid = Number(await textOf(pidFile));
    try {
      assert.ok(error instanceof ProgramTimeoutError, String(error));
    } finally {
      if (alive(pid)) Deno.kill(pid, "SIGKILL");
    }
  },
});
