import { test } from "node:test"
import assert from "node:assert/strict"
import { leanJsonSchema, type Json } from "./lean-json-schema.ts"

const SAFE = Number.MAX_SAFE_INTEGER

test("both roles drop what JSON Schema assumes and take the shortest equal form", () => {
  const schema: Json = {
    type: "object",
    properties: {
      count: { type: "integer", minimum: -SAFE, maximum: SAFE },
      port: { anyOf: [{ type: "integer", minimum: 1, maximum: 65535 }, { type: "null" }], description: "null clears it" },
      size: { anyOf: [{ type: "string", enum: ["small", "large"] }, { type: "null" }] },
      kind: { anyOf: [{ type: "string", enum: ["sqlite"] }], default: "sqlite" },
      either: { anyOf: [{ type: "string" }, { type: "integer" }] }
    },
    additionalProperties: true
  }
  assert.deepEqual(leanJsonSchema(schema, "input"), {
    type: "object",
    properties: {
      count: { type: "integer" },
      port: { type: ["integer", "null"], minimum: 1, maximum: 65535, description: "null clears it" },
      size: { type: ["string", "null"], enum: ["small", "large", null] },
      kind: { type: "string", enum: ["sqlite"], default: "sqlite" },
      either: { anyOf: [{ type: "string" }, { type: "integer" }] }
    }
  })
})

test("inputs keep their words; a property named like a keyword is a property", () => {
  const schema: Json = {
    type: "object",
    properties: { description: { type: "string", maxLength: 350, description: "Shown on GitHub", examples: ["x"] } },
    required: ["description"],
    additionalProperties: false
  }
  assert.deepEqual(leanJsonSchema(schema, "input"), schema)
})

test("outputs keep their outline: the result's fields and theirs, typed; deeper objects typed only; no prose", () => {
  const schema: Json = {
    type: "object",
    description: "result",
    properties: {
      app: {
        type: "object",
        properties: {
          name: { type: "string", pattern: "^[a-z]+$", description: "the name" },
          ready: { type: "object", properties: { status: { type: "string", enum: ["True", "False"] } }, required: ["status"] },
          conditions: { type: "array", items: { type: "object", properties: { type: { type: "string" } } } },
          env: { type: "object", additionalProperties: { type: "string" } }
        },
        required: ["name", "ready"]
      },
      outcome: { type: "string", enum: ["ready", "failed"] }
    },
    required: ["app"]
  }
  assert.deepEqual(leanJsonSchema(schema, "output"), {
    type: "object",
    properties: {
      app: {
        type: "object",
        properties: { name: { type: "string" }, ready: { type: "object" }, conditions: { type: "array", items: { type: "object" } }, env: { type: "object" } }
      },
      outcome: { type: "string", enum: ["ready", "failed"] }
    }
  })
})
