/**
 * A JSON Schema as the rows a reader scans: one per field, nested fields named by path
 * (`sources[].source_id`), with a short type, whether it is required and what it holds.
 *
 * @module
 */
import type { JsonSchema } from "./json_schema.ts";

/** One row of a schema summary. */
export type Field = { name: string; type: string; required: boolean; description: string };

/** Deep enough for every schema of the API; a guard against a schema that refers to itself. */
const MAX_DEPTH = 8;

/** The component a `$ref` names, or the schema itself. */
function resolve(schema: JsonSchema, components: Record<string, JsonSchema>): JsonSchema {
  const ref = schema.$ref;
  if (typeof ref !== "string") return schema;
  const target = components[ref.slice(ref.lastIndexOf("/") + 1)];
  if (!target) throw new Error(`unresolved $ref ${ref}`);
  return target;
}

/** The one branch of a nullable `anyOf`, whose fields are worth listing. */
function withoutNull(schema: JsonSchema): JsonSchema {
  const branches = schema.anyOf as JsonSchema[] | undefined;
  const others = branches?.filter((b) => b.type !== "null");
  return others?.length === 1 ? others[0] : schema;
}

/** A short type: `string (date-time)`, `"a" | "b"`, `AgentStatus[]`, `string | null`. */
export function typeLabel(schema: JsonSchema): string {
  if (typeof schema.$ref === "string") return schema.$ref.slice(schema.$ref.lastIndexOf("/") + 1);
  if ("const" in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
  const branches = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (branches) return branches.map(typeLabel).join(" | ");
  if (Array.isArray(schema.type)) return schema.type.join(" | ");
  if (schema.type === "array") {
    const item = typeLabel((schema.items ?? {}) as JsonSchema);
    return item.includes(" ") ? `(${item})[]` : `${item}[]`;
  }
  if (typeof schema.type === "string") {
    return schema.format ? `${schema.type} (${schema.format})` : schema.type;
  }
  return "any";
}

/** Comparison signs of the JSON Schema bounds of numbers. */
const BOUNDS = { minimum: "≥", exclusiveMinimum: ">", maximum: "≤", exclusiveMaximum: "<" };

/** A length limit as a phrase: `1–256 characters`, `≤ 64 items`; null without one. */
function lengthLimit(min: unknown, max: unknown, unit: string): string | null {
  const from = typeof min === "number" && min > 0 ? min : null;
  if (typeof max === "number") return from === null ? `≤ ${max} ${unit}` : `${from}–${max} ${unit}`;
  return from === null ? null : `≥ ${from} ${unit}`;
}

/** The limits a value must keep, as short phrases. */
function limits(schema: JsonSchema): string[] {
  const bounds = Object.entries(BOUNDS)
    .filter(([key]) => typeof schema[key] === "number")
    .map(([key, sign]) => `${sign} ${schema[key]}`);
  return [
    lengthLimit(schema.minLength, schema.maxLength, "characters"),
    lengthLimit(schema.minItems, schema.maxItems, "items"),
    bounds.length > 0 ? bounds.join(" and ") : null,
    typeof schema.pattern === "string" ? `matches \`${schema.pattern}\`` : null,
  ].filter((phrase) => phrase !== null);
}

/** What a field holds: its description, its limits and its default. */
function describe(schema: JsonSchema, components: Record<string, JsonSchema>): string {
  const inner = withoutNull(schema);
  const text = schema.description ?? inner.description ?? resolve(inner, components).description;
  return [
    ...(text ? [String(text)] : []),
    ...limits(inner),
    ...("default" in schema ? [`default ${JSON.stringify(schema.default)}`] : []),
  ].join("; ");
}

/** The rows of `schema`, an object (or a `$ref` to one); none for anything else. */
export function schemaFields(
  schema: JsonSchema,
  components: Record<string, JsonSchema>,
): Field[] {
  const fields: Field[] = [];
  const walk = (object: JsonSchema, prefix: string, depth: number) => {
    if (depth > MAX_DEPTH) return;
    const properties = (object.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((object.required ?? []) as string[]);
    for (const [key, property] of Object.entries(properties)) {
      const name = prefix + key;
      fields.push({
        name,
        type: typeLabel(property),
        required: required.has(key),
        description: describe(property, components),
      });
      const inner = resolve(withoutNull(property), components);
      if (inner.properties) walk(inner, `${name}.`, depth + 1);
      else if (inner.type === "array" && inner.items) {
        const item = resolve(withoutNull(inner.items as JsonSchema), components);
        if (item.properties) walk(item, `${name}[].`, depth + 1);
      }
    }
  };
  walk(resolve(schema, components), "", 0);
  return fields;
}
