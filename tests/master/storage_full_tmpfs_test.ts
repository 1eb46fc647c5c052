import assert from "node:assert/strict";
import { join } from "node:path";
import { enrol, testMaster, timed } from "../helpers/master_app.ts";
import { SqliteStore } from "../../master/store/sqlite.ts";

const WINDOW = { start: "2026-03-01T00:00:00Z", end: "2026-04-01T00:00:00Z" };
const SNAPSHOT_PATH = "/api/agents/pc1/sources/main/snapshot";
const ALL = { start: "2000-01-01T00:00:00Z", end: "2100-01-01T00:00:00Z" };

function snapshotBody(count: number, generated_at: string) {
  const events = Array.from(
    { length: count },
    (_, i) =>
      timed(`e${i}`, "2026-03-02T09:00:00Z", 60, { description: `event ${i} `.repeat(200) }),
  );
  return { window: WINDOW, generated_at, events };
}

async function run(cmd: string, ...args: string[]): Promise<{ ok: boolean; stderr: string }> {
  const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output();
  return { ok: out.success, stderr: new TextDecoder().decode(out.stderr).trim() };
}

/** Whether a file system is mounted at `dir`, as the kernel's mount table says. */
async function mountedAt(dir: string): Promise<boolean> {
  const table = await Deno.readTextFile("/proc/self/mounts");
  return table.split("\n").some((line) => line.split(" ")[1] === dir);
}

/** Writes 64 KiB blocks to `path` until the file system is full. */
async function fill(path: string): Promise<void> {
  const block = new Uint8Array(64 * 1024).fill(1);
  using file = await Deno.open(path, { write: true, create: true });
  try {
    for (;;) await file.write(block);
  } catch (err) {
    if (!String(err).includes("No space left")) throw err;
  }
}

Deno.test("storage full (tmpfs): a DATA_DIR whose file system is full answers 507, then recovers", async () => {
  const dir = await Deno.makeTempDir({ prefix: "calsync-full-" });
  try {
    const mounted = await run("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", dir);
    if (!mounted.ok) {
      console.log(`skipped: cannot mount a small tmpfs here (${mounted.stderr || "no reason"})`);
      return;
    }
    try {
      const store = await SqliteStore.open(dir);
      await using master = await testMaster({ store });
      const token = await enrol(master, "pc1");
      const first = await master.call("PUT", SNAPSHOT_PATH, {
        token,
        body: snapshotBody(2, "2026-03-01T11:00:00Z"),
      });
      assert.equal(first.status, 200);
      const before = await store.listEvents(ALL);

      const filler = join(dir, "filler");
      await fill(filler);
      const full = await master.call("PUT", SNAPSHOT_PATH, {
        token,
        body: snapshotBody(200, "2026-03-01T11:30:00Z"),
      });
      assert.equal(full.status, 507, master.log.join("\n"));
      assert.equal((await full.json()).error.code, "storage_full");
      const sick = await master.call("GET", "/health");
      assert.equal(sick.status, 503);
      assert.equal((await sick.json()).store.ok, false);
      assert.deepEqual(await store.listEvents(ALL), before, "the earlier snapshot is intact");

      await Deno.remove(filler);
      const again = await master.call("PUT", SNAPSHOT_PATH, {
        token,
        body: snapshotBody(200, "2026-03-01T11:30:00Z"),
      });
      assert.equal(again.status, 200);
      assert.equal((await master.call("GET", "/health")).status, 200);
    } finally {
      // Every layer: a loaded CI machine once left the tmpfs mounted twice on `dir`.
      do {
        const unmounted = await run("umount", dir);
        assert.ok(unmounted.ok, unmounted.stderr);
      } while (await mountedAt(dir));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
