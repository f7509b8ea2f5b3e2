/**
 * Tool JSON Schemas without the bytes that say nothing: every client fetches tools/list at session
 * start and the model reads all of it, so each byte costs tokens in every session.
 *
 * Both roles lose what JSON Schema assumes anyway (`additionalProperties: true`, the ±2^53 bounds
 * effect puts on every Int) and take the shortest equal form (`anyOf` of one member unwrapped,
 * `anyOf [T, null]` as `type: [T, "null"]`). Inputs keep their words: descriptions, defaults and
 * examples are how a model learns to call the tool. Outputs keep their outline and lose the rest:
 * the result's fields and their fields with types and enums, while objects deeper down (an app's
 * conditions, its latest deployment) are typed but not itemised, and prose, patterns and
 * `required` go. A structured result explains itself when it arrives; before the call, an agent
 * reads the tool's description. (The app view alone, itemised to the bottom, is 2 KB in each of
 * four tools.) Output schemas stay open, so every result still validates against them.
 */

export type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [key: string]: Json }
type JsonObject = { readonly [key: string]: Json }

const SAFE = Number.MAX_SAFE_INTEGER

/** Keywords whose value is a map of names to subschemas. */
const SCHEMA_MAPS = new Set(["properties", "patternProperties", "$defs", "definitions"])
/** Keywords whose value is data, not a subschema: copied as they are. */
const DATA = new Set(["enum", "const", "default", "examples", "required"])
/** Keywords an output schema drops: prose and constraints only the server needs. */
const OUTPUT_PROSE = new Set(["description", "title", "examples", "default", "pattern", "format", "required"])
/** Output objects this deep (the result is 0, its fields' objects 1) are typed, not itemised. */
const OUTPUT_OUTLINE_DEPTH = 2

/** Annotations an outer schema may state over a member's: the outer one describes the whole. */
const ANNOTATIONS = new Set(["description", "title", "examples", "default"])

/** Members can merge with the union's own keywords only where those are annotations. */
const mergeable = (member: JsonObject, outer: Record<string, Json>) => Object.keys(member).every((key) => !(key in outer) || ANNOTATIONS.has(key))

const isObject = (value: Json | undefined): value is JsonObject => typeof value === "object" && value !== null && !Array.isArray(value)

const isBareNull = (value: Json | undefined) => isObject(value) && value.type === "null" && Object.keys(value).length === 1

/** `anyOf: [S]` → S; `anyOf: [S, {type: null}]` → S with `type: [S.type, "null"]` when that says the same. */
const simplifyUnion = (schema: Record<string, Json>): Record<string, Json> => {
  const { anyOf, ...rest } = schema
  if (!Array.isArray(anyOf)) return schema
  const members = anyOf as ReadonlyArray<Json>
  if (members.length === 1 && isObject(members[0]) && mergeable(members[0], rest)) return { ...members[0], ...rest }
  if (members.length !== 2) return schema
  const nullAt = members.findIndex(isBareNull)
  const other = members[1 - nullAt]
  if (nullAt < 0 || !isObject(other) || typeof other.type !== "string" || "const" in other || "anyOf" in other) return schema
  if (!mergeable(other, rest)) return schema
  const nullable: Record<string, Json> = { ...other, ...rest, type: [other.type, "null"] }
  // enum restricts every value, null included: it must list null to keep accepting it.
  if (Array.isArray(other.enum)) nullable.enum = [...(other.enum as ReadonlyArray<Json>), null]
  return nullable
}

export const leanJsonSchema = (schema: Json, role: "input" | "output", depth = 0): Json => {
  if (Array.isArray(schema)) return schema.map((member: Json) => leanJsonSchema(member, role, depth))
  if (!isObject(schema)) return schema
  const lean: Record<string, Json> = {}
  for (const [key, value] of Object.entries(schema)) {
    if (role === "output" && OUTPUT_PROSE.has(key)) continue
    if (role === "output" && depth >= OUTPUT_OUTLINE_DEPTH && (key === "properties" || key === "additionalProperties")) continue
    if ((key === "minimum" && value === -SAFE) || (key === "maximum" && value === SAFE)) continue
    if (key === "additionalProperties" && value === true) continue
    if (SCHEMA_MAPS.has(key) && isObject(value)) {
      const inner = key === "properties" ? depth + 1 : depth
      lean[key] = Object.fromEntries(Object.entries(value).map(([name, member]) => [name, leanJsonSchema(member, role, inner)]))
    } else {
      lean[key] = DATA.has(key) ? value : leanJsonSchema(value, role, depth)
    }
  }
  return simplifyUnion(lean)
}
