/**
 * Builds the OpenAPI 3.1 document from the declarative operations: schemas through
 * `z.toJSONSchema`, tokens as bearer security schemes, and the error answers each route
 * can give, derived from its token, its body and the store plus its own codes.
 *
 * @module
 */
import type { z } from "zod";
import { VERSION } from "../../shared/version.ts";
import { isPublic } from "../http/rate_limit.ts";
import { componentRef, componentSchemas, type JsonSchema, parameterSchema } from "./json_schema.ts";
import { API_ERROR, OPERATIONS, SHARED_SCHEMAS, TAGS } from "./operations.ts";
import type { Answer, Auth, Named, Operation, Tag } from "./types.ts";

/** An OpenAPI 3.1 document, as plain JSON. */
export type OpenApi = {
  openapi: "3.1.0";
  info: { title: string; version: string; description: string };
  servers: { url: string }[];
  tags: Tag[];
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: {
    schemas: Record<string, JsonSchema>;
    securitySchemes: Record<string, SecurityScheme>;
  };
};

/** One operation of an {@link OpenApi} document. */
export type OpenApiOperation = {
  operationId: string;
  tags: string[];
  summary: string;
  description?: string;
  security: Record<string, string[]>[];
  parameters?: OpenApiParameter[];
  requestBody?: { required: true; content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, OpenApiResponse>;
};

/** A path or query parameter. */
export type OpenApiParameter = {
  name: string;
  in: "path" | "query";
  required: boolean;
  description?: string;
  schema: JsonSchema;
};

/** An answer; error answers list their codes in `x-error-codes`. */
export type OpenApiResponse = {
  description: string;
  headers?: Record<string, { description: string; schema: JsonSchema }>;
  content?: Record<string, { schema: JsonSchema }>;
  "x-error-codes"?: string[];
};

/** A bearer token scheme. */
export type SecurityScheme = { type: "http"; scheme: "bearer"; description: string };

const SECURITY_SCHEMES: Record<string, SecurityScheme> = {
  adminToken: bearer("The admin token: `ADMIN_TOKEN`, or generated into `data/admin_token`."),
  enrollmentToken: bearer(
    "The enrollment token (`AGENT_ENROLLMENT_TOKEN` or `data/enrollment_token`), " +
      "used once by a new agent.",
  ),
  agentToken: bearer("An agent's own token, answered by its registration."),
  readToken: bearer("A read token (`POST /api/admin/read-tokens`): reads events only."),
  metricsToken: bearer("`METRICS_TOKEN`, for Prometheus."),
};

/** Which schemes satisfy each kind of auth; several entries are alternatives. */
const SECURITY: Record<Auth, Record<string, string[]>[]> = {
  "none": [],
  "admin": [{ adminToken: [] }],
  "agent": [{ agentToken: [] }],
  "enrollment": [{ enrollmentToken: [] }, { agentToken: [] }],
  "read-or-admin": [{ adminToken: [] }, { readToken: [] }],
  "metrics": [{ adminToken: [] }, { metricsToken: [] }],
};

function bearer(description: string): SecurityScheme {
  return { type: "http", scheme: "bearer", description };
}

/**
 * The error codes `op` can answer by status: those its token check, its JSON body
 * (`master/http/`) and a store that is down imply, plus its own. Deriving the common ones
 * means a new route gets them right by declaring its auth and body.
 */
export function errorCodes(op: Operation): Map<number, string[]> {
  const codes = new Map<number, Set<string>>();
  const add = (status: number, ...names: string[]) => {
    const known = codes.get(status) ?? new Set();
    names.forEach((n) => known.add(n));
    codes.set(status, known);
  };
  if (op.auth !== "none") add(401, "missing_token", "invalid_token");
  // A read token is valid but reads only the events: every other route that takes a
  // token answers it 403 (master/http/auth.ts), so a client does not retry with it.
  if (op.auth !== "none" && op.auth !== "read-or-admin") add(403, "forbidden");
  if (op.body) {
    add(400, "malformed_json", "malformed_gzip", "invalid_field");
    add(413, "body_too_large");
    add(415, "unsupported_encoding");
  }
  for (const [status, names] of Object.entries(op.errors ?? {})) add(Number(status), ...names);
  // Every route that takes a credential is refused to an address that guessed too often.
  if (!isPublic(op.method.toUpperCase(), op.path)) add(429, "too_many_failures");
  add(500, "internal_error");
  if (op.store !== false) {
    add(503, "store_unavailable");
    // master/app.ts answers a StorageFullError (disk, database or Redis memory full) so.
    add(507, "storage_full");
  }
  return new Map([...codes].sort(([a], [b]) => a - b).map(([s, n]) => [s, [...n]]));
}

function errorResponse(codes: string[], status: number): OpenApiResponse {
  const response: OpenApiResponse = {
    description: codes.map((c) => `\`${c}\``).join(", "),
    content: { "application/json": { schema: { $ref: componentRef(API_ERROR.name) } } },
    "x-error-codes": codes,
  };
  if (status === 429 || status === 503) {
    response.headers = {
      "Retry-After": {
        description: "seconds to wait before retrying",
        schema: { type: "integer" },
      },
    };
  }
  return response;
}

function answerResponse(answer: Answer): OpenApiResponse {
  const response: OpenApiResponse = { description: answer.description };
  if (answer.json) {
    response.content = { "application/json": { schema: { $ref: componentRef(answer.json.name) } } };
  } else if (answer.text) {
    response.content = { [answer.text]: { schema: { type: "string" } } };
  }
  if (answer.headers) {
    response.headers = Object.fromEntries(
      Object.entries(answer.headers).map(([name, description]) => [
        name,
        { description, schema: { type: "string" } },
      ]),
    );
  }
  return response;
}

/** The parameters of one object schema, found in `where`. */
function parameters(
  object: z.ZodObject,
  where: "path" | "query",
  notes: Record<string, string>,
): OpenApiParameter[] {
  const schema = parameterSchema(object);
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = property;
    const text = notes[name] ?? description;
    return {
      name,
      in: where,
      required: where === "path" || required.has(name),
      ...(text === undefined ? {} : { description: String(text) }),
      schema: rest,
    };
  });
}

function operation(op: Operation): OpenApiOperation {
  const notes = op.paramNotes ?? {};
  const params = [
    ...(op.pathParams ? parameters(op.pathParams, "path", notes) : []),
    ...(op.query ? parameters(op.query, "query", notes) : []),
  ];
  const responses: Record<string, OpenApiResponse> = {};
  for (const [status, answer] of Object.entries(op.answers)) {
    responses[status] = answerResponse(answer);
  }
  for (const [status, codes] of errorCodes(op)) {
    if (responses[status]) {
      throw new Error(`${op.operationId}: status ${status} is both an answer and an error`);
    }
    responses[status] = errorResponse(codes, status);
  }
  return {
    operationId: op.operationId,
    tags: [op.tag],
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    security: SECURITY[op.auth],
    ...(params.length > 0 ? { parameters: params } : {}),
    ...(op.body
      ? {
        requestBody: {
          required: true as const,
          content: { "application/json": { schema: { $ref: componentRef(op.body.name) } } },
        },
      }
      : {}),
    responses,
  };
}

/** Builds the document of `operations` under `tags`. */
export function buildOpenApi(
  operations: Operation[] = OPERATIONS,
  tags: Tag[] = TAGS,
): OpenApi {
  const inputs = operations.flatMap((op) => op.body ? [op.body] : []);
  const outputs: Named[] = [
    API_ERROR,
    ...SHARED_SCHEMAS,
    ...operations.flatMap((op) => Object.values(op.answers).flatMap((a) => a.json ? [a.json] : [])),
  ];
  const paths: OpenApi["paths"] = {};
  for (const op of operations) {
    const item = paths[op.path] ??= {};
    if (item[op.method]) throw new Error(`${op.method} ${op.path} is listed twice`);
    item[op.method] = operation(op);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "calsync master",
      version: VERSION,
      description: "Consolidates calendar events from agents into destinations. Tokens go in " +
        "an `Authorization: Bearer <token>` header; agents may gzip request bodies.",
    },
    servers: [{ url: "/" }],
    tags,
    paths,
    components: { schemas: componentSchemas(inputs, outputs), securitySchemes: SECURITY_SCHEMES },
  };
}

let cached: OpenApi | undefined;

/** The master's document, built once: the schemas never change while it runs. */
export function openApiDocument(): OpenApi {
  return cached ??= buildOpenApi();
}
