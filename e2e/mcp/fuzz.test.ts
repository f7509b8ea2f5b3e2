/**
 * Property test: thousands of generated INVALID tool inputs, sent as raw JSON-RPC over HTTP to the
 * real server. Every one must come back as a tool error or a JSON-RPC error with a message — never
 * an HTTP 5xx, never an internal error, never a stack trace — the process stays up, and nothing is
 * written. Inputs are kept only if the tool's own published JSON Schema rejects them (checked with
 * ajv, independently of the server's effect/Schema decoder).
 */
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import fc from "fast-check"
import { Ajv2020 } from "ajv/dist/2020.js"
import { initializeRequest, rawPost, startMcpSystem, type McpTestSystem, type TestUser } from "./support.ts"

const RUNS_PER_TOOL = 100

interface Tool {
  name: string
  inputSchema: { properties?: Record<string, unknown>; required?: Array<string> }
}

interface RpcReply {
  status: number
  message?: { result?: { isError?: boolean; content?: Array<{ text?: string }> }; error?: { code: number; message: string } }
}

/** A valid call per tool, naming objects that exist, so mutations of it probe the real paths. */
const VALID: Record<string, Record<string, unknown>> = {
  whoami: {},
  create_app: { repo: "octocat/target", name: "target", port: 3000, env_vars: { A: "1" }, resources: ["target-db"] },
  update_app: { name: "target", port: 8080, env_vars: { B: "2" } },
  list_apps: { project: "default" },
  get_app_details: { name: "target", include_env: true, deploy_log_lines: 10 },
  redeploy: { name: "target" },
  delete_app: { name: "target" },
  create_resource: { name: "target-db", type: "sqlite" },
  list_resources: {},
  get_resource_details: { name: "target-db" },
  delete_resource: { name: "target-db" }
}

let t: McpTestSystem
let user: TestUser
let sessionId: string
let nextId = 10

const parseReply = async (response: Response): Promise<RpcReply> => {
  const text = await response.text()
  if (!(response.headers.get("content-type") ?? "").includes("text/event-stream")) {
    return { status: response.status, ...(text ? { message: JSON.parse(text) as RpcReply["message"] } : {}) }
  }
  const data = text.split("\n").filter((line) => line.startsWith("data: ")).map((line) => JSON.parse(line.slice(6)) as RpcReply["message"] & { id?: unknown })
  return { status: response.status, message: data.find((message) => message && "id" in message) }
}

const callRaw = async (name: string, args: unknown): Promise<RpcReply> =>
  parseReply(
    await rawPost(
      t.mcpUrl,
      { jsonrpc: "2.0", id: nextId++, method: "tools/call", params: { name, arguments: args } },
      { authorization: `Bearer ${user.key}`, "mcp-session-id": sessionId, "mcp-protocol-version": "2025-06-18" }
    )
  )

const snapshot = async () => {
  const rows = await t.db.pool.query<{ kind: string; name: string; resource_version: string; generation: string; deleting: boolean }>(
    "SELECT kind, name, resource_version, generation, deletion_timestamp IS NOT NULL AS deleting FROM objects ORDER BY kind, name"
  )
  const counts = await t.db.pool.query<{ events: string; keys: string; users: string }>(
    "SELECT (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM api_keys) AS keys, (SELECT count(*) FROM users) AS users"
  )
  return { objects: rows.rows, counts: counts.rows[0] }
}

/** Values of every JSON type, including awkward ones. */
const anyJson = fc.oneof(
  fc.jsonValue(),
  fc.string({ unit: "binary", maxLength: 80 }),
  fc.constantFrom("", " ", "UPPER", "-lead", "trail-", "a".repeat(64), "../../etc/passwd", "'; DROP TABLE objects; --", "\u0000", "dk_live_x"),
  fc.constantFrom(-1, 0, 1.5, 65536, Number.MAX_SAFE_INTEGER, 1e308),
  fc.constant(null)
)

const invalidArguments = (tool: Tool, isInvalid: (args: unknown) => boolean) => {
  const base = VALID[tool.name] ?? {}
  const fields = Object.keys(tool.inputSchema.properties ?? {})
  const known = new Set(fields)
  const unknownKey = fc.string({ minLength: 1, maxLength: 20 }).filter((key) => !known.has(key) && key !== "__proto__")
  const candidates: Array<fc.Arbitrary<unknown>> = [
    // An argument the tool does not have.
    fc.tuple(unknownKey, anyJson).map(([key, value]) => ({ ...base, [key]: value })),
    // A random object of random keys.
    fc.dictionary(fc.string({ maxLength: 12 }).filter((key) => key !== "__proto__"), anyJson, { maxKeys: 5 }),
    // Not an object at all.
    fc.oneof(fc.array(anyJson, { maxLength: 3 }), fc.string(), fc.integer(), fc.boolean())
  ]
  if (fields.length > 0) {
    // A known argument with a value of any type or shape.
    candidates.push(fc.tuple(fc.constantFrom(...fields), anyJson).map(([key, value]) => ({ ...base, [key]: value })))
    // Nested garbage inside a known argument.
    candidates.push(fc.tuple(fc.constantFrom(...fields), fc.dictionary(fc.string({ maxLength: 8 }), anyJson, { maxKeys: 3 })).map(([key, value]) => ({ ...base, [key]: value })))
  }
  for (const required of tool.inputSchema.required ?? []) {
    // A required argument missing.
    candidates.push(fc.constant(Object.fromEntries(Object.entries(base).filter(([key]) => key !== required))))
  }
  return fc.oneof(...candidates).filter(isInvalid)
}

describe("fuzzing every tool with invalid input", () => {
  before(async () => {
    // No controllers: nothing may write while the snapshot comparison runs.
    t = await startMcpSystem({ env: { MCP_RATE_LIMIT_PER_MINUTE: "1000000", CONTROLLERS: "off" } })
    user = await t.createUser("fuzz")
    const client = await t.connect(user.key)
    for (const [name, args] of [
      ["create_resource", { name: "target-db" }],
      ["create_app", { repo: "octocat/target", name: "target", resources: ["target-db"] }]
    ] as const) {
      const result = await client.callTool({ name, arguments: args })
      assert.notEqual(result.isError, true)
    }
    const init = await rawPost(t.mcpUrl, initializeRequest, { authorization: `Bearer ${user.key}` })
    sessionId = init.headers.get("mcp-session-id") ?? ""
    await init.body?.cancel()
    assert.ok(sessionId)
  })
  after(async () => {
    await t?.stop()
  })

  test(`${RUNS_PER_TOOL} generated invalid inputs per tool: all refused with a message, no 5xx, nothing written`, async () => {
    const listed = await parseReply(
      await rawPost(t.mcpUrl, { jsonrpc: "2.0", id: 2, method: "tools/list" }, { authorization: `Bearer ${user.key}`, "mcp-session-id": sessionId, "mcp-protocol-version": "2025-06-18" })
    )
    const tools = (listed.message as { result: { tools: Array<Tool> } }).result.tools
    assert.ok(tools.length >= 11)
    const before = await snapshot()
    const ajv = new Ajv2020({ strict: false, allErrors: false })
    let sent = 0
    for (const tool of tools) {
      const validate = ajv.compile(tool.inputSchema)
      if (VALID[tool.name]) assert.equal(validate(VALID[tool.name]), true, `the valid base input of ${tool.name} must pass its own schema`)
      await fc.assert(
        fc.asyncProperty(invalidArguments(tool, (args) => !validate(args)), async (args) => {
          sent++
          const reply = await callRaw(tool.name, args)
          assert.ok(reply.status < 500, `HTTP ${reply.status} for ${tool.name}(${JSON.stringify(args)})`)
          const result = reply.message?.result
          const error = reply.message?.error
          if (error) {
            assert.ok(error.message.length > 0)
            return
          }
          assert.equal(result?.isError, true, `${tool.name}(${JSON.stringify(args)}) was accepted: ${JSON.stringify(result)}`)
          const text = result?.content?.[0]?.text ?? ""
          assert.ok(text.length > 0, "a tool error says what was wrong")
          assert.doesNotMatch(text, /internal error|correlation id/i, `${tool.name}(${JSON.stringify(args)}) hit an unexpected failure: ${text}`)
          assert.doesNotMatch(text, /\n\s+at .+:\d+:\d+/, "no stack traces")
        }),
        { numRuns: RUNS_PER_TOOL }
      )
    }
    assert.ok(sent >= 1000, `sent ${sent} invalid inputs`)
    assert.deepEqual(await snapshot(), before, "no object, event, key or user was written by invalid input")

    // Still up and serving.
    assert.equal((await fetch(`${t.system.url}/healthz`)).status, 200)
    const alive = await callRaw("whoami", {})
    assert.equal(alive.message?.result?.isError, undefined)
  })
})
