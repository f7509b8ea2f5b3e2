/**
 * /mcp as an HTTP endpoint: API keys (401 with WWW-Authenticate and how to get a key), revocation
 * effective at once on every replica, DNS-rebinding protection, CORS, sessions bound to their key,
 * malformed requests, and the per-key rate limit.
 */
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import http from "node:http"
import { Effect, Option } from "effect"
import { StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { ApiKeyStore } from "../../src/auth/api-key-store.ts"
import { startSystem, type RunningSystem } from "../../src/system/boot.ts"
import { initializeRequest, rawPost, startMcpSystem, textOf, type McpTestSystem, type TestUser } from "./support.ts"
import { waitFor } from "../support/wait.ts"

/** node:http, because fetch will not send a forged Host header. */
const request = (url: string, options: { method?: string; headers?: Record<string, string>; body?: string }) =>
  new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? "POST", headers: options.headers ?? {} }, (res) => {
      let body = ""
      res.on("data", (chunk: Buffer) => (body += chunk.toString()))
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.on("error", reject)
    req.end(options.body)
  })

const jsonRpcError = async (response: Response) => (await response.json()) as { jsonrpc: string; error: { code: number; message: string }; id: null }

/** initialize over raw HTTP; returns the session id. */
const openSession = async (url: string, key: string) => {
  const response = await rawPost(url, initializeRequest, { authorization: `Bearer ${key}` })
  assert.equal(response.status, 200)
  await response.body?.cancel()
  const sessionId = response.headers.get("mcp-session-id")
  assert.ok(sessionId)
  return sessionId
}

const listTools = (url: string, key: string, sessionId: string) =>
  rawPost(url, { jsonrpc: "2.0", id: 2, method: "tools/list" }, { authorization: `Bearer ${key}`, "mcp-session-id": sessionId, "mcp-protocol-version": "2025-06-18" })

let t: McpTestSystem
let alice: TestUser
let bob: TestUser
/** What the server logged at level error and above. */
const logLines: Array<string> = []

describe("/mcp endpoint", () => {
  before(async () => {
    t = await startMcpSystem({
      env: { API_KEY_CACHE_SECONDS: "600", ALLOWED_ORIGINS: "https://claude.example", LOG_LEVEL: "error" },
      logDestination: { write: (line: string) => void logLines.push(line) }
    })
    alice = await t.createUser("alice")
    bob = await t.createUser("bob")
  })
  after(async () => {
    await t?.stop()
  })

  test("no key: 401, WWW-Authenticate: Bearer, and how to get one", async () => {
    const response = await rawPost(t.mcpUrl, initializeRequest)
    assert.equal(response.status, 401)
    assert.match(response.headers.get("www-authenticate") ?? "", /^Bearer realm="deploy-mcp"/)
    const body = await jsonRpcError(response)
    assert.equal(body.jsonrpc, "2.0")
    assert.match(body.error.message, /^Missing API key\. Create one with `npm run cli -- apikey create --user <login>` on the server \(http:\/\/localhost:\d+\/ shows how to connect/)
  })

  test("a wrong or malformed key: 401 invalid_token, also through the SDK client", async () => {
    for (const key of ["dk_live_" + "x".repeat(40), "not-a-key", alice.key.slice(0, -1) + (alice.key.endsWith("a") ? "b" : "a")]) {
      const response = await rawPost(t.mcpUrl, initializeRequest, { authorization: `Bearer ${key}` })
      assert.equal(response.status, 401)
      assert.match(response.headers.get("www-authenticate") ?? "", /error="invalid_token"/)
      assert.match((await jsonRpcError(response)).error.message, /^Invalid or revoked API key\./)
    }
    await assert.rejects(t.connect("dk_live_" + "0".repeat(40)), (error: unknown) => error instanceof StreamableHTTPError && error.code === 401 && /Invalid or revoked API key/.test(error.message))
  })

  test("a key that works records its last use", async () => {
    const client = await t.connect(alice.key)
    assert.notEqual((await client.callTool({ name: "whoami", arguments: {} })).isError, true)
    const lastUsed = await waitFor(
      async () => (await t.db.pool.query<{ last_used_at: Date | null }>("SELECT last_used_at FROM api_keys WHERE prefix = $1", [alice.prefix])).rows[0]?.last_used_at ?? undefined,
      { what: "last_used_at to be recorded" }
    )
    assert.ok(Date.now() - lastUsed.getTime() < 60_000)
  })

  test("revocation is effective at once on every replica, not at cache expiry (TTL here: 600 s)", async () => {
    const carol = await t.createUser("carol")
    // A second replica on the same database, as in a scaled-out deployment: an API replica (the
    // local runtime runs in one server only; several replicas run controllers with APP_RUNTIME=coolify).
    const replica: RunningSystem = await startSystem({ env: { ...t.env, CONTROLLERS: "off" } })
    try {
      const onReplica = `${replica.url}/mcp`
      const sessionId = await openSession(onReplica, carol.key)
      assert.equal((await listTools(onReplica, carol.key, sessionId)).status, 200, "the key is verified and cached on the replica")
      const revoked = await t.system.runtime.runPromise(ApiKeyStore.use((keys) => keys.revoke(carol.prefix)).pipe(Effect.provide(ApiKeyStore.layer)))
      assert.ok(Option.isSome(revoked))
      const refused = await waitFor(async () => {
        const response = await rawPost(onReplica, initializeRequest, { authorization: `Bearer ${carol.key}` })
        return response.status === 401 && response
      }, { what: "the replica to refuse the revoked key", timeoutMs: 10_000 })
      assert.match((await jsonRpcError(refused)).error.message, /Invalid or revoked API key/)
      assert.equal((await rawPost(t.mcpUrl, initializeRequest, { authorization: `Bearer ${carol.key}` })).status, 401)
    } finally {
      await replica.stop()
    }
  })

  test("DNS rebinding: a foreign Host is refused; Origins must be loopback, PUBLIC_URL or ALLOWED_ORIGINS", async () => {
    const body = JSON.stringify(initializeRequest)
    const headers = { "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${alice.key}` }
    const rebinding = await request(t.mcpUrl, { headers: { ...headers, host: "attacker.example:8081" }, body })
    assert.equal(rebinding.status, 403)
    assert.match(JSON.parse(rebinding.body).error.message, /Host 'attacker\.example:8081' is not allowed \(DNS rebinding protection\)/)

    const foreign = await rawPost(t.mcpUrl, initializeRequest, { authorization: `Bearer ${alice.key}`, origin: "https://evil.example" })
    assert.equal(foreign.status, 403)
    assert.match((await jsonRpcError(foreign)).error.message, /Origin 'https:\/\/evil\.example' is not allowed\. Operators: add it to ALLOWED_ORIGINS/)

    for (const origin of ["http://localhost:6274", "https://claude.example"]) {
      const allowed = await rawPost(t.mcpUrl, initializeRequest, { authorization: `Bearer ${alice.key}`, origin })
      assert.equal(allowed.status, 200, origin)
      assert.equal(allowed.headers.get("access-control-allow-origin"), origin)
      assert.match(allowed.headers.get("access-control-expose-headers") ?? "", /mcp-session-id/)
      await allowed.body?.cancel()
    }
    const preflight = await fetch(t.mcpUrl, { method: "OPTIONS", headers: { origin: "https://claude.example", "access-control-request-method": "POST" } })
    assert.equal(preflight.status, 204)
    assert.match(preflight.headers.get("access-control-allow-headers") ?? "", /authorization/)
  })

  test("sessions: bound to the key that opened them, GET opens the SSE stream, DELETE ends them", async () => {
    const sessionId = await openSession(t.mcpUrl, alice.key)
    assert.equal((await listTools(t.mcpUrl, alice.key, sessionId)).status, 200)

    const hijack = await listTools(t.mcpUrl, bob.key, sessionId)
    assert.equal(hijack.status, 404, "another key cannot use the session (nor learn it exists)")
    assert.match((await jsonRpcError(hijack)).error.message, /^Session not found/)

    const controller = new AbortController()
    const stream = await fetch(t.mcpUrl, {
      method: "GET",
      headers: { authorization: `Bearer ${alice.key}`, "mcp-session-id": sessionId, accept: "text/event-stream", "mcp-protocol-version": "2025-06-18" },
      signal: controller.signal
    })
    assert.equal(stream.status, 200)
    assert.match(stream.headers.get("content-type") ?? "", /text\/event-stream/)
    controller.abort()

    const ended = await fetch(t.mcpUrl, { method: "DELETE", headers: { authorization: `Bearer ${alice.key}`, "mcp-session-id": sessionId, "mcp-protocol-version": "2025-06-18" } })
    assert.equal(ended.status, 200)
    assert.equal((await listTools(t.mcpUrl, alice.key, sessionId)).status, 404)
  })

  test("malformed requests: 4xx JSON-RPC errors with messages", async () => {
    const auth = { authorization: `Bearer ${alice.key}` }
    const garbage = await rawPost(t.mcpUrl, "{not json", auth)
    assert.equal(garbage.status, 400)
    const parsed = await jsonRpcError(garbage)
    assert.equal(parsed.error.code, -32700)
    assert.match(parsed.error.message, /^Parse error/)

    const noSession = await rawPost(t.mcpUrl, { jsonrpc: "2.0", id: 1, method: "tools/list" }, auth)
    assert.equal(noSession.status, 400)
    assert.match((await jsonRpcError(noSession)).error.message, /start with an initialize request/)

    const noSessionGet = await fetch(t.mcpUrl, { headers: { ...auth, accept: "text/event-stream" } })
    assert.equal(noSessionGet.status, 400)

    const sessionId = await openSession(t.mcpUrl, alice.key)
    const notJsonRpc = await rawPost(t.mcpUrl, { hello: "world" }, { ...auth, "mcp-session-id": sessionId })
    assert.ok(notJsonRpc.status >= 400 && notJsonRpc.status < 500, `status ${notJsonRpc.status}`)

    const huge = await rawPost(t.mcpUrl, { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "whoami", arguments: { pad: "x".repeat(2 * 1024 * 1024) } } }, { ...auth, "mcp-session-id": sessionId })
    assert.equal(huge.status, 413)
    assert.ok((await jsonRpcError(huge)).error.message)
  })

  test("an unexpected failure is an isError result quoting a correlation id that the log has, with no internals", async () => {
    const client = await t.connect(alice.key)
    await t.db.pool.query("ALTER TABLE objects RENAME TO objects_away")
    let text: string
    try {
      const result = await client.callTool({ name: "list_apps", arguments: {} })
      assert.equal(result.isError, true)
      text = textOf(result)
    } finally {
      await t.db.pool.query("ALTER TABLE objects_away RENAME TO objects")
    }
    const id = /correlation id ([0-9a-f-]{36})/.exec(text)?.[1]
    assert.ok(id, text)
    assert.doesNotMatch(text, /objects_away|does not exist|\n\s+at /, `no database error or stack in the result: ${text}`)
    const logged = logLines.map((line) => JSON.parse(line) as { correlationId?: string; tool?: string; cause?: string }).find((entry) => entry.correlationId === id)
    assert.equal(logged?.tool, "list_apps")
    assert.match(logged?.cause ?? "", /objects/, "the log has the real cause")
  })

  test("revoking a key ends its open sessions", async () => {
    const dave = await t.createUser("dave")
    const client = await t.connect(dave.key)
    assert.notEqual((await client.callTool({ name: "whoami", arguments: {} })).isError, true)
    await t.system.runtime.runPromise(ApiKeyStore.use((keys) => keys.revoke(dave.prefix)).pipe(Effect.provide(ApiKeyStore.layer)))
    await waitFor(async () => {
      // A call in flight when the session is closed gets no answer: bound it, then try again.
      const outcome = await client.callTool({ name: "whoami", arguments: {} }, undefined, { timeout: 2_000 }).then(
        (result) => textOf(result),
        (error: unknown) => error
      )
      return outcome instanceof StreamableHTTPError && (outcome.code === 401 || outcome.code === 404)
    }, { what: "the revoked key's session to be refused" })
  })
})

describe("/mcp rate limit", () => {
  let limited: McpTestSystem
  before(async () => {
    limited = await startMcpSystem({ env: { MCP_RATE_LIMIT_PER_MINUTE: "4" } })
  })
  after(async () => {
    await limited?.stop()
  })

  test("a key over its token bucket gets 429 with Retry-After; other keys are unaffected", async () => {
    const eve = await limited.createUser("eve")
    const frank = await limited.createUser("frank")
    const sessionId = await openSession(limited.mcpUrl, eve.key)
    for (let i = 0; i < 3; i++) assert.equal((await listTools(limited.mcpUrl, eve.key, sessionId)).status, 200)
    const refused = await listTools(limited.mcpUrl, eve.key, sessionId)
    assert.equal(refused.status, 429)
    assert.ok(Number(refused.headers.get("retry-after")) >= 1)
    assert.match((await jsonRpcError(refused)).error.message, /^Rate limit of 4 requests per minute for key dk_live_\w{8} reached; retry after \d+ s\.$/)
    assert.equal((await rawPost(limited.mcpUrl, initializeRequest, { authorization: `Bearer ${frank.key}` })).status, 200)
  })
})
