/**
 * Metrics and tracing of the real server (startSystem) with the Coolify and Turso fakes behind it:
 * an MCP client calls tools; a test App controller calls Coolify; the built-in Resource controller
 * calls Turso. Then the trace is checked as a tree with one trace id from the MCP request to the
 * Coolify call (InMemorySpanExporter), and /metrics is scraped and parsed.
 */
import assert from "node:assert/strict"
import { randomBytes } from "node:crypto"
import { after, before, describe, test } from "node:test"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace-node"
import { Effect } from "effect"
import { writeStatus } from "../../controllers/engine/conditions.ts"
import type { AnyController } from "../../controllers/engine/controller.ts"
import { Done } from "../../controllers/engine/result.ts"
import { CoolifyApi } from "../../src/providers/coolify/index.ts"
import type { Platform } from "../../src/system/platform.ts"
import { startCoolifyFake } from "../fakes/coolify/index.ts"
import { startTursoFake } from "../fakes/turso/index.ts"
import { startMcpSystem, type McpTestSystem } from "../mcp/support.ts"
import { waitFor } from "../support/wait.ts"
import { scrape } from "./prometheus.ts"

const METRICS_TOKEN = "metrics-token-for-tests"
const exporter = new InMemorySpanExporter()
let coolify: Awaited<ReturnType<typeof startCoolifyFake>>
let turso: Awaited<ReturnType<typeof startTursoFake>>
let mcp: McpTestSystem
let client: Client
/** The caller's trace: the MCP client sends it as traceparent on every request. */
const traceId = randomBytes(16).toString("hex")
const callerSpanId = randomBytes(8).toString("hex")

/**
 * Stands in for the App controller: observes Coolify (one list call), and for the app named
 * "broken" asks Coolify for an application that does not exist, which fails the reconcile.
 */
const coolifyCallingController = (): AnyController<Platform> => ({
  kind: "App",
  reconcile: (object) =>
    Effect.gen(function*() {
      const api = yield* CoolifyApi
      yield* api.listApplications()
      if (object.metadata.name === "broken") yield* api.getApplication("no-such-application")
      yield* writeStatus(object, (status) => status, { conditions: [{ type: "Ready", status: "True", reason: "Deployed", message: "Serving." }] })
      return Done
    }).pipe(Effect.provide(CoolifyApi.layer({ url: coolify.url, token: coolify.token, retries: 1 })))
})

before(async () => {
  coolify = await startCoolifyFake()
  turso = await startTursoFake({ org: "acme" })
  mcp = await startMcpSystem({
    env: { METRICS_TOKEN, TURSO_API_URL: turso.url, TURSO_ORG: "acme", TURSO_API_TOKEN: turso.token },
    controllers: [coolifyCallingController()],
    traceExporter: exporter
  })
  const alice = await mcp.createUser("alice")
  client = new Client({ name: "observability-e2e", version: "1.0.0" })
  await client.connect(
    new StreamableHTTPClientTransport(new URL(mcp.mcpUrl), {
      requestInit: { headers: { Authorization: `Bearer ${alice.key}`, traceparent: `00-${traceId}-${callerSpanId}-01` } }
    })
  )
})

after(async () => {
  await client.close().catch(() => undefined)
  await mcp.stop()
  await coolify.close()
  await turso.close()
})

const ended = () => exporter.getFinishedSpans()
const parentOf = (span: ReadableSpan, spans: ReadonlyArray<ReadableSpan>) =>
  spans.find((candidate) => candidate.spanContext().spanId === span.parentSpanContext?.spanId)

/** Names from `span` up to the root, and the id of the parent the root names (a remote caller). */
const ancestry = (span: ReadableSpan, spans: ReadonlyArray<ReadableSpan>) => {
  const names: Array<string> = []
  let current: ReadableSpan | undefined = span
  let remoteParent: string | undefined
  while (current) {
    names.push(current.name)
    const parent = parentOf(current, spans)
    if (!parent) remoteParent = current.parentSpanContext?.spanId
    current = parent
  }
  return { names, remoteParent }
}

const isSubsequence = (wanted: ReadonlyArray<string>, names: ReadonlyArray<string>) => {
  let index = 0
  for (const name of names) if (name === wanted[index]) index++
  return index === wanted.length
}

describe("tracing", () => {
  test("one trace from the MCP request through the transaction, enqueue and reconcile to the Coolify call", async () => {
    // The first Coolify call meets a 429 and is retried after Retry-After: one span, two attempts.
    coolify.faults.rateLimitBurst({ count: 1, retryAfterSeconds: 1, endpoint: "GET /applications" })
    const created = await client.callTool({ name: "create_app", arguments: { name: "traced", repo: "alice/traced" } })
    assert.notEqual(created.isError, true, JSON.stringify(created.content))

    // Spans are exported as they end, children first: wait for the HTTP request's span (it ends
    // when the tool answers) and the reconcile's (it ends after its Coolify call).
    const inTrace = (name: string) => ended().find((span) => span.name === name && span.spanContext().traceId === traceId)
    await waitFor(() => inTrace("reconcile App") && inTrace("POST /mcp"), { what: "the reconcile and request spans in the caller's trace" })
    const spans = ended()
    const coolifyCall = spans.find((span) => span.name === "CoolifyApi GET /applications" && span.spanContext().traceId === traceId)
    assert.ok(coolifyCall, "the Coolify call is in the caller's trace")
    const { names, remoteParent } = ancestry(coolifyCall, spans)
    assert.ok(
      isSubsequence(["CoolifyApi GET /applications", "reconcile App", "enqueue App", "db.transaction", "mcp.tool create_app", "POST /mcp"], names),
      `unexpected ancestry: ${names.join(" ← ")}`
    )
    assert.equal(names.at(-1), "POST /mcp")
    assert.equal(remoteParent, callerSpanId, "the HTTP span continues the caller's traceparent")
    const chain = spans.filter((span) => names.includes(span.name) && span.spanContext().traceId === traceId)
    assert.ok(chain.length >= names.length)

    const reconcile = spans.find((span) => span.name === "reconcile App" && span.spanContext().traceId === traceId)
    assert.equal(reconcile?.attributes["deploy.kind"], "App")
    const tool = spans.find((span) => span.name === "mcp.tool create_app")
    assert.equal(tool?.attributes["mcp.tool.outcome"], "ok")
    const http = spans.find((span) => span.name === "POST /mcp" && span.spanContext().traceId === traceId)
    assert.equal(http?.attributes["http.route"], "/mcp")
  })

  test("a reconcile that fails records the provider's typed error on its span", async () => {
    const broken = await client.callTool({ name: "create_app", arguments: { name: "broken", repo: "alice/broken" } })
    assert.notEqual(broken.isError, true)
    const failed = await waitFor(() => ended().find((span) => span.name === "reconcile App" && span.status.code === 2), { what: "a failed reconcile span" })
    assert.match(failed.status.message ?? "", /^CoolifyNotFound: /)
    const notFound = ended().find((span) => span.name === "CoolifyApi GET /applications/{uuid}" && parentOf(span, ended()) === failed)
    assert.ok(notFound, "the failing Coolify call is a child of the reconcile")
  })
})

describe("/metrics", () => {
  test("refuses scrapers without the METRICS_TOKEN", async () => {
    const anonymous = await fetch(`${mcp.system.url}/metrics`)
    assert.equal(anonymous.status, 401)
    assert.match(anonymous.headers.get("www-authenticate") ?? "", /^Bearer/)
    const wrong = await fetch(`${mcp.system.url}/metrics`, { headers: { authorization: "Bearer nope" } })
    assert.equal(wrong.status, 401)
  })

  test("counts HTTP by route, tool calls by outcome, reconciles, provider calls, rate-limit waits, queues and objects", async () => {
    const invalid = await client.callTool({ name: "create_app", arguments: { name: "Not A Name!", repo: "alice/x" } })
    assert.equal(invalid.isError, true)
    const resource = await client.callTool({ name: "create_resource", arguments: { name: "db1" } })
    assert.notEqual(resource.isError, true, JSON.stringify(resource.content))
    assert.equal((await fetch(`${mcp.system.url}/no/such/route`)).status, 404)

    // The failing app keeps its key in backoff: wait until the queue shows it deferred, and until
    // the resource's Turso calls are done.
    const metrics = await waitFor(
      async () => {
        const scraped = await scrape(mcp.system.url, METRICS_TOKEN)
        return scraped.value("deploy_queue_depth", { queue: "reconcile-app", state: "deferred" }) >= 1 &&
            scraped.value("deploy_objects", { kind: "Resource", ready: "True" }) === 1
          ? scraped
          : undefined
      },
      { what: "the broken app in backoff and the resource Ready" }
    )

    assert.ok(metrics.value("deploy_http_requests_total", { method: "POST", route: "/mcp", status: "200" }) >= 3)
    assert.equal(metrics.value("deploy_http_requests_total", { method: "GET", route: "unmatched", status: "404" }), 1)
    assert.ok(metrics.value("deploy_http_request_duration_seconds_count", { method: "POST", route: "/mcp" }) >= 3)

    assert.equal(metrics.value("deploy_mcp_tool_calls_total", { tool: "create_app", outcome: "ok" }), 2)
    assert.equal(metrics.value("deploy_mcp_tool_calls_total", { tool: "create_app", outcome: "tool_error" }), 1)
    assert.equal(metrics.value("deploy_mcp_tool_calls_total", { tool: "create_resource", outcome: "ok" }), 1)

    assert.ok(metrics.value("deploy_reconcile_total", { kind: "App", outcome: "done" }) >= 1)
    assert.ok(metrics.value("deploy_reconcile_total", { kind: "App", outcome: "error" }) >= 1)
    assert.ok(metrics.value("deploy_reconcile_total", { kind: "Resource", outcome: "done" }) >= 1)
    assert.ok(metrics.value("deploy_reconcile_duration_seconds_count", { kind: "App", outcome: "done" }) >= 1)
    assert.ok(metrics.value("deploy_reconcile_backoff_attempt_count", { kind: "App" }) >= 1)

    assert.ok(metrics.value("deploy_provider_requests_total", { provider: "coolify", endpoint: "GET /applications", status: "200" }) >= 2)
    assert.equal(metrics.value("deploy_provider_requests_total", { provider: "coolify", endpoint: "GET /applications", status: "429" }), 1)
    assert.ok(metrics.value("deploy_provider_requests_total", { provider: "coolify", endpoint: "GET /applications/{uuid}", status: "404" }) >= 1)
    assert.equal(metrics.value("deploy_provider_rate_limit_waits_total", { provider: "coolify", cause: "retry-after" }), 1)
    assert.ok(metrics.value("deploy_provider_rate_limit_wait_seconds_total", { provider: "coolify", cause: "retry-after" }) >= 1)
    assert.ok(metrics.value("deploy_provider_requests_total", { provider: "turso", endpoint: "createDatabase", status: "ok" }) >= 1)

    assert.equal(metrics.value("deploy_objects", { kind: "App", ready: "True" }), 1, "traced is Ready; broken never gets there")
    assert.equal(metrics.value("deploy_objects", { kind: "App", ready: "Unknown" }), 1)
    assert.equal(metrics.value("deploy_objects", { kind: "Host", ready: "True" }), 0)
    assert.ok(metrics.has("deploy_queue_oldest_job_age_seconds", { queue: "reconcile-app" }))
    assert.ok(metrics.value("deploy_queue_oldest_job_age_seconds", { queue: "reconcile-app" }) >= 0)
    assert.equal(metrics.types.get("deploy_http_request_duration_seconds"), "histogram")
    assert.ok(metrics.has("deploy_process_cpu_user_seconds_total"), "default process metrics")
  })
})
