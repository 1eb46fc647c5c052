/**
 * `GET /health`: no authentication, 200 while the store answers and 503 when it does not,
 * so load balancers and Docker can route around a sick master. A store whose last write
 * failed for want of space fails its ping with that cause (`StorageFullError`), so a full
 * disk shows here until a write succeeds again, without a probe that would need space.
 *
 * @module
 */
import { Hono } from "hono";
import type { z } from "zod";
import type { Health } from "../../shared/protocol.ts";
import { VERSION } from "../../shared/version.ts";
import type { AppContext } from "../context.ts";

/** Routes of the health check. */
export function healthRoutes(ctx: AppContext): Hono {
  return new Hono().get("/health", async (c) => {
    const uptime_s = Math.round((ctx.now().getTime() - ctx.startedAt.getTime()) / 1000);
    const body: z.input<typeof Health> = {
      status: "ok",
      version: VERSION,
      uptime_s,
      store: { backend: ctx.store.backend, ok: true },
    };
    try {
      await ctx.store.ping();
      return c.json(body);
    } catch (err) {
      body.status = "error";
      body.store = { backend: ctx.store.backend, ok: false, error: String(err) };
      return c.json(body, 503);
    }
  });
}
