import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { freePort, startMaster } from "../helpers/master_process.ts";

const MAIN = fileURLToPath(new URL("../../master/main.ts", import.meta.url));

Deno.test("master: a bad setting stops start-up naming the variable", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", MAIN],
      env: { DATA_DIR: dir, API_PORT: "eighty", MAX_BODY_MB: "-1" },
      stdout: "null",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(stderr);
    assert.equal(code, 2);
    assert.match(text, /API_PORT must be a whole number, got "eighty"/);
    assert.match(text, /MAX_BODY_MB must be between/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("master: generates tokens once, logs where they are, and stops cleanly", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const port = freePort();
    const first = await startMaster(dir, {}, port);
    const adminToken = first.adminToken;
    assert.equal((await Deno.stat(`${dir}/admin_token`)).mode! & 0o777, 0o600);
    const status = await fetch(`${first.url}/api/sync/status`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    assert.equal(status.status, 200);
    await status.body?.cancel();
    assert.equal(await first.stop(), 0);
    assert.match(first.log(), /ADMIN_TOKEN not set: generated one; read it in .*admin_token/);
    assert.match(first.log(), /SIGTERM: finishing in-flight requests/);
    assert.match(first.log(), /stopped/);
    assert.ok(!first.log().includes(adminToken), "the token itself is never logged");
    assert.ok(!first.log().includes(first.enrollmentToken));

    const second = await startMaster(dir, {}, port);
    assert.equal(second.adminToken, adminToken, "the stored token is reused");
    assert.match(second.log(), /using the token stored in/);
    assert.equal(await second.stop(), 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("master: configured tokens are used and no file is written", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const master = await startMaster(dir, {
      ADMIN_TOKEN: "configured-admin-token-0001",
      AGENT_ENROLLMENT_TOKEN: "configured-enrollment-token-01",
    });
    const res = await fetch(`${master.url}/api/sync/status`, {
      headers: { authorization: "Bearer configured-admin-token-0001" },
    });
    assert.equal(res.status, 200);
    await res.body?.cancel();
    await master.stop();
    await assert.rejects(Deno.stat(`${dir}/admin_token`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("master backup and restore: a restored master reports the same status", async () => {
  const dir = await Deno.makeTempDir();
  const run = async (dataDir: string, ...args: string[]) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", MAIN, ...args],
      env: { DATA_DIR: dataDir },
      stdout: "null",
      stderr: "piped",
    }).output();
    return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
  };
  try {
    const first = await startMaster(`${dir}/a`);
    const reg = await fetch(`${first.url}/api/agents/register`, {
      method: "POST",
      headers: { authorization: `Bearer ${first.enrollmentToken}` },
      body: JSON.stringify({
        agent_id: "pc1",
        agent_name: "PC 1",
        sources: [{ source_id: "main", name: "Main", type: "ics" }],
      }),
    });
    const { token } = await reg.json();
    const put = await fetch(`${first.url}/api/agents/pc1/sources/main/snapshot`, {
      method: "PUT",
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify({
        window: { start: "2026-03-01T00:00:00Z", end: "2026-04-01T00:00:00Z" },
        generated_at: "2026-03-01T00:00:00Z",
        events: [{ uid: "a", start: "2026-03-02T09:00:00Z", end: "2026-03-02T10:00:00Z" }],
      }),
    });
    assert.equal(put.status, 200);
    await put.body?.cancel();
    const status = async (url: string, adminToken: string) =>
      (await (await fetch(`${url}/api/sync/status`, {
        headers: { authorization: `Bearer ${adminToken}` },
      })).json()).agents;
    const before = await status(first.url, first.adminToken);
    await first.stop();

    const file = `${dir}/backup.json`;
    assert.equal((await run(`${dir}/a`, "backup", file)).code, 0);
    assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
    assert.equal((await run(`${dir}/b`, "restore", file)).code, 0);
    const again = await run(`${dir}/b`, "restore", file);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /the store is not empty/);
    const wrong = await run(`${dir}/c`, "restore", MAIN);
    assert.notEqual(wrong.code, 0);

    const restored = await startMaster(`${dir}/b`);
    assert.deepEqual(await status(restored.url, restored.adminToken), before);
    const heartbeat = await fetch(`${restored.url}/api/agents/pc1/heartbeat`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      body: "{}",
    });
    assert.equal(heartbeat.status, 200, "the agent's token still works");
    await heartbeat.body?.cancel();
    await restored.stop();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
