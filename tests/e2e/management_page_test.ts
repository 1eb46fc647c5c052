/**
 * The management page in headless Chromium with JavaScript turned off, over a real agent
 * run: agent → master → Radicale, with every admin step clicked through the page and its
 * effect checked in Radicale. Screenshots of each step are kept in test-artifacts/.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { CalDavClient } from "../../shared/caldav/client.ts";
import { artifactsDir, launchChromium, screenshot } from "../helpers/browser.ts";
import { startMaster } from "../helpers/master_process.ts";
import {
  calendar,
  day,
  runAgentOk,
  timedEvent,
  vevent,
  writeAgentConfig,
} from "../helpers/pipeline.ts";
import { type Radicale, startRadicale } from "../helpers/radicale.ts";

const ADMIN_TOKEN = "browser-test-admin-token-0123456789";

async function summaries(radicale: Radicale): Promise<string[]> {
  const client = await CalDavClient.open({
    url: radicale.collectionUrl,
    username: radicale.username,
    password: radicale.password,
  });
  const objects = await client.listObjects();
  return objects.map((o) => /^SUMMARY:(.*)$/m.exec(o.data)?.[1].trim() ?? "").sort();
}

async function until(what: string, check: () => Promise<boolean>, ms = 15_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** `YYYY-MM-DD` of today plus `days`. */
function isoDay(days: number): string {
  const d = day(days);
  return `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6)}`;
}

/** Opens an action from the dashboard and confirms it on its confirmation page. */
async function confirmAction(page: Page, row: string, link: string, button: string) {
  await page.locator(row).getByRole("link", { name: link }).click();
  await page.getByRole("button", { name: button }).click();
  await page.waitForURL(/\/\?done=/);
}

Deno.test("management page: sign in, see a real agent run, reset it, remove a source", async () => {
  const work = await Deno.makeTempDir({ prefix: "calsync-browser-" });
  const shots = await artifactsDir("management-page");
  await using radicale = await startRadicale();
  const master = await startMaster(`${work}/data`, {
    ADMIN_TOKEN,
    CALDAV_URL: radicale.collectionUrl,
    CALDAV_USERNAME: radicale.username,
    CALDAV_PASSWORD: radicale.password,
    SYNC_INTERVAL_MINUTES: "60",
    TZ: "UTC",
  });
  await using browser = await launchChromium();
  try {
    await Deno.writeTextFile(
      `${work}/team.ics`,
      calendar([
        timedEvent("review@browser", 1, 9, ["SUMMARY:Design review"]),
        timedEvent("standup@browser", 1, 9, ["SUMMARY:Standup"]),
      ]),
    );
    await Deno.writeTextFile(
      `${work}/holidays.ics`,
      calendar([
        vevent([
          "UID:holiday@browser",
          `DTSTART;VALUE=DATE:${day(2)}`,
          `DTEND;VALUE=DATE:${day(3)}`,
          "SUMMARY:Office closed",
        ]),
      ]),
    );
    const config = await writeAgentConfig(`${work}/agent.json`, master, {
      id: "pc1",
      name: "Front office PC",
    }, [
      { type: "ics", name: "Team", path: "team.ics", id: "team" },
      { type: "ics", name: "Holidays", path: "holidays.ics", id: "holidays" },
    ]);
    await runAgentOk(config);

    // Without JavaScript: everything below must work as plain links and forms.
    const context = await browser.newContext({
      javaScriptEnabled: false,
      viewport: { width: 1400, height: 900 },
    });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);

    await page.goto(`${master.url}/`);
    assert.match(page.url(), /\/login$/);
    await page.fill('input[name="token"]', "not-the-admin-token-0000");
    await page.getByRole("button", { name: "Sign in" }).click();
    assert.match(await page.getByRole("alert").innerText(), /not the admin token/);
    await screenshot(page, shots, "01-wrong-token");

    await page.fill('input[name="token"]', ADMIN_TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${master.url}/`);
    const agentRow = page.locator('tr[data-agent="pc1"]');
    assert.match(await agentRow.innerText(), /Front office PC[\s\S]*online/);
    assert.match(await page.locator('tr[data-source="pc1/team"]').innerText(), /Team[\s\S]*\b2\b/);
    assert.match(await page.locator('tr[data-source="pc1/holidays"]').innerText(), /Holidays/);
    await screenshot(page, shots, "02-dashboard");

    // The upload's own (debounced) reconcile writes the three items whenever the machine
    // gets to it; one of them is then deleted by hand, which only "Reconcile now" repairs:
    // the master is not told of a change in Radicale.
    await until(
      "the automatic reconcile",
      async () => (await summaries(radicale)).length === 3,
      60_000,
    );
    const client = await CalDavClient.open({
      url: radicale.collectionUrl,
      username: radicale.username,
      password: radicale.password,
    });
    const standup = (await client.listObjects()).find((o) => /^SUMMARY:Standup/m.test(o.data))!;
    await client.remove(standup.href, standup.etag!);
    assert.deepEqual(await summaries(radicale), ["Design review", "Office closed"]);
    await page.getByRole("link", { name: "Reconcile now" }).click();
    await page.getByRole("button", { name: "Reconcile now" }).click();
    await page.waitForURL(/\/\?done=reconciled/);
    assert.match(await page.getByRole("status").innerText(), /caldav: 1 created, 0 updated/);
    assert.deepEqual(await summaries(radicale), ["Design review", "Office closed", "Standup"]);
    assert.match(await page.locator("[data-destination]").innerText(), /caldav[\s\S]*\b3\b/);

    // The week of the meetings, in UTC: the review and the standup side by side, the
    // closure as an all-day chip in the other source's colour.
    await page.goto(`${master.url}/?view=week&date=${isoDay(1)}&tz=UTC`);
    const column = page.locator(`.week .col[data-date="${isoDay(1)}"]`);
    assert.deepEqual(
      (await column.locator(".event").allInnerTexts()).map((t) => t.trim()).sort(),
      ["09:00 Design review", "09:00 Standup"],
    );
    const closed = page.locator(".allday .chip", { hasText: "Office closed" });
    assert.equal(await closed.count(), 1);
    const colourOf = async (l: ReturnType<Page["locator"]>) =>
      /background:([^;]+)/.exec(await l.getAttribute("style") ?? "")?.[1];
    assert.notEqual(await colourOf(column.locator(".event").first()), await colourOf(closed));
    assert.match(await page.locator(".legend").innerText(), /pc1 \/ holidays[\s\S]*pc1 \/ team/);
    assert.match(await page.locator("#calendar h2").innerText(), /\(UTC\)/);
    await screenshot(page, shots, "03-week");

    await page.getByRole("link", { name: "Month" }).click();
    const cell = page.locator(`.month .cell[data-date="${isoDay(2)}"]`);
    assert.match(await cell.innerText(), /Office closed/);
    await screenshot(page, shots, "04-month");

    // Reset: the agent's token stops working, and the agent enrols again by itself.
    await page.goto(`${master.url}/`);
    await confirmAction(page, 'tr[data-agent="pc1"]', "Reset credentials", "Reset credentials");
    assert.match(await page.getByRole("status").innerText(), /“pc1” was reset/);
    await screenshot(page, shots, "05-reset");
    assert.match(await runAgentOk(config), /registering with enrollment_token/);

    // Removing a source takes its items out of Radicale, and only its.
    await confirmAction(
      page,
      'tr[data-source="pc1/holidays"]',
      "Remove source",
      "Remove source and its events",
    );
    assert.match(await page.getByRole("status").innerText(), /pc1\/holidays” was removed/);
    assert.equal(await page.locator('tr[data-source="pc1/holidays"]').count(), 0);
    await until(
      "the closure to leave Radicale",
      async () =>
        JSON.stringify(await summaries(radicale)) === JSON.stringify(["Design review", "Standup"]),
    );
    await page.reload();
    await screenshot(page, shots, "06-source-removed");

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/login$/);
    await page.goto(`${master.url}/`);
    assert.match(page.url(), /\/login$/, "signed out for good");
    await context.close();
  } finally {
    await master.stop();
    await Deno.remove(work, { recursive: true });
  }
});
