/**
 * The admin API of read tokens: secrets for web apps that may read events
 * (`GET /api/events`) and nothing else. Each is stored hashed and shown once.
 *
 * @module
 */
import { Hono } from "hono";
import { NewReadToken, type ReadTokenCreated, type ReadTokenList } from "../../shared/protocol.ts";
import { toInstant } from "../../shared/time.ts";
import { issueCredential, revokeCredential } from "../admin_actions.ts";
import type { AppContext } from "../context.ts";
import { adminOnly } from "../http/auth.ts";
import { readJson } from "../http/body.ts";
import { HttpError } from "../http/errors.ts";

/** Routes under `/api/admin/read-tokens`. */
export function readTokenRoutes(ctx: AppContext): Hono {
  const { store } = ctx;
  const app = new Hono();
  const admin = adminOnly(ctx);

  app.post("/api/admin/read-tokens", admin, async (c) => {
    const { name } = await readJson(c.req.raw, NewReadToken, ctx.maxBodyBytes);
    const { record, token } = await issueCredential(ctx, "read", name);
    const { credential_id: token_id, created_at } = record;
    return c.json({ token_id, name, created_at, token } satisfies ReadTokenCreated, 201);
  });

  app.get("/api/admin/read-tokens", admin, async (c) => {
    const tokens = await store.listCredentials("read", toInstant(ctx.now()));
    return c.json(
      {
        tokens: tokens.map((t) => ({
          token_id: t.credential_id,
          name: t.name,
          created_at: t.created_at,
        })),
      } satisfies ReadTokenList,
    );
  });

  app.delete("/api/admin/read-tokens/:token_id", admin, async (c) => {
    const { token_id } = c.req.param();
    if (!(await revokeCredential(ctx, "read", token_id))) {
      throw new HttpError(
        404,
        "unknown_token",
        `no read token '${token_id}'; GET /api/admin/read-tokens lists them`,
        "token_id",
      );
    }
    return c.body(null, 204);
  });

  return app;
}
