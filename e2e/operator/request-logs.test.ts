/**
 * What the HTTP server logs per request, read from the real log stream of a running system: the
 * method, URL (query credentials redacted), status and duration of every request, and refused MCP
 * callers (bad keys, rate limits) at info with the key's public prefix only.
 */
import assert from "node:assert/strict"
import { request } from "node:http"
import { after, before, describe, test } from "node:test"
import { initializeRequest, rawPost, startMcpSystem, type McpTestSystem, type TestUser } from "../mcp/support.ts"
import { waitFor } from "../support/wait.ts"

interface LogLine {
  readonly msg: string
  readonly level: number
  readonly reqId?: string
  readonly req?: { readonly method?: string; readonly url?: string; readonly remoteAddress?: string }
  readonly res?: { readonly statusCode?: number; readonly method?: string; readonly url?: string }
  readonly responseTime?: number
  readonly [field: string]: unknown
}

const INFO = 30
const raw: Array<string> = []
const lines = (): Array<LogLine> => raw.map((line) => JSON.parse(line) as LogLine)

let t: McpTestSystem
let alice: TestUser

/** The log lines of the one request whose "incoming request" line has this URL. */
const linesOfRequest = (url: string) => {
  const incoming = lines().find((line) => line.msg === "incoming request" && line.req?.url === url)
  return incoming ? lines().filter((line) => line.reqId === incoming.reqId) : []
}

describe("request logs", () => {
  before(async () => {
    t = await startMcpSystem({
      env: { LOG_LEVEL: "info", MCP_RATE_LIMIT_PER_MINUTE: "2" },
      logDestination: { write: (line: string) => void raw.push(line) }
    })
    alice = await t.createUser("alice")
  })
  after(async () => {
    await t?.stop()
  })

  test("every request logs method and URL, and its completion the status and duration; query credentials are redacted", async () => {
    const response = await fetch(`${t.system.url}/healthz?token=query-secret-1234&code=oauth-code-5678&verbose=1`)
    assert.equal(response.status, 200)
    await response.body?.cancel()
    const redactedUrl = "/healthz?token=[redacted]&code=[redacted]&verbose=1"
    const ofRequest = await waitFor(() => {
      const found = linesOfRequest(redactedUrl)
      return found.some((line) => line.msg === "request completed") ? found : undefined
    })
    const incoming = ofRequest.find((line) => line.msg === "incoming request")
    assert.equal(incoming?.req?.method, "GET")
    assert.equal(incoming?.req?.remoteAddress, "127.0.0.1")
    const completed = ofRequest.find((line) => line.msg === "request completed")
    assert.deepEqual(completed?.res, { statusCode: 200, method: "GET", url: redactedUrl })
    assert.equal(typeof completed?.responseTime, "number")
    const text = raw.join("")
    assert.ok(!text.includes("query-secret-1234") && !text.includes("oauth-code-5678"), "query credentials never reach the log")
  })

  test("a refused API key is logged at info with its prefix, address and path — never the key", async () => {
    const wrongKey = `dk_live_Wr0ngKey${"x".repeat(32)}`
    const response = await rawPost(`${t.mcpUrl}?session=1`, initializeRequest, { authorization: `Bearer ${wrongKey}` })
    assert.equal(response.status, 401)
    await response.body?.cancel()
    const refused = await waitFor(() => lines().find((line) => line.msg === "MCP request refused" && line["keyPrefix"] === "dk_live_Wr0ngKey"))
    assert.equal(refused.level, INFO)
    assert.equal(refused["reason"], "invalid or revoked API key")
    assert.equal(refused["statusCode"], 401)
    assert.equal(refused["ip"], "127.0.0.1")
    assert.equal(refused["path"], "/mcp")
    const completed = await waitFor(() => lines().find((line) => line.reqId === refused.reqId && line.msg === "request completed"))
    assert.equal(completed.res?.statusCode, 401)
    assert.equal(completed.res?.method, "POST")

    const notAKey = "ghp_someOtherSecretTokenValue123"
    const malformed = await rawPost(t.mcpUrl, initializeRequest, { authorization: `Bearer ${notAKey}` })
    assert.equal(malformed.status, 401)
    await malformed.body?.cancel()
    const refusedMalformed = await waitFor(() => lines().find((line) => line.msg === "MCP request refused" && line["reason"] === "malformed API key"))
    assert.equal(refusedMalformed["keyPrefix"], undefined, "something that is not a key has no prefix to show")

    const text = raw.join("")
    assert.ok(!text.includes(wrongKey), "the presented key never reaches the log")
    assert.ok(!text.includes(notAKey), "nor does anything else sent as one")
    assert.ok(!text.includes(alice.key), "nor a real key")
  })

  test("a rate-limited key is logged at info with a 429", async () => {
    const statuses: Array<number> = []
    for (let attempt = 0; attempt < 3; attempt++) {
      const response = await rawPost(t.mcpUrl, initializeRequest, { authorization: `Bearer ${alice.key}` })
      statuses.push(response.status)
      await response.body?.cancel()
    }
    assert.equal(statuses.at(-1), 429, `statuses: ${statuses.join(", ")}`)
    const limited = await waitFor(() => lines().find((line) => line.msg === "MCP request refused" && line["statusCode"] === 429))
    assert.equal(limited.level, INFO)
    assert.equal(limited["keyPrefix"], alice.prefix)
    assert.equal(limited["userId"], alice.user.id)
    assert.ok(!raw.join("").includes(alice.key), "the key itself is never logged")
    const completed = await waitFor(() => lines().find((line) => line.reqId === limited.reqId && line.msg === "request completed"))
    assert.equal(completed.res?.statusCode, 429)
  })

  test("apps' own traffic through the router is not logged per request; the server's own requests still are", async () => {
    const server = new URL(t.system.url)
    const probe = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: server.hostname, port: server.port, path: "/app-traffic-probe", headers: { host: "no-such-app.localhost" }, agent: false }, (res) => {
        let body = ""
        res.setEncoding("utf8")
        res.on("data", (chunk: string) => (body += chunk))
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }))
      })
      req.on("error", reject)
      req.end()
    })
    assert.equal(probe.status, 404)
    assert.match(probe.body, /no-such-app\.localhost/, "the router answered it")
    // A request to the server itself, after the probe: once its completion is logged, the probe's would be too.
    const marker = "/healthz?after=app-traffic-probe"
    await (await fetch(`${t.system.url}${marker}`)).body?.cancel()
    await waitFor(() => linesOfRequest(marker).some((line) => line.msg === "request completed") || undefined)
    assert.deepEqual(lines().filter((line) => line.req?.url === "/app-traffic-probe" || line.res?.url === "/app-traffic-probe"), [])
  })
})
