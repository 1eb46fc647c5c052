/**
 * The vocabulary of the declarative API description: an operation names its zod schemas
 * and its token, and the generator turns them into OpenAPI.
 *
 * @module
 */
import type { z } from "zod";

/**
 * Which token an operation takes. `enrollment` also accepts the agent's own token,
 * `read-or-admin` a read token or the admin token, `metrics` the metrics token or the
 * admin token.
 */
export type Auth = "none" | "admin" | "agent" | "enrollment" | "read-or-admin" | "metrics";

/** A zod schema published under a name in `components.schemas`. */
export type Named = {
  name: string;
  schema: z.ZodType;
  description: string;
};

/** Gives `schema` a component name and a description. */
export function named(name: string, schema: z.ZodType, description: string): Named {
  return { name, schema, description };
}

/** One successful (or otherwise documented, non-error) answer of an operation. */
export type Answer = {
  description: string;
  /** A JSON body, described by its schema; leave out with `text` or for an empty body. */
  json?: Named;
  /** A text body of this media type (iCalendar, metrics). */
  text?: string;
  /** Response headers worth knowing, by name, with what they hold. */
  headers?: Record<string, string>;
};

/** One operation of the API, as `/openapi.json` and `/docs` show it. */
export type Operation = {
  method: "get" | "post" | "put" | "delete";
  /** The path in OpenAPI form: `/api/agents/{agent_id}/heartbeat`. */
  path: string;
  operationId: string;
  tag: string;
  summary: string;
  description?: string;
  auth: Auth;
  /** Path parameters: an object schema with one string field per `{name}` in `path`. */
  pathParams?: z.ZodObject;
  /** Query parameters: the object schema the route validates the query with. */
  query?: z.ZodObject;
  /** Descriptions of parameters whose schema has none, by name. */
  paramNotes?: Record<string, string>;
  /** The JSON request body: the schema the route validates it with. */
  body?: Named;
  /** Answers by status that are not `ApiError`s. */
  answers: Record<number, Answer>;
  /**
   * Error codes this route answers beyond those its token, body and the store imply
   * (see `impliedErrors`), by status.
   */
  errors?: Record<number, string[]>;
  /** False for the few routes that never read the store, so never answer 503. */
  store?: false;
};

/** A group of operations, shown as a section of `/docs`. */
export type Tag = { name: string; description: string };
