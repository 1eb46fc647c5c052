import assert from "node:assert/strict";
import { Microsoft365Settings } from "../../agent/sources/microsoft365.ts";

const APP = {
  tenant_id: "contoso.onmicrosoft.com",
  client_id: "11111111-2222-3333-4444-555555555555",
  mailbox: "ann@contoso.com",
};

Deno.test("the agent's Microsoft 365 client secret written env:NAME is read from the environment", () => {
  Deno.env.set("CALSYNC_TEST_M365_SECRET", "s3cr3t~value");
  try {
    const settings = Microsoft365Settings.parse({
      ...APP,
      client_secret: "env:CALSYNC_TEST_M365_SECRET",
    });
    assert.equal(settings.client_secret, "s3cr3t~value");
  } finally {
    Deno.env.delete("CALSYNC_TEST_M365_SECRET");
  }
  const unset = Microsoft365Settings.safeParse({ ...APP, client_secret: "env:CALSYNC_TEST_UNSET" });
  assert.equal(unset.success, false);
  assert.deepEqual(unset.error!.issues.map((i) => [i.path.join("."), i.message]), [
    ["client_secret", "environment variable CALSYNC_TEST_UNSET is not set"],
  ]);
});
