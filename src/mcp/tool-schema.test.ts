import { test } from "node:test"
import assert from "node:assert/strict"
import { Effect, Exit, Schema } from "effect"
import { DnsLabel } from "../../schemas/index.ts"
import { decodeToolInput, NoArguments, toToolJsonSchema } from "./tool-schema.ts"
import { ToolError } from "./errors.ts"

const Input = Schema.Struct({
  name: DnsLabel,
  tags: Schema.optionalKey(Schema.Array(Schema.String)),
  env_vars: Schema.optionalKey(Schema.Record(Schema.String.check(Schema.isPattern(/^[A-Z]+$/u)), Schema.String))
})

const failure = (args: unknown) => {
  const exit = Effect.runSyncExit(decodeToolInput("demo", Input, args))
  assert.ok(Exit.isFailure(exit))
  const error = exit.cause.reasons[0]
  assert.ok(error && error._tag === "Fail" && error.error instanceof ToolError)
  return error.error.message
}

test("tool JSON Schemas: objects, strict inputs, open outputs, patterns kept", () => {
  const input = toToolJsonSchema(Input, "input") as unknown as { type: string; additionalProperties?: unknown; required?: unknown; properties: Record<string, { pattern?: string }> }
  assert.equal(input.type, "object")
  assert.equal(input.additionalProperties, false)
  assert.deepEqual(input.required, ["name"])
  assert.equal(input.properties.name?.pattern, "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
  assert.notEqual(toToolJsonSchema(Input, "output").additionalProperties, false, "outputs may grow fields")
  assert.deepEqual(toToolJsonSchema(NoArguments, "input"), { type: "object", properties: {}, additionalProperties: false })
  assert.throws(() => toToolJsonSchema(Schema.String, "input"), /must describe an object/)
})

test("every problem is reported at once, by argument, with how to fix it", () => {
  const message = failure({ name: "Bad Name", tags: [1], colour: "red", env_vars: { lower: "x" } })
  assert.match(message, /^Invalid arguments for demo:\n/)
  assert.match(message, /- name: must be a DNS label/)
  assert.match(message, /- tags\[0\]: Expected string/)
  assert.match(message, /- colour: is not an argument of demo \(accepted: name, tags, env_vars\)/)
  assert.match(message, /- env_vars\.lower: is not a valid environment variable name/)
  assert.match(message, /Fix these and call demo again/)
  assert.match(failure({}), /- name: is required/)
  assert.match(failure("text"), /Expected object/)
})

test("input values are never echoed back (they may be secrets)", () => {
  const message = failure({ name: "x", env_vars: { API: 42 }, tags: "sup3r-s3cret" })
  assert.equal(message.includes("sup3r-s3cret"), false)
  assert.equal(message.includes("42"), false)
})

test("NoArguments accepts {} and nothing else", () => {
  assert.ok(Exit.isSuccess(Effect.runSyncExit(decodeToolInput("none", NoArguments, {}))))
  assert.ok(Exit.isSuccess(Effect.runSyncExit(decodeToolInput("none", NoArguments, undefined))))
  const exit = Effect.runSyncExit(decodeToolInput("none", NoArguments, { a: 1 }))
  assert.ok(Exit.isFailure(exit))
})
