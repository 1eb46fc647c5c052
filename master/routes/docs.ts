/**
 * The API's own description: `GET /openapi.json` (OpenAPI 3.1) and `GET /docs`, the same
 * as a page. Both are public: they describe the API, they hold no data.
 *
 * @module
 */
import { Hono } from "hono";
import { docsPage } from "../openapi/docs_page.ts";
import { openApiDocument } from "../openapi/document.ts";

/** Routes of the API description. */
export function docsRoutes(): Hono {
  const app = new Hono();
  app.get("/openapi.json", (c) => c.json(openApiDocument()));
  app.get("/docs", (c) => c.html(docsPage(openApiDocument())));
  return app;
}
