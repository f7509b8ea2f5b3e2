/**
 * Loading and normalising OpenAPI 3.x documents so a JSON Schema 2020-12
 * validator (ajv) can use their schemas directly.
 *
 * Provider documents in the wild mix dialects: Coolify's claims OpenAPI 3.1 but
 * still marks optional values with the 3.0 keyword `nullable: true`, which a
 * JSON Schema validator ignores — so `null` would be rejected where the real
 * service sends it. `normalizeOpenApiDocument` rewrites those to 3.1 type arrays.
 */
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";

export type JsonObject = { [key: string]: unknown };

export const isJsonObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Reads an OpenAPI document from a `.json`, `.yaml` or `.yml` file. */
export const loadOpenApiDocument = (path: string): JsonObject => {
  const text = readFileSync(path, "utf8");
  const parsed: unknown = /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text);
  if (!isJsonObject(parsed) || typeof parsed["openapi"] !== "string" || !isJsonObject(parsed["paths"])) {
    throw new Error(`${path} is not an OpenAPI 3.x document (no "openapi" version or "paths")`);
  }
  return parsed;
};

// Keywords whose values are data, not schemas: never rewrite inside them.
const DATA_KEYWORDS = new Set(["example", "examples", "default", "enum", "const"]);

/**
 * Returns a deep copy of `doc` where every schema is valid JSON Schema 2020-12:
 * - `nullable: true` → `type: [T, "null"]` (and `null` added to an `enum`);
 *   on a type-less schema (`$ref`, `allOf`, …) it becomes `anyOf: [schema, {type: "null"}]`.
 * - 3.0 boolean `exclusiveMinimum`/`exclusiveMaximum` → 2020-12 numbers.
 */
export const normalizeOpenApiDocument = (doc: JsonObject): JsonObject => normalizeNode(structuredClone(doc)) as JsonObject;

const normalizeNode = (node: unknown): unknown => {
  if (Array.isArray(node)) return node.map(normalizeNode);
  if (!isJsonObject(node)) return node;
  for (const [key, value] of Object.entries(node)) {
    if (!DATA_KEYWORDS.has(key)) node[key] = normalizeNode(value);
  }
  convertExclusiveBounds(node);
  if (!("nullable" in node) || typeof node["nullable"] !== "boolean") return node;
  const nullable = node["nullable"];
  delete node["nullable"];
  if (!nullable) return node;
  const type = node["type"];
  if (typeof type === "string") {
    node["type"] = [type, "null"];
  } else if (Array.isArray(type)) {
    if (!type.includes("null")) node["type"] = [...type, "null"];
  } else {
    // No type of its own (a $ref or a composition): allow null alongside it.
    const { description, ...rest } = node;
    return description === undefined
      ? { anyOf: [rest, { type: "null" }] }
      : { description, anyOf: [rest, { type: "null" }] };
  }
  const enumValues = node["enum"];
  if (Array.isArray(enumValues) && !enumValues.includes(null)) node["enum"] = [...enumValues, null];
  return node;
};

const convertExclusiveBounds = (node: JsonObject): void => {
  for (const [exclusive, bound] of [["exclusiveMinimum", "minimum"], ["exclusiveMaximum", "maximum"]] as const) {
    if (typeof node[exclusive] !== "boolean") continue;
    if (node[exclusive] === true && typeof node[bound] === "number") {
      node[exclusive] = node[bound];
      delete node[bound];
    } else {
      delete node[exclusive];
    }
  }
};
