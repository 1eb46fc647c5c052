/**
 * calsync against a real SOGo 5.8 configured as mailcow configures it: the destination
 * contract, and what a mailcow admin needs to trust: no invitation ever mailed and no
 * colleague's calendar touched, foreign items left alone, one DELETE for one removal,
 * nothing left behind by a kill -9, and a wrong password that never locks the account.
 */
import assert from "node:assert/strict";
import { createCalDavDestination, renderItem } from "../../master/destinations/caldav.ts";
import { openDestination } from "../../master/destinations/mod.ts";
import type { Destination } from "../../master/destinations/types.ts";
import { memoryLogger } from "../../master/log.ts";
import { SqliteStore } from "../../master/store/sqlite.ts";
import { desiredItems } from "../../master/sync/desired.ts";
import { SyncEngine } from "../../master/sync/engine.ts";
import { reconcileDestination } from "../../master/sync/reconcile.ts";
import { CalDavClient } from "../../shared/caldav/client.ts";
import { Occurrence, type OccurrenceInput } from "../../shared/model.ts";
import { SourceSettings, type StoredEvent } from "../../shared/protocol.ts";
import { callJson } from "../../bench/pushing_master.ts";
import { startMaster } from "../helpers/master_process.ts";
import { basicAuth, deleteResource, makeCalendar, putResource } from "../helpers/radicale.ts";
import { startRecordingProxy } from "../helpers/recording_proxy.ts";
import { type Sogo, startSogo } from "../helpers/sogo.ts";
import { foreignIcs, runDestinationContract } from "../master/destination_contract.ts";

const UNIFIED = "unified@example.org";
const COLLEAGUE = "colleague@example.org";
/** A throw-away account for the lockout test, so that a mistake cannot block the others. */
const LOCKOUT = "lockout@example.org";
const USERS: Record<string, string> = {
  [UNIFIED]: "secret-unified",
  [COLLEAGUE]: "secret-colleague",
  [LOCKOUT]: "secret-lockout",
};

async function open(url: string, login = UNIFIED): Promise<Destination> {
  return await createCalDavDestination({
    id: "sogo",
    url,
    username: login,
    password: USERS[login],
  });
}

/** What a calendar holds, as SOGo serves it: each object's iCalendar text by href. */
async function contents(
  sogo: Sogo,
  login: string,
  url = sogo.calendarUrl(login),
): Promise<Map<string, string>> {
  const client = await CalDavClient.open({ url, username: login, password: USERS[login] });
  const hrefs = (await client.listEtags()).map((m) => m.href);
  return new Map((await client.getObjects(hrefs)).map((o) => [o.href, o.data]));
}

function stored(input: OccurrenceInput): StoredEvent {
  return { ...Occurrence.parse(input), agent_id: "pc1", source_id: "main" };
}

function desired(events: StoredEvent[]) {
  return desiredItems(events, () => SourceSettings.parse({}));
}

/** Meetings as an Outlook source would send them, with internal and external people. */
function meetings(title = "Budget"): StoredEvent[] {
  return [
    stored({
      uid: "budget@corp.example",
      start: "2026-12-14T09:00:00Z",
      end: "2026-12-14T10:00:00Z",
      title: `${title} (we organise)`,
      organizer: { name: "Unified", email: UNIFIED },
      attendees: [
        { name: "Colleague", email: COLLEAGUE, role: "required", status: "needs-action" },
        { name: "Partner", email: "partner@elsewhere.test", role: "optional" },
      ],
    }),
    stored({
      uid: "review@elsewhere.test",
      start: "2026-12-15T13:00:00Z",
      end: "2026-12-15T14:00:00Z",
      title: `${title} (we attend)`,
      organizer: { name: "Partner", email: "partner@elsewhere.test" },
      attendees: [
        { name: "Unified", email: UNIFIED, status: "accepted" },
        { name: "Colleague", email: COLLEAGUE, status: "tentative" },
      ],
    }),
  ];
}

const options = { logger: memoryLogger() };

Deno.test("SOGo as mailcow runs it", async (t) => {
  await using sogo = await startSogo({ users: USERS });
  let calendars = 0;
  const freshCalendar = async () =>
    await makeCalendar(
      `${sogo.url}SOGo/dav/${UNIFIED}/Calendar/calsync-${++calendars}/`,
      UNIFIED,
      USERS[UNIFIED],
    );

  await t.step("the destination contract", async (t) => {
    await runDestinationContract(t, async () => {
      const url = await freshCalendar();
      let foreign = 0;
      return {
        destination: await open(url),
        putForeign: (ics) =>
          putResource(`${url}foreign-${++foreign}.ics`, ics, UNIFIED, USERS[UNIFIED]),
        cleanup: () => deleteResource(url, UNIFIED, USERS[UNIFIED]),
        // SOGo overwrites despite If-None-Match: * and deletes despite a stale If-Match.
        enforcesPreconditions: false,
      };
    });
  });

  await t.step(
    "meetings are copied without a single mail or a write into a colleague's calendar",
    async () => {
      const colleagueBefore = await contents(sogo, COLLEAGUE);
      const store = await SqliteStore.open(":memory:");
      const dest = await open(sogo.calendarUrl(UNIFIED));
      const created = await reconcileDestination(dest, store, desired(meetings()), options);
      assert.equal(created.created, 2);
      const edited = await reconcileDestination(dest, store, desired(meetings("Moved")), options);
      assert.equal(edited.updated, 2);
      const held = [...(await contents(sogo, UNIFIED)).values()];
      assert.equal(held.length, 2);
      for (const ics of held) {
        assert.doesNotMatch(ics, /^(ORGANIZER|ATTENDEE|METHOD)[;:]/m);
        assert.doesNotMatch(ics, /BEGIN:VALARM/);
      }
      const unfolded = held.map((ics) => ics.replace(/\r?\n[ \t]/g, ""));
      assert.ok(
        unfolded.some((ics) => ics.includes("Attendee: Partner <partner@elsewhere.test>")),
        "the people are named in the description",
      );
      const removed = await reconcileDestination(dest, store, desired([]), options);
      assert.equal(removed.deleted, 2);
      assert.deepEqual(await contents(sogo, UNIFIED), new Map());
      assert.deepEqual(sogo.smtp.messages(), [], "SOGo sent no mail");
      assert.deepEqual(await contents(sogo, COLLEAGUE), colleagueBefore);
      await store.close();
    },
  );

  await t.step("foreign items, one with the source's own UID, are never touched", async () => {
    const url = await freshCalendar();
    const dentist = await putResource(
      `${url}dentist.ics`,
      foreignIcs("dentist@phone"),
      UNIFIED,
      USERS[UNIFIED],
    );
    // The real invitation to the same meeting, as the mailbox's own client would keep it.
    const twin = await putResource(
      `${url}twin.ics`,
      foreignIcs("budget@corp.example"),
      UNIFIED,
      USERS[UNIFIED],
    );
    const store = await SqliteStore.open(":memory:");
    const dest = await open(url);
    const snapshot = async () => {
      const client = await CalDavClient.open({ url, username: UNIFIED, password: USERS[UNIFIED] });
      const objects = await client.getObjects([dentist, twin]);
      return objects.map((o) => [o.href, o.etag, o.data]);
    };
    const foreign = await snapshot();
    await reconcileDestination(dest, store, desired(meetings()), options);
    await reconcileDestination(dest, store, desired([]), { ...options, forceList: true });
    await reconcileDestination(dest, store, desired([]), { ...options, deleteStrays: true });
    assert.deepEqual(await snapshot(), foreign);
    await store.close();
  });

  await t.step(
    "items an earlier version wrote with attendees go without a cancellation",
    async () => {
      const url = await freshCalendar();
      const store = await SqliteStore.open(":memory:");
      const [kept, removed] = [...desired(meetings()).values()];
      // As calsync wrote copies before they became inert: with ORGANIZER and ATTENDEE.
      const old = (item: typeof kept) =>
        renderItem(item).replace(
          "END:VEVENT",
          `ORGANIZER:mailto:${UNIFIED}\r\nATTENDEE;CN=Colleague:mailto:${COLLEAGUE}\r\n` +
            "ATTENDEE:mailto:partner@elsewhere.test\r\nEND:VEVENT",
        );
      const legacy = { ...kept, hash: "hash-of-an-earlier-format" };
      const colleagueBefore = await contents(sogo, COLLEAGUE);
      for (const item of [legacy, removed]) {
        await putResource(`${url}${item.uid}.ics`, old(item), UNIFIED, USERS[UNIFIED]);
      }
      await sogo.smtp.waitForMessages(4);
      sogo.smtp.clear();
      // The earlier version's bug delivered both into the colleague's calendar.
      assert.equal((await contents(sogo, COLLEAGUE)).size, colleagueBefore.size + 2);
      const dest = await open(url);
      // A store restored from before: both are known, one is no longer wanted.
      for (const item of [legacy, removed]) {
        await store.saveDestinationEntry("sogo", {
          key: item.key,
          href: dest.hrefFor!(item),
          etag: null,
          hash: item.hash,
        });
      }
      const report = await reconcileDestination(dest, store, new Map([[kept.key, kept]]), options);
      assert.deepEqual([report.updated, report.deleted, report.failed], [1, 1, 0]);
      const [left] = (await contents(sogo, UNIFIED, url)).values();
      assert.doesNotMatch(left, /^(ORGANIZER|ATTENDEE)[;:]/m);
      await new Promise((r) => setTimeout(r, 1500));
      assert.deepEqual(sogo.smtp.messages(), [], "no update and no cancellation was mailed");
      // SOGo withdraws the copies it had delivered, silently: the colleague's calendar is
      // as it was before the earlier version wrote.
      assert.deepEqual(await contents(sogo, COLLEAGUE), colleagueBefore);
      await store.close();
    },
  );

  await t.step(
    "a hand edit, then the event removed at its source: exactly one DELETE",
    async () => {
      const url = await freshCalendar();
      await using proxy = startRecordingProxy(sogo.url);
      const store = await SqliteStore.open(":memory:");
      const dest = await open(proxy.via(url));
      const events = meetings();
      await reconcileDestination(dest, store, desired(events), options);
      const [key] = desired(events.slice(0, 1)).keys();
      const entry = (await store.destinationEntries("sogo")).find((e) => e.key === key)!;
      const client = await CalDavClient.open({ url, username: UNIFIED, password: USERS[UNIFIED] });
      const [mine] = await client.getObjects([
        new URL(new URL(entry.href).pathname, sogo.url).href,
      ]);
      await client.update(
        mine.href,
        mine.etag!,
        mine.data.replace(/^SUMMARY:.*$/m, "SUMMARY:Mine"),
      );
      await putResource(`${url}lunch.ics`, foreignIcs("lunch@phone"), UNIFIED, USERS[UNIFIED]);
      proxy.reset();
      const report = await reconcileDestination(dest, store, desired(events.slice(1)), options);
      assert.deepEqual([report.deleted, report.created, report.updated], [1, 0, 0]);
      const counts = proxy.counts();
      assert.equal(counts.DELETE, 1);
      assert.equal(counts.PUT ?? 0, 0, "nothing rewritten");
      await store.close();
    },
  );

  await t.step(
    "a kill -9 in the middle of creates, then the source emptied: nothing left",
    async () => {
      const url = await freshCalendar();
      await using proxy = startRecordingProxy(sogo.url);
      const work = await Deno.makeTempDir({ prefix: "calsync-sogo-kill-" });
      const env = {
        CALDAV_URL: proxy.via(url),
        CALDAV_USERNAME: UNIFIED,
        CALDAV_PASSWORD: USERS[UNIFIED],
        SYNC_INTERVAL_MINUTES: "60",
      };
      const first = await startMaster(`${work}/data`, env);
      const call = callJson;
      const { token } = await call(
        first.url,
        "POST",
        "/api/agents/register",
        first.enrollmentToken,
        {
          agent_id: "pc1",
          agent_name: "PC",
          sources: [{ source_id: "main", name: "Main", type: "ics" }],
        },
      );
      const snapshot = (base: string, n: number, generation: number) =>
        call(base, "PUT", "/api/agents/pc1/sources/main/snapshot", token, {
          window: { start: "2026-12-01T00:00:00Z", end: "2027-03-01T00:00:00Z" },
          generated_at: `2026-12-01T12:00:0${generation}Z`,
          events: Array.from({ length: n }, (_, i) => ({
            uid: `event-${i}@pc1`,
            start: new Date(Date.parse("2026-12-02T08:00:00Z") + i * 3_600_000).toISOString(),
            end: new Date(Date.parse("2026-12-02T08:30:00Z") + i * 3_600_000).toISOString(),
            title: `Event ${i}`,
            attendees: [{ email: COLLEAGUE }],
          })),
        });
      // The 21st create is held, so the master dies with its reconcile surely unfinished.
      const writing = proxy.holdAfter("PUT", 20);
      await snapshot(first.url, 120, 1);
      await writing;
      Deno.kill(first.pid, "SIGKILL");
      await first.stop();
      proxy.release();
      const landed = (await contents(sogo, UNIFIED, url)).size;
      assert.ok(landed >= 1, "some creates landed before the kill");
      const second = await startMaster(`${work}/data`, env);
      try {
        await snapshot(second.url, 0, 2);
        await call(second.url, "POST", "/api/admin/reconcile", second.adminToken, {});
        const client = await CalDavClient.open({
          url,
          username: UNIFIED,
          password: USERS[UNIFIED],
        });
        assert.deepEqual(await client.listEtags(), [], "no stray is left");
        assert.deepEqual(sogo.smtp.messages(), []);
      } finally {
        await second.stop();
        await Deno.remove(work, { recursive: true });
      }
    },
  );

  await t.step(
    "a wrong password: at most 3 failed logins, and the account still works",
    async () => {
      await using proxy = startRecordingProxy(sogo.url);
      const store = await SqliteStore.open(":memory:");
      const destination = openDestination({
        id: "caldav",
        type: "caldav",
        url: proxy.via(sogo.calendarUrl(LOCKOUT)),
        username: LOCKOUT,
        password: "a-stale-password",
        sources: ["*"],
        credentials_setting: "CALDAV_USERNAME and CALDAV_PASSWORD",
      });
      const logger = memoryLogger();
      const engine = new SyncEngine({
        store,
        logger,
        destinations: [destination],
        intervalMs: 3_600_000,
        debounceMs: 1,
        retryMs: 1,
      });
      for (let i = 0; i < 12; i++) await engine.run();
      for (let i = 0; i < 3; i++) await engine.retryRefused("caldav");
      const refusals = proxy.requests.length;
      assert.ok(refusals <= 3, `${refusals} failed logins`);
      const status = await store.destinationState("caldav");
      assert.match(status!.last_error!, /Fix CALDAV_USERNAME and CALDAV_PASSWORD/);
      assert.match(
        status!.last_error!,
        /refused the password for the login "lockout@example\.org"/,
      );
      await engine.stop();
      await store.close();
      const right = await fetch(sogo.calendarUrl(LOCKOUT), {
        method: "PROPFIND",
        headers: { authorization: basicAuth(LOCKOUT, USERS[LOCKOUT]), depth: "0" },
      });
      await right.body?.cancel();
      assert.equal(right.status, 207, "the right password still works: the account is not locked");
    },
  );
});
