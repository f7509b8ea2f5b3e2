/** What each reporter turns into: Coolify client events, provider request spans, engine hooks. */
import assert from "node:assert/strict"
import { test } from "node:test"
import { Exit } from "effect"
import { parseScrape } from "../../e2e/operator/prometheus.ts"
import { makeMetrics } from "./metrics.ts"
import { countProviderSpans, providerCallOf } from "./provider-spans.ts"

const read = async (metrics: ReturnType<typeof makeMetrics>) => parseScrape(await metrics.registry.metrics())

test("Coolify client events become provider calls, retries and rate-limit waits", async () => {
  const metrics = makeMetrics({ defaultMetrics: false })
  metrics.coolifyEvent({ _tag: "Response", endpoint: "GET /applications", status: 200, durationMs: 12 })
  metrics.coolifyEvent({ _tag: "Response", endpoint: "POST /deploy", status: 429, durationMs: 3 })
  metrics.coolifyEvent({ _tag: "NoResponse", endpoint: "POST /deploy", reason: "timeout", durationMs: 15_000 })
  metrics.coolifyEvent({ _tag: "Retry", endpoint: "POST /deploy", attempt: 1, delayMs: 1000, reason: "CoolifyRateLimited" })
  metrics.coolifyEvent({ _tag: "RateLimitWait", endpoint: "POST /deploy", waitedMs: 1500, cause: "retry-after" })
  metrics.coolifyEvent({ _tag: "RateLimitWait", endpoint: "GET /applications", waitedMs: 500, cause: "pacing" })
  const scraped = await read(metrics)
  assert.equal(scraped.value("deploy_provider_requests_total", { provider: "coolify", endpoint: "GET /applications", status: "200" }), 1)
  assert.equal(scraped.value("deploy_provider_requests_total", { provider: "coolify", endpoint: "POST /deploy", status: "429" }), 1)
  assert.equal(scraped.value("deploy_provider_requests_total", { provider: "coolify", endpoint: "POST /deploy", status: "timeout" }), 1)
  assert.equal(scraped.value("deploy_provider_request_duration_seconds_sum", { provider: "coolify", endpoint: "POST /deploy" }), 15.003)
  assert.equal(scraped.value("deploy_provider_retries_total", { provider: "coolify", endpoint: "POST /deploy", reason: "CoolifyRateLimited" }), 1)
  assert.equal(scraped.value("deploy_provider_rate_limit_wait_seconds_total", { provider: "coolify", cause: "retry-after" }), 1.5)
  assert.equal(scraped.value("deploy_provider_rate_limit_waits_total", { provider: "coolify", cause: "pacing" }), 1)
})

test("Turso and GitHub request spans count as provider calls; the methods wrapping them do not", async () => {
  assert.deepEqual(providerCallOf("TursoApi.createDatabase"), { provider: "turso", endpoint: "createDatabase" })
  assert.deepEqual(providerCallOf("GitHubApi.repos/get"), { provider: "github", endpoint: "repos/get" })
  assert.equal(providerCallOf("GitHubApi.exchangeOAuthCode"), undefined)
  assert.equal(providerCallOf("TursoDatabaseProvider.create"), undefined)
  const metrics = makeMetrics({ defaultMetrics: false })
  const count = countProviderSpans(metrics)
  count({ name: "TursoApi.createDatabase", exit: Exit.void, seconds: 0.2 })
  count({ name: "GitHubApi.repos/get", exit: Exit.fail({ _tag: "GitHubNotFound", message: "no" }), seconds: 0.1 })
  count({ name: "reconcile App", exit: Exit.void, seconds: 1 })
  const scraped = await read(metrics)
  assert.equal(scraped.value("deploy_provider_requests_total", { provider: "turso", endpoint: "createDatabase", status: "ok" }), 1)
  assert.equal(scraped.value("deploy_provider_requests_total", { provider: "github", endpoint: "repos/get", status: "GitHubNotFound" }), 1)
  assert.equal(scraped.samples.filter((sample) => sample.name === "deploy_provider_requests_total").length, 2)
})

test("engine hooks and tool calls are counted with their outcome", async () => {
  const metrics = makeMetrics({ defaultMetrics: false })
  metrics.engine.reconciled("App", "done", 0.5)
  metrics.engine.reconciled("App", "error", 0.1)
  metrics.engine.backoff("App", 3)
  metrics.recordToolCall("create_app", "tool_error", 0.01)
  metrics.recordHttpRequest("POST", "/mcp", 200, 0.02)
  const scraped = await read(metrics)
  assert.equal(scraped.value("deploy_reconcile_total", { kind: "App", outcome: "error" }), 1)
  assert.equal(scraped.value("deploy_reconcile_duration_seconds_count", { kind: "App", outcome: "done" }), 1)
  assert.equal(scraped.value("deploy_reconcile_backoff_attempt_bucket", { kind: "App", le: "2" }), 0)
  assert.equal(scraped.value("deploy_reconcile_backoff_attempt_bucket", { kind: "App", le: "3" }), 1)
  assert.equal(scraped.value("deploy_mcp_tool_calls_total", { tool: "create_app", outcome: "tool_error" }), 1)
  assert.equal(scraped.value("deploy_http_requests_total", { method: "POST", route: "/mcp", status: "200" }), 1)
})
