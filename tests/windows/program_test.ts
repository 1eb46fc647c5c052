/**
 * `runProgram` starting the real powershell.exe as the agent does: output collected as
 * the bytes PowerShell wrote, the exit code, and a program past its time limit killed.
 */
import assert from "node:assert/strict";
import { encodedCommandArgs, POWERSHELL } from "../../agent/windows/powershell.ts";
import { decodeText, ProgramTimeoutError, runProgram } from "../../agent/windows/program.ts";
import { NOT_WINDOWS, processesLeft, processesWithCommandLine } from "./helpers.ts";

Deno.test({
  name: "runProgram collects powershell.exe's UTF-8 bytes, its standard error and exit code",
  ignore: NOT_WINDOWS,
  async fn() {
    // Letters outside every OEM code page: console text would lose them, bytes written to
    // the standard output stream arrive as they are.
    const text = "Prêt · Kalender · カレンダー · €";
    const command = [
      `$bytes = [System.Text.UTF8Encoding]::new($false).GetBytes('${text}')`,
      "$stdout = [Console]::OpenStandardOutput()",
      "$stdout.Write($bytes, 0, $bytes.Length)",
      "$stdout.Flush()",
      "[Console]::Error.Write('calsync-on-stderr')",
      "exit 3",
    ].join("\n");
    const result = await runProgram(POWERSHELL, encodedCommandArgs(command), {
      timeoutMs: 60_000,
    });
    assert.equal(result.code, 3);
    assert.equal(decodeText(result.stdout), text);
    // Only contains: PowerShell may add progress records of its own on standard error.
    assert.ok(
      decodeText(result.stderr).includes("calsync-on-stderr"),
      `standard error: ${decodeText(result.stderr)}`,
    );
  },
});

Deno.test({
  name: "runProgram kills powershell.exe at its time limit, and no process is left",
  ignore: NOT_WINDOWS,
  async fn() {
    // The command's base64 is in the process's command line, so WMI can find the process
    // whether PowerShell got as far as running the command or not.
    const args = encodedCommandArgs(`Start-Sleep 30 <# calsync ${crypto.randomUUID()} #>`);
    const encoded = args[args.length - 1];

    // First the search itself, on a PowerShell that surely runs: it must find it.
    const controlArgs = encodedCommandArgs(`Start-Sleep 60 <# calsync ${crypto.randomUUID()} #>`);
    const control = new Deno.Command(POWERSHELL, {
      args: controlArgs,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      assert.deepEqual(await processesWithCommandLine(controlArgs[controlArgs.length - 1]), [
        control.pid,
      ]);
    } finally {
      control.kill("SIGKILL");
      await control.status;
    }

    const started = Date.now();
    await assert.rejects(
      runProgram(POWERSHELL, args, { timeoutMs: 2_000 }),
      (error) => error instanceof ProgramTimeoutError && error.timeoutMs === 2_000,
    );
    const took = Date.now() - started;
    assert.ok(took < 15_000, `runProgram returned after ${took} ms, not at its 2 s limit`);
    assert.deepEqual(await processesLeft(encoded), [], "powershell.exe still runs");
  },
});
