/**
 * effect/Schema → what MCP clients see and send: JSON Schemas for tools/list, and input decoding
 * whose failures read as instructions ("name: must be a DNS label …; extra: not an argument of
 * create_app (accepted: …)"). Input values are never echoed: env values are secrets.
 */
import { Effect, Result, Schema, SchemaAST, SchemaIssue } from "effect"
import { ToolError } from "./errors.ts"
import { leanJsonSchema, type Json } from "./lean-json-schema.ts"

/** A JSON Schema whose top level is an object, as MCP requires for tool input and output. */
export interface JsonObjectSchema {
  readonly type: "object"
  readonly [keyword: string]: unknown
}

/**
 * The draft 2020-12 JSON Schema of a tool's input or output. Inputs reject unknown properties
 * (as the decoder does); outputs stay open so clients keep working when fields are added.
 */
export const toToolJsonSchema = (schema: Schema.Top, role: "input" | "output"): JsonObjectSchema => {
  // An empty struct accepts any non-null value in JSON Schema terms; for a tool it means "no arguments".
  if (SchemaAST.isObjects(schema.ast) && schema.ast.propertySignatures.length === 0 && schema.ast.indexSignatures.length === 0) {
    return { type: "object", properties: {}, ...(role === "input" ? { additionalProperties: false } : {}) }
  }
  const document = Schema.toJsonSchemaDocument(schema, { onExcessProperty: role === "input" ? "error" : "ignore" })
  const root = document.schema as Record<string, unknown>
  if (root.type !== "object") throw new Error(`tool ${role} schema must describe an object, got ${JSON.stringify(root.type)}`)
  const definitions = Object.keys(document.definitions).length > 0 ? { $defs: document.definitions } : {}
  return { ...(leanJsonSchema({ ...root, ...definitions } as Json, role) as Record<string, unknown>), type: "object" }
}

/**
 * The input of a tool without arguments. (An empty Struct alone accepts any object: there are no
 * properties for the excess-property check to compare against.)
 */
export const NoArguments = Schema.Struct({}).check(Schema.isMaxProperties(0, { message: "this tool takes no arguments; call it with {}" }))

/** Per-field explanations for keys a record refuses (the generic message would be "unexpected key"). */
const RECORD_KEY_RULES: Record<string, string> = {
  env_vars:
    "is not a valid environment variable name: names start with a letter or '_' and contain only letters, digits and '_' (e.g. \"API_URL\")"
}

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

type PathItem = PropertyKey | { readonly key: PropertyKey }

const pathText = (path: ReadonlyArray<PathItem>): string =>
  path
    .map((item) => (typeof item === "object" ? item.key : item))
    .reduce<string>((text, key) => (typeof key === "number" ? `${text}[${key}]` : text ? `${text}.${String(key)}` : String(key)), "")

const explain = (toolName: string, accepted: ReadonlyArray<string>, path: ReadonlyArray<PathItem>, message: string): string => {
  const where = pathText(path)
  if (message === "Missing key") return `${where}: is required`
  if (message.startsWith("Expected no excess property") || message.startsWith("Unexpected key")) {
    if (path.length === 1) {
      return `${where}: is not an argument of ${toolName} (accepted: ${accepted.join(", ") || "none"})`
    }
    const parent = pathText(path.slice(0, -1))
    const rule = RECORD_KEY_RULES[parent]
    return rule ? `${where}: ${rule}` : `${where}: is not allowed here`
  }
  return where ? `${where}: ${message}` : message
}

/** Names of a struct schema's properties, for "accepted: …" hints. */
const propertyNames = (schema: Schema.Top): ReadonlyArray<string> => {
  const properties = (Schema.toJsonSchemaDocument(schema).schema as { properties?: Record<string, unknown> }).properties
  return properties ? Object.keys(properties) : []
}

/**
 * Decode tool arguments strictly: unknown properties are errors and every problem is reported at
 * once, so an agent can fix its call in one go.
 */
export const decodeToolInput = <I>(toolName: string, schema: Schema.Codec<I, unknown>, args: unknown): Effect.Effect<I, ToolError> => {
  const decoded = Schema.decodeUnknownResult(schema)(args ?? {}, { errors: "all", onExcessProperty: "error" })
  if (Result.isSuccess(decoded)) return Effect.succeed(decoded.success)
  const accepted = propertyNames(schema)
  const problems = formatter(decoded.failure.issue).issues.map((issue) => `- ${explain(toolName, accepted, issue.path ?? [], issue.message)}`)
  return Effect.fail(
    new ToolError({
      message: `Invalid arguments for ${toolName}:\n${problems.join("\n")}\nFix these and call ${toolName} again (tools/list shows its input schema).`
    })
  )
}
