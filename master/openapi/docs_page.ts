/**
 * `/docs`: the OpenAPI document as one self-contained HTML page, grouped by tag. It is
 * rendered from the document itself, so the page and `/openapi.json` always agree, and it
 * needs no script or stylesheet from elsewhere: the master may run offline.
 *
 * @module
 */
import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { OpenApi, OpenApiOperation, OpenApiParameter, OpenApiResponse } from "./document.ts";
import { type Field, schemaFields, typeLabel } from "./fields.ts";
import { componentRef, type JsonSchema } from "./json_schema.ts";

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

const STYLE = `
body { font: 15px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 60rem; padding: 1rem 2rem;
  color: #1d232a; }
h1 small { font-weight: normal; color: #5c6670; font-size: 0.6em; }
h2 { border-bottom: 2px solid #d5dbe1; padding-bottom: 0.2rem; margin-top: 2.5rem; }
article { border: 1px solid #d5dbe1; border-radius: 6px; padding: 0 1rem 0.5rem; margin: 1rem 0; }
h3 { font-size: 1.05rem; }
code { font-family: ui-monospace, monospace; font-size: 0.92em; }
.method { display: inline-block; min-width: 4.2rem; text-align: center; border-radius: 4px;
  color: #fff; font-size: 0.8rem; padding: 0.1rem 0.3rem; margin-right: 0.4rem; }
.get { background: #2563a8; } .post { background: #1f7a45; } .put { background: #a0620c; }
.delete { background: #b3261e; }
table { border-collapse: collapse; width: 100%; margin: 0.3rem 0 0.8rem; font-size: 0.9rem; }
th, td { text-align: left; vertical-align: top; border-bottom: 1px solid #e6eaee; padding: 0.2rem 0.5rem; }
th { color: #5c6670; font-weight: 600; }
td:first-child { white-space: nowrap; }
.muted { color: #5c6670; }
nav ul { columns: 2; padding-left: 1.2rem; }
`;

/** `text` with its `backticked` parts as code. */
function inline(text: string): Html {
  return html`${text.split("`").map((part, i) => i % 2 ? html`<code>${part}</code>` : part)}`;
}

/** "admin token or read token" for an operation's alternatives of bearer schemes. */
function tokens(op: OpenApiOperation): string {
  if (op.security.length === 0) return "none";
  return op.security.flatMap(Object.keys).map((s) => s.replace(/Token$/, " token")).join(" or ");
}

function fieldTable(fields: Field[]): Html {
  if (fields.length === 0) return html``;
  return html`<table>
<tr><th>field</th><th>type</th><th>required</th><th>description</th></tr>
${
    fields.map((f) =>
      html`
        <tr>
          <td><code>${f.name}</code></td>
          <td><code>${f.type}</code></td>
          <td>${f.required ? "yes" : "no"}</td>
          <td>${inline(f.description)}</td>
        </tr>
      `
    )
  }
</table>`;
}

function parameterTable(parameters: OpenApiParameter[]): Html {
  return html`
    <h4>Parameters</h4>
    <table>
    <tr><th>name</th><th>in</th><th>type</th><th>required</th><th>description</th></tr>
    ${parameters.map((p) =>
      html`
        <tr>
          <td><code>${p.name}</code></td>
          <td>${p.in}</td>
          <td><code>${typeLabel(p.schema)}</code></td>
          <td>${p.required ? "yes" : "no"}</td>
          <td>${inline(p.description ?? "")}</td>
        </tr>
      `
    )}
    </table>
  `;
}

/** A body: its media type, the schema's name and description, and its fields. */
function body(
  content: Record<string, { schema: JsonSchema }>,
  components: Record<string, JsonSchema>,
): Html {
  return html`${
    Object.entries(content).map(([type, { schema }]) => {
      const name = typeof schema.$ref === "string" ? typeLabel(schema) : "";
      const about = name ? String(components[name].description ?? "") : "";
      return html`<p><code>${type}</code>${
        name
          ? html`
            · <code>${name}</code>
          `
          : ""
      }${
        about
          ? html`
            · ${inline(about)}
          `
          : ""
      }</p>${fieldTable(schemaFields(schema, components))}`;
    })
  }`;
}

function responses(
  answers: Record<string, OpenApiResponse>,
  components: Record<string, JsonSchema>,
): Html {
  const entries = Object.entries(answers);
  const ok = entries.filter(([, r]) => !r["x-error-codes"]);
  const errors = entries.filter(([, r]) => r["x-error-codes"]);
  return html`<h4>Answers</h4>
${
    ok.map(([status, r]) =>
      html`<p><strong>${status}</strong> ${r.description}${
        r.headers
          ? html`
            · headers: ${Object.entries(r.headers).map(([h, { description }], i) =>
              html`${i ? ", " : ""}<code>${h}</code> (${description})`
            )}
          `
          : ""
      }</p>${r.content ? body(r.content, components) : ""}`
    )
  }
<p class="muted">Errors (<code>ApiError</code>): ${
    errors.map(([status, r], i) =>
      html`${i ? "; " : ""}<strong>${status}</strong> ${
        r["x-error-codes"]!.map((c, j) => html`${j ? ", " : ""}<code>${c}</code>`)
      }`
    )
  }</p>`;
}

function operation(
  path: string,
  method: string,
  op: OpenApiOperation,
  components: Record<string, JsonSchema>,
): Html {
  return html`<article id="${op.operationId}">
<h3><span class="method ${method}">${method.toUpperCase()}</span><code>${path}</code></h3>
<p><strong>${op.summary}.</strong> ${inline(op.description ?? "")}</p>
<p>Token: ${tokens(op)}</p>
${op.parameters ? parameterTable(op.parameters) : ""}
${op.requestBody ? html`<h4>Request body</h4>${body(op.requestBody.content, components)}` : ""}
${responses(op.responses, components)}
</article>`;
}

/** The page of `doc`. */
export function docsPage(doc: OpenApi): Html {
  const { schemas } = doc.components;
  const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ path, method, op }))
  );
  const byTag = doc.tags.map((tag) => ({
    tag,
    ops: operations.filter(({ op }) => op.tags[0] === tag.name),
  }));
  return html`
    <!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>${doc.info.title} API</title>
        <style>${STYLE}</style>
      </head>
      <body>
    <h1>${doc.info.title} API <small>version ${doc.info.version}</small></h1>
    <p>${inline(doc.info.description)}</p>
    <p>The same as OpenAPI 3.1: <a href="/openapi.json">/openapi.json</a>.</p>
    <nav><ul>
    ${operations.map(({ path, method, op }) =>
      html`<li><a href="#${op.operationId}"><code>${method.toUpperCase()} ${path}</code></a></li>`
    )}
    </ul></nav>
    <h2 id="errors">Errors</h2>
    ${body({ "application/json": { schema: { $ref: componentRef("ApiError") } } }, schemas)}
    ${byTag.map(({ tag, ops }) =>
      html`<h2 id="tag-${tag.name}">${tag.name}</h2><p>${tag.description}</p>
${ops.map(({ path, method, op }) => operation(path, method, op, schemas))}`
    )}
      </body>
    </html>
  `;
}
