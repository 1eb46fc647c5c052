import assert from "node:assert/strict";
import { z } from "zod";
import {
  type OpenApi,
  openApiDocument,
  type OpenApiOperation,
} from "../../master/openapi/document.ts";
import type { JsonSchema } from "../../master/openapi/json_schema.ts";
import { VERSION } from "../../shared/version.ts";
import {
  ADMIN_TOKEN,
  enrol,
  ENROLLMENT_TOKEN,
  type TestMaster,
  testMaster,
  timed,
} from "../helpers/master_app.ts";

/**
 * The document describes the machine API: every route that answers JSON, iCalendar or
 * metrics text. Pages for people (HTML) and what they load are not operations of it.
 */
const NOT_DOCUMENTED: { pattern: RegExp; reason: string }[] = [
  { pattern: /^GET \/docs$/, reason: "this document as an HTML page" },
  { pattern: /^\w+ \/$/, reason: "the management page (HTML)" },
  { pattern: /^\w+ \/(login|logout)$/, reason: "signing in to the management page (HTML)" },
  { pattern: /^\w+ \/ui\//, reason: "parts of the management page (HTML)" },
  { pattern: /^\w+ \/static\//, reason: "the management page's assets" },
];

/** `GET /api/agents/{agent_id}` for each handler the app registered (not middleware). */
function appOperations(master: TestMaster): Set<string> {
  return new Set(
    master.app.routes
      .filter((r) => r.method !== "ALL")
      .map((r) => `${r.method} ${r.path.replace(/:(\w+)(\{[^}]*\})?/g, "{$1}")}`),
  );
}

function documentedOperations(doc: OpenApi): Set<string> {
  return new Set(
    Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`)
    ),
  );
}

Deno.test("openapi: every API route is documented and every documented operation exists", async () => {
  await using master = await testMaster();
  const routes = appOperations(master);
  const documented = documentedOperations(openApiDocument());
  const excluded = [...routes].filter((r) => NOT_DOCUMENTED.some((x) => x.pattern.test(r)));
  assert.deepEqual(excluded.filter((r) => r.includes(" /api/")), [], "the API is never excluded");
  const api = [...routes].filter((r) => !excluded.includes(r));
  assert.deepEqual(api.filter((r) => !documented.has(r)), [], "routes missing from the document");
  assert.deepEqual(
    [...documented].filter((d) => !routes.has(d)),
    [],
    "documented operations the app does not have",
  );
  assert.ok(routes.has("GET /docs"));
});

/** Every `$ref` in `value`, with where it is. */
function refs(value: unknown, at = "#"): [string, string][] {
  if (Array.isArray(value)) return value.flatMap((v, i) => refs(v, `${at}/${i}`));
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([k, v]) =>
    k === "$ref" && typeof v === "string" ? [[at, v] as [string, string]] : refs(v, `${at}/${k}`)
  );
}

/** The value a local JSON pointer (`#/components/schemas/X`) names in `doc`. */
function pointer(doc: unknown, ref: string): unknown {
  return ref.slice(2).split("/").map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"))
    .reduce<unknown>((v, key) => (v as Record<string, unknown> | undefined)?.[key], doc);
}

function operations(doc: OpenApi): [string, string, OpenApiOperation][] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) =>
      [path, method, op] as [string, string, OpenApiOperation]
    )
  );
}

Deno.test("openapi: the document is well formed", () => {
  const doc = JSON.parse(JSON.stringify(openApiDocument())) as OpenApi;
  assert.equal(doc.openapi, "3.1.0");
  assert.equal(doc.info.version, VERSION);
  assert.deepEqual(doc.servers, [{ url: "/" }]);
  for (const [at, ref] of refs(doc)) {
    assert.ok(ref.startsWith("#/"), `${at}: ${ref} is not local`);
    assert.ok(pointer(doc, ref) !== undefined, `${at}: ${ref} does not resolve`);
  }
  for (const [name, schema] of Object.entries(doc.components.schemas)) {
    assert.ok(!("$id" in schema) && !("$schema" in schema), `${name} carries $id or $schema`);
    assert.ok(schema.description, `${name} has no description`);
  }
  const ids = operations(doc).map(([, , op]) => op.operationId);
  assert.deepEqual(ids.filter((id, i) => ids.indexOf(id) !== i), [], "operationIds repeat");
  const tags = new Set(doc.tags.map((t) => t.name));
  for (const [path, method, op] of operations(doc)) {
    const where = `${method.toUpperCase()} ${path}`;
    const statuses = Object.keys(op.responses);
    assert.ok(statuses.some((s) => /^[23]/.test(s)), `${where} has no successful answer`);
    for (const [status, response] of Object.entries(op.responses)) {
      assert.ok(response.description, `${where} ${status} has no description`);
      const isError = response.content?.["application/json"]?.schema.$ref?.toString()
        .endsWith("/ApiError");
      if (isError) assert.ok(response["x-error-codes"]?.length, `${where} ${status}: no codes`);
    }
    const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    const declared = (op.parameters ?? []).filter((p) => p.in === "path").map((p) => p.name);
    assert.deepEqual(declared.sort(), inPath, `${where}: path parameters`);
    for (const alternative of op.security) {
      for (const scheme of Object.keys(alternative)) {
        assert.ok(doc.components.securitySchemes[scheme], `${where}: scheme ${scheme}`);
      }
    }
    assert.ok(op.tags.every((t) => tags.has(t)), `${where}: unknown tag`);
  }
});

Deno.test("openapi: /openapi.json and /docs are served without a token", async () => {
  await using master = await testMaster();
  const json = await master.call("GET", "/openapi.json");
  assert.equal(json.status, 200);
  assert.match(json.headers.get("content-type") ?? "", /^application\/json/);
  assert.deepEqual(await json.json(), JSON.parse(JSON.stringify(openApiDocument())));

  const docs = await master.call("GET", "/docs");
  assert.equal(docs.status, 200);
  assert.match(docs.headers.get("content-type") ?? "", /^text\/html/);
  const page = await docs.text();
  assert.match(page, /href="\/openapi\.json"/);
  // The master may run offline: nothing may come from elsewhere.
  assert.doesNotMatch(page, /<script|<link|src=/i);
  for (const [path, method, op] of operations(openApiDocument())) {
    assert.ok(page.includes(`id="${op.operationId}"`), `${method} ${path} is not on the page`);
    assert.ok(page.includes(`<code>${path}</code>`), `${path} is not on the page`);
  }
  assert.match(page, /<code>sources\[\]\.source_id<\/code>/, "nested fields are listed");
});

/** The schema with every `$ref` replaced by what it names (the API's schemas are acyclic). */
function inline(schema: unknown, components: Record<string, JsonSchema>): unknown {
  if (Array.isArray(schema)) return schema.map((s) => inline(s, components));
  if (schema === null || typeof schema !== "object") return schema;
  const { $ref, ...rest } = schema as Record<string, unknown>;
  if (typeof $ref === "string") return inline(components[$ref.split("/").pop()!], components);
  return Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, inline(v, components)]));
}

/** The documented operation a request reaches, as `[path template, method, operation]`. */
function operationOf(doc: OpenApi, method: string, url: string) {
  const path = new URL(url, "http://master").pathname;
  const found = operations(doc).find(([template, m]) =>
    m === method.toLowerCase() &&
    new RegExp(`^${template.replace(/\{\w+\}/g, "[^/]+")}$`).test(path)
  );
  assert.ok(found, `${method} ${path} is not documented`);
  return found;
}

/**
 * Checks a real answer against the document: its status is documented for the operation,
 * its media type matches, a JSON body validates against the published JSON Schema (not the
 * zod schema it came from), and an error's code is one the operation lists.
 */
async function checkAnswer(doc: OpenApi, method: string, url: string, res: Response) {
  const [path, , op] = operationOf(doc, method, url);
  const where = `${method} ${path} → ${res.status}`;
  const documented = op.responses[String(res.status)];
  assert.ok(documented, `${where} is not documented`);
  const body = await res.text();
  if (!documented.content) return assert.equal(body, "", `${where} has an undocumented body`);
  const [[mediaType, { schema }]] = Object.entries(documented.content);
  const base = (type: string) => type.split(";")[0].trim();
  assert.equal(base(res.headers.get("content-type") ?? ""), base(mediaType), where);
  if (base(mediaType) !== "application/json") return;
  const json = JSON.parse(body);
  const published = z.fromJSONSchema(
    inline(schema, doc.components.schemas) as z.core.JSONSchema.JSONSchema,
  );
  const result = published.safeParse(json);
  assert.ok(result.success, `${where}: ${JSON.stringify(result.error?.issues.slice(0, 3))}`);
  if (documented["x-error-codes"]) {
    assert.ok(
      documented["x-error-codes"].includes(json.error.code),
      `${where}: ${json.error.code}`,
    );
  }
}

Deno.test("openapi: real answers match their documented schemas", async () => {
  await using master = await testMaster();
  const doc = openApiDocument();
  const seen = new Set<string>();
  const call = async (
    method: string,
    url: string,
    status: number,
    opts: { token?: string; body?: unknown } = {},
  ) => {
    const res = await master.call(method, url, opts);
    assert.equal(res.status, status, `${method} ${url}`);
    const clone = res.clone();
    await checkAnswer(doc, method, url, res);
    seen.add(operationOf(doc, method, url)[2].operationId);
    return clone;
  };
  const admin = { token: ADMIN_TOKEN };

  await call("GET", "/health", 200);
  await call("GET", "/openapi.json", 200);
  const registration = await call("POST", "/api/agents/register", 200, {
    token: ENROLLMENT_TOKEN,
    body: {
      agent_id: "pc1",
      agent_name: "PC 1",
      sources: [{ source_id: "main", name: "M", type: "ics" }],
    },
  });
  const agent = { token: (await registration.json()).token as string };
  await call("POST", "/api/agents/register", 409, {
    token: ENROLLMENT_TOKEN,
    body: { agent_id: "pc1", agent_name: "PC 1" },
  });
  await call("PUT", "/api/agents/pc1/sources/main/snapshot", 200, {
    ...agent,
    body: {
      window: { start: "2026-03-01T00:00:00Z", end: "2026-04-01T00:00:00Z" },
      generated_at: "2026-03-01T11:00:00Z",
      events: [
        timed("a", "2026-03-02T09:00:00Z", 30, {
          organizer: { name: "Ann", email: "ann@example.com" },
          attendees: [{ name: "Bob", email: "bob@example.com", status: "accepted" }],
          last_modified: "2026-02-01T10:00:00+01:00",
        }),
        { uid: "holiday", all_day: true, start: "2026-03-10", end: "2026-03-11", title: "Off" },
      ],
    },
  });
  await call("PUT", "/api/agents/pc1/sources/main/snapshot", 400, {
    ...agent,
    body: { events: 1 },
  });
  await call("POST", "/api/agents/pc1/heartbeat", 200, {
    ...agent,
    body: { sources: [{ source_id: "main", last_error: null }] },
  });
  await call("GET", "/api/sync/status", 200, admin);
  await call("GET", "/api/sync/status", 401);
  await call("GET", "/api/agents", 200, admin);
  const events = "/api/events?start=2026-03-01T00:00:00Z&end=2026-04-01T00:00:00Z";
  assert.equal((await (await call("GET", events, 200, admin)).json()).events.length, 2);
  await call("GET", "/api/events?start=2026-03-01T00:00:00Z", 400, admin);
  const firstPage = await (await call("GET", `${events}&limit=1`, 200, admin)).json();
  assert.equal(typeof firstPage.next_cursor, "string");
  const lastPage = await (
    await call("GET", `${events}&limit=1&cursor=${firstPage.next_cursor}`, 200, admin)
  ).json();
  assert.equal(lastPage.next_cursor, null);
  await call("GET", `${events}&limit=0`, 400, admin);
  await call("GET", `${events}&cursor=nonsense`, 400, admin);
  await call("POST", "/api/admin/reconcile?full=true", 200, admin);
  await call("POST", "/api/admin/destinations/nowhere/retry", 404, admin);
  await call("GET", "/api/admin/activity?limit=5", 200, admin);
  await call("GET", "/api/admin/activity?limit=0", 400, admin);
  await call("GET", "/api/admin/activity?destination=nowhere", 404, admin);

  const feed =
    await (await call("POST", "/api/admin/feeds", 201, { ...admin, body: { name: "Wall" } }))
      .json();
  await call("GET", "/api/admin/feeds", 200, admin);
  await call("GET", feed.path, 200);
  await call("GET", "/feeds/nothing.ics", 404);
  await call("DELETE", `/api/admin/feeds/${feed.feed_id}`, 204, admin);

  const read =
    await (await call("POST", "/api/admin/read-tokens", 201, { ...admin, body: { name: "Web" } }))
      .json();
  await call("GET", events, 200, { token: read.token });
  await call("GET", "/api/sync/status", 403, { token: read.token });
  await call("GET", "/metrics", 403, { token: read.token });
  await call("POST", "/api/agents/pc1/heartbeat", 403, { token: read.token, body: {} });
  await call("GET", "/api/admin/read-tokens", 200, admin);
  await call("DELETE", `/api/admin/read-tokens/${read.token_id}`, 204, admin);
  await call("GET", "/metrics", 200, admin);

  await call("POST", "/api/admin/agents/pc1/reset", 200, admin);
  await call("POST", "/api/admin/agents/nobody/reset", 404, admin);
  await enrol(master, "pc2", ["a", "b"]);
  await call("DELETE", "/api/admin/agents/pc2/sources/a", 200, admin);
  await call("DELETE", "/api/admin/agents/pc2/sources/a", 404, admin);
  await call("DELETE", "/api/admin/agents/pc2", 200, admin);

  const unchecked = operations(doc).map(([, , op]) => op.operationId).filter((id) => !seen.has(id));
  assert.deepEqual(unchecked, [], "operations whose answers this test does not check");
});
