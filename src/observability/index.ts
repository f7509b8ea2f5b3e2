/**
 * Observability of one running system — Prometheus metrics and OpenTelemetry tracing — built once
 * at start-up (src/system/boot.ts) and provided to everything as one layer: the Metrics and
 * Tracing references and the Effect Tracer that turns Effect spans into OTel spans.
 */
import { Layer, Tracer } from "effect"
import type { SpanExporter } from "@opentelemetry/sdk-trace-node"
import { makeMetrics, Metrics, type MetricsService } from "./metrics.ts"
import { countProviderSpans } from "./provider-spans.ts"
import { makeTracing, type Tracing as TracingShape } from "./tracing.ts"
import { Tracing } from "./tracing-service.ts"

export interface ObservabilityOptions {
  /** OTEL_EXPORTER_OTLP_ENDPOINT: tracing is exported there when set. */
  readonly otlpEndpoint?: string | undefined
  /** Tests: export spans here instead (e.g. an InMemorySpanExporter). */
  readonly traceExporter?: SpanExporter | undefined
  readonly serviceName?: string
}

export interface Observability {
  readonly metrics: MetricsService
  readonly tracing: TracingShape
  readonly layer: Layer.Layer<never>
  shutdown(): Promise<void>
}

export const makeObservability = (options: ObservabilityOptions = {}): Observability => {
  const metrics = makeMetrics()
  const tracing = makeTracing({
    endpoint: options.otlpEndpoint,
    exporter: options.traceExporter,
    ...(options.serviceName ? { serviceName: options.serviceName } : {}),
    onSpanEnd: countProviderSpans(metrics)
  })
  const layer = Layer.mergeAll(Layer.succeed(Metrics, metrics), Layer.succeed(Tracing, tracing), Layer.succeed(Tracer.Tracer, tracing.tracer))
  return { metrics, tracing, layer, shutdown: () => tracing.shutdown() }
}

export { Metrics, recordToolCall, type MetricsService, type ToolCallOutcome } from "./metrics.ts"
export { Tracing } from "./tracing-service.ts"
export { currentTraceparent, spanFromTraceparent, traceparentOf } from "./trace-context.ts"
export { registerObservabilityRoutes, METRICS_PATH } from "./http.ts"
