/**
 * zod schemas to the JSON Schema (draft 2020-12) of `components.schemas`. Request bodies
 * are converted as their input (defaults may be left out), answers as their output (every
 * field present), so a schema that is both would need two names: that is refused.
 *
 * @module
 */
import { z } from "zod";
import { DateOrInstant, Instant } from "../../shared/time.ts";
import type { Named } from "./types.ts";

/** A JSON Schema object as OpenAPI 3.1 embeds it. */
export type JsonSchema = Record<string, unknown>;

/** Where a component named `name` lives in the document. */
export function componentRef(name: string): string {
  return `#/components/schemas/${name}`;
}

/**
 * What the wire types of `shared/time.ts` look like. They are transforms (any ISO offset
 * in, canonical UTC out), which zod cannot describe on its own.
 */
const WIRE_TYPES = new Map<z.ZodType, JsonSchema>([
  [Instant, {
    type: "string",
    format: "date-time",
    description: "an ISO 8601 instant with an offset; answers use UTC: 2026-03-29T08:00:00Z",
  }],
  [DateOrInstant, {
    type: "string",
    description: "a date such as 2026-03-29 for all-day events, else an instant",
  }],
]);

/** The transforms inside the wire types, the only ones that may reach JSON Schema. */
const WIRE_TRANSFORMS = new Set<unknown>([Instant.out, DateOrInstant.out]);

/** Options of `z.toJSONSchema` common to every conversion here. */
function options(io: "input" | "output") {
  return {
    target: "draft-2020-12",
    io,
    // Any other transform would silently become "anything": make it fail here instead.
    unrepresentable: ({ zodSchema }: { zodSchema: unknown }) =>
      WIRE_TRANSFORMS.has(zodSchema) ? "any" : "throw",
    override: ({ zodSchema, jsonSchema }: { zodSchema: unknown; jsonSchema: JsonSchema }) => {
      const wire = WIRE_TYPES.get(zodSchema as z.ZodType);
      if (wire) Object.assign(jsonSchema, wire);
      // Every field of an answer is present, so a default there would only mislead.
      if (io === "output") delete jsonSchema.default;
      // `z.int()` bounds itself to safe integers, which says nothing to a reader.
      if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
      if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
    },
  } as const;
}

/** Converts `schemas`, which may refer to each other, as their `io` side. */
function convert(schemas: Named[], io: "input" | "output"): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const { name, schema } of schemas) registry.add(schema, { id: name });
  const { schemas: converted } = z.toJSONSchema(registry, { ...options(io), uri: componentRef });
  if ("__shared" in converted) {
    throw new Error(
      `schemas ${Object.keys(converted.__shared)} need $defs; name them in master/openapi`,
    );
  }
  const components: Record<string, JsonSchema> = {};
  for (const { name, description } of schemas) {
    // `$id` and `$schema` are for standalone files; inside the document they would move
    // the base of every `$ref`.
    const { $id: _id, $schema: _schema, ...rest } = converted[name] as JsonSchema;
    components[name] = { description, ...rest };
  }
  return components;
}

/** Adds `item` to `byName`, refusing two different schemas under one name. */
function collect(byName: Map<string, Named>, item: Named): void {
  const known = byName.get(item.name);
  if (known && known.schema !== item.schema) {
    throw new Error(`two different schemas are named '${item.name}'`);
  }
  byName.set(item.name, item);
}

/**
 * `components.schemas` for request bodies `inputs` and answers `outputs`. A schema listed
 * more than once is converted once; one that other listed schemas contain becomes a
 * `$ref` to its component in them.
 */
export function componentSchemas(
  inputs: Named[],
  outputs: Named[],
): Record<string, JsonSchema> {
  const ins = new Map<string, Named>();
  const outs = new Map<string, Named>();
  inputs.forEach((n) => collect(ins, n));
  outputs.forEach((n) => collect(outs, n));
  for (const name of ins.keys()) {
    if (outs.has(name)) throw new Error(`'${name}' is both a request body and an answer`);
  }
  return { ...convert([...ins.values()], "input"), ...convert([...outs.values()], "output") };
}

/** The JSON Schema of one parameter schema, as a request reads it. */
export function parameterSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, options("input")) as JsonSchema;
  return rest;
}
