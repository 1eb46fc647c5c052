/**
 * The ICS feed: `GET /feeds/{token}.ics` serves the consolidated calendar to any client
 * that subscribes to a URL, with an `ETag` so polling clients mostly get a 304. Each
 * item's DTSTAMP is when the master last stored a change behind it, so a fetch shows as
 * revised only what was. Feed
 * tokens are created and revoked through the admin API and stored hashed.
 *
 * @module
 */
import { Hono } from "hono";
import { z } from "zod";
import { sha256Hex } from "../../shared/hash.ts";
import { generateIcs } from "../../shared/ics/mod.ts";
import type { Occurrence } from "../../shared/model.ts";
import { TokenName } from "../../shared/protocol.ts";
import { toInstant } from "../../shared/time.ts";
import { issueCredential, revokeCredential } from "../admin_actions.ts";
import type { AppContext } from "../context.ts";
import { adminOnly } from "../http/auth.ts";
import { readJson } from "../http/body.ts";
import { ifNoneMatchHits } from "../http/conditional.ts";
import { HttpError } from "../http/errors.ts";
import { hashToken } from "../secrets.ts";

/**
 * The DTSTAMP of an item whose last change the store does not know (stored by a master
 * before changes were timed): a fixed instant, so that every fetch shows it unchanged.
 */
const UNKNOWN_CHANGE = new Date(0);

/** `POST /api/admin/feeds` body. */
export const NewFeed = z.object({ name: TokenName });

/** Routes of the ICS feed and of its admin API. */
export function feedRoutes(ctx: AppContext): Hono {
  const { store } = ctx;
  const app = new Hono();
  const admin = adminOnly(ctx);

  app.post("/api/admin/feeds", admin, async (c) => {
    const { name } = await readJson(c.req.raw, NewFeed, ctx.maxBodyBytes);
    const { record, token } = await issueCredential(ctx, "feed", name);
    const { credential_id: feed_id, created_at } = record;
    return c.json({ feed_id, name, created_at, token, path: `/feeds/${token}.ics` }, 201);
  });

  app.get("/api/admin/feeds", admin, async (c) => {
    const feeds = await store.listCredentials("feed", toInstant(ctx.now()));
    return c.json({
      feeds: feeds.map((f) => ({
        feed_id: f.credential_id,
        name: f.name,
        created_at: f.created_at,
      })),
    });
  });

  app.delete("/api/admin/feeds/:feed_id", admin, async (c) => {
    const { feed_id } = c.req.param();
    if (!(await revokeCredential(ctx, "feed", feed_id))) {
      throw new HttpError(404, "unknown_feed", `no feed '${feed_id}'`, "feed_id");
    }
    return c.body(null, 204);
  });

  app.get("/feeds/:file", async (c) => {
    const match = /^(.+)\.ics$/.exec(c.req.param("file"));
    const feed = match
      ? await store.findCredential("feed", hashToken(match[1]), toInstant(ctx.now()))
      : null;
    if (!feed) {
      throw new HttpError(404, "unknown_feed", "no feed at this address; it may have been revoked");
    }
    const items = [...(await ctx.sync.desired()).values()].sort((a, b) => a.key < b.key ? -1 : 1);
    // Weak: the tag stands for the content; two renderings of it need not match bytewise.
    const etag = `W/"${sha256Hex(JSON.stringify([feed.name, items.map((i) => i.hash)]))}"`;
    c.header("ETag", etag);
    c.header("Cache-Control", "private, no-cache");
    if (ifNoneMatchHits(c.req.header("if-none-match"), etag)) return c.body(null, 304);
    const stamps = new Map<Occurrence, Date>();
    const events = items.map((i) => {
      const event = { ...i.event, uid: i.uid, recurrence_id: null };
      stamps.set(event, i.changed_at ? new Date(i.changed_at) : UNKNOWN_CHANGE);
      return event;
    });
    const body = generateIcs(events, {
      calendarName: feed.name,
      stamp: (event) => stamps.get(event) ?? UNKNOWN_CHANGE,
    });
    return c.body(body, 200, { "Content-Type": "text/calendar; charset=utf-8" });
  });

  return app;
}
