/**
 * Prometheus metrics of one running system (prom-client, one Registry per system so several
 * systems in one test process never mix their numbers).
 *
 * Who reports what:
 * - HTTP requests: Fastify hooks (src/server/routes/metrics.ts), labelled by route template.
 * - MCP tool calls: the tool dispatcher calls `recordToolCall` (or the Effect of the same name).
 * - Reconciles and backoffs: the engine's EngineMetrics hooks (`metrics.engine`).
 * - Provider calls and rate-limit waits: the Coolify client's onEvent (`coolifyEvent`); Turso and
 *   GitHub calls from their request spans (src/observability/tracing.ts), which every call passes.
 * - Queue depth, oldest job age and objects by kind/Ready: read from PostgreSQL at scrape time
 *   (state-gauges.ts), so every replica reports the shared truth.
 *
 * `Metrics` is a Context.Reference whose default discards everything: code can always report,
 * and only a system that provides a real instance (src/system/boot.ts) keeps the numbers.
 */
import { Context, Effect } from "effect"
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client"
import type { EngineMetrics } from "../../controllers/engine/metrics.ts"
import type { CoolifyClientEvent } from "../providers/coolify/events.ts"

/** How a tool call ended: a result, an isError result the agent can act on, or our failure. */
export type ToolCallOutcome = "ok" | "tool_error" | "internal_error" | "cancelled"

export interface MetricsService {
  readonly registry: Registry
  readonly engine: EngineMetrics
  recordHttpRequest(method: string, route: string, status: number, seconds: number): void
  recordToolCall(tool: string, outcome: ToolCallOutcome, seconds: number): void
  /** One provider call; `status` is the HTTP status, or what happened instead (timeout, an error tag). */
  recordProviderCall(provider: string, endpoint: string, status: string, seconds: number): void
  recordProviderRetry(provider: string, endpoint: string, reason: string): void
  recordRateLimitWait(provider: string, cause: string, seconds: number): void
  /** The Coolify client's onEvent hook. */
  coolifyEvent(event: CoolifyClientEvent): void
  /** Gauges filled at scrape time (state-gauges.ts). */
  readonly state: {
    readonly queueDepth: Gauge<"queue" | "state">
    readonly queueOldestJobAge: Gauge<"queue">
    readonly objects: Gauge<"kind" | "ready">
  }
}

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

export const makeMetrics = (options: { readonly defaultMetrics?: boolean } = {}): MetricsService => {
  const registry = new Registry()
  const registers = [registry]
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: "deploy_" })

  const httpRequests = new Counter({
    name: "deploy_http_requests_total",
    help: "HTTP requests served, by method, route template and status code.",
    labelNames: ["method", "route", "status"] as const,
    registers
  })
  const httpDuration = new Histogram({
    name: "deploy_http_request_duration_seconds",
    help: "Time to answer an HTTP request, by method and route template.",
    labelNames: ["method", "route"] as const,
    buckets: DURATION_BUCKETS,
    registers
  })
  const toolCalls = new Counter({
    name: "deploy_mcp_tool_calls_total",
    help: "MCP tool calls, by tool and outcome (ok, tool_error, internal_error, cancelled).",
    labelNames: ["tool", "outcome"] as const,
    registers
  })
  const toolDuration = new Histogram({
    name: "deploy_mcp_tool_call_duration_seconds",
    help: "Time an MCP tool call took, by tool and outcome.",
    labelNames: ["tool", "outcome"] as const,
    buckets: DURATION_BUCKETS,
    registers
  })
  const reconciles = new Counter({
    name: "deploy_reconcile_total",
    help: "Reconciles run, by kind and outcome (done, requeue, conflict, error, finalized, missing); errors are outcome=\"error\".",
    labelNames: ["kind", "outcome"] as const,
    registers
  })
  const reconcileDuration = new Histogram({
    name: "deploy_reconcile_duration_seconds",
    help: "Time one reconcile took, by kind and outcome.",
    labelNames: ["kind", "outcome"] as const,
    buckets: DURATION_BUCKETS,
    registers
  })
  const backoffs = new Histogram({
    name: "deploy_reconcile_backoff_attempt",
    help: "Failed reconciles put into backoff, by kind; the value is the retry attempt (its delay grows exponentially).",
    labelNames: ["kind"] as const,
    buckets: [1, 2, 3, 5, 8, 13, 21],
    registers
  })
  const providerCalls = new Counter({
    name: "deploy_provider_requests_total",
    help: "Calls to providers, by provider, endpoint and status (HTTP status, or what happened instead).",
    labelNames: ["provider", "endpoint", "status"] as const,
    registers
  })
  const providerDuration = new Histogram({
    name: "deploy_provider_request_duration_seconds",
    help: "Time a provider call took, by provider and endpoint.",
    labelNames: ["provider", "endpoint"] as const,
    buckets: DURATION_BUCKETS,
    registers
  })
  const providerRetries = new Counter({
    name: "deploy_provider_retries_total",
    help: "Provider calls repeated after a failure, by provider, endpoint and reason.",
    labelNames: ["provider", "endpoint", "reason"] as const,
    registers
  })
  const rateLimitWaits = new Counter({
    name: "deploy_provider_rate_limit_waits_total",
    help: "Times a provider call was held back: by our own pacing or the provider's Retry-After.",
    labelNames: ["provider", "cause"] as const,
    registers
  })
  const rateLimitSeconds = new Counter({
    name: "deploy_provider_rate_limit_wait_seconds_total",
    help: "Seconds provider calls spent held back by rate limits.",
    labelNames: ["provider", "cause"] as const,
    registers
  })
  const state = {
    queueDepth: new Gauge({
      name: "deploy_queue_depth",
      help: "Jobs in each reconcile queue by state: queued (due now), deferred (requeue/backoff), active.",
      labelNames: ["queue", "state"] as const,
      registers
    }),
    queueOldestJobAge: new Gauge({
      name: "deploy_queue_oldest_job_age_seconds",
      help: "How long the oldest due job of each queue has been waiting (0 when none waits).",
      labelNames: ["queue"] as const,
      registers
    }),
    objects: new Gauge({
      name: "deploy_objects",
      help: "Objects by kind and status of their Ready condition (True, False, Unknown).",
      labelNames: ["kind", "ready"] as const,
      registers
    })
  }

  const recordProviderCall = (provider: string, endpoint: string, status: string, seconds: number) => {
    providerCalls.inc({ provider, endpoint, status })
    providerDuration.observe({ provider, endpoint }, seconds)
  }
  const recordProviderRetry = (provider: string, endpoint: string, reason: string) => providerRetries.inc({ provider, endpoint, reason })
  const recordRateLimitWait = (provider: string, cause: string, seconds: number) => {
    rateLimitWaits.inc({ provider, cause })
    rateLimitSeconds.inc({ provider, cause }, seconds)
  }

  return {
    registry,
    engine: {
      reconciled: (kind, outcome, seconds) => {
        reconciles.inc({ kind, outcome })
        reconcileDuration.observe({ kind, outcome }, seconds)
      },
      backoff: (kind, attempt) => backoffs.observe({ kind }, attempt)
    },
    recordHttpRequest: (method, route, status, seconds) => {
      httpRequests.inc({ method, route, status: String(status) })
      httpDuration.observe({ method, route }, seconds)
    },
    recordToolCall: (tool, outcome, seconds) => {
      toolCalls.inc({ tool, outcome })
      toolDuration.observe({ tool, outcome }, seconds)
    },
    recordProviderCall,
    recordProviderRetry,
    recordRateLimitWait,
    coolifyEvent: (event) => {
      switch (event._tag) {
        case "Response":
          return recordProviderCall("coolify", event.endpoint, String(event.status), event.durationMs / 1000)
        case "NoResponse":
          return recordProviderCall("coolify", event.endpoint, event.reason, event.durationMs / 1000)
        case "Retry":
          return recordProviderRetry("coolify", event.endpoint, event.reason)
        case "RateLimitWait":
          return recordRateLimitWait("coolify", event.cause, event.waitedMs / 1000)
      }
    },
    state
  }
}

const discard = (): MetricsService => {
  const nothing = () => {}
  // A registry nobody scrapes; the gauges exist so scrape-time code needs no special case.
  const registry = new Registry()
  const gauge = <L extends string>(name: string, labelNames: ReadonlyArray<L>) => new Gauge<L>({ name, help: name, labelNames, registers: [registry] })
  return {
    registry,
    engine: { reconciled: nothing, backoff: nothing },
    recordHttpRequest: nothing,
    recordToolCall: nothing,
    recordProviderCall: nothing,
    recordProviderRetry: nothing,
    recordRateLimitWait: nothing,
    coolifyEvent: nothing,
    state: {
      queueDepth: gauge("deploy_queue_depth", ["queue", "state"]),
      queueOldestJobAge: gauge("deploy_queue_oldest_job_age_seconds", ["queue"]),
      objects: gauge("deploy_objects", ["kind", "ready"])
    }
  }
}

export const Metrics = Context.Reference<MetricsService>("deploy-mcp/observability/Metrics", { defaultValue: discard })

/** For Effect code (the MCP tool dispatcher): count one tool call with its outcome and duration. */
export const recordToolCall = (tool: string, outcome: ToolCallOutcome, seconds: number): Effect.Effect<void> =>
  Effect.map(Effect.service(Metrics), (metrics) => metrics.recordToolCall(tool, outcome, seconds))
