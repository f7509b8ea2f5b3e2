/**
 * OpenTelemetry tracing for one running system, fed by Effect's own spans.
 *
 * Effect 4 ships an OTLP exporter for its spans (effect/observability OtlpTracer) but no bridge to
 * the OpenTelemetry SDK, so this module is that bridge: an Effect `Tracer` whose spans are OTel
 * spans. Everything already instrumented with Effect.withSpan / Effect.fn (provider clients,
 * tools, the engine) lands in one OTel trace, and OTel spans started outside Effect (the HTTP
 * request span, made active through AsyncLocalStorage) become parents of Effect root spans.
 *
 * On when OTEL_EXPORTER_OTLP_ENDPOINT is set (OTLP over HTTP, batched) or when a test passes an
 * exporter (e.g. InMemorySpanExporter, exported at once); off otherwise — then Effect's native
 * tracer runs as before and nothing is exported.
 *
 * Either way, the spans of provider requests that report nothing else (Turso, GitHub) are
 * counted as provider calls in the metrics (`onSpanEnd`).
 */
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type AttributeValue, type Context, type HrTime, type Span as OtelSpan, type Tracer as OtelTracer } from "@opentelemetry/api"
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http"
import { resourceFromAttributes } from "@opentelemetry/resources"
import { BatchSpanProcessor, NodeTracerProvider, SimpleSpanProcessor, type SpanExporter } from "@opentelemetry/sdk-trace-node"
import { Cause, Exit, Option, Tracer, type Context as EffectContext } from "effect"
import { spanContextOf } from "./trace-context.ts"

export interface SpanEnd {
  readonly name: string
  readonly exit: Exit.Exit<unknown, unknown>
  readonly seconds: number
}

export interface TracingOptions {
  readonly serviceName?: string
  /** OTLP/HTTP base URL, e.g. http://localhost:4318 (spans go to <endpoint>/v1/traces). */
  readonly endpoint?: string | undefined
  /** Export here instead (tests); spans are handed over as soon as they end. */
  readonly exporter?: SpanExporter | undefined
  /** Called for every ended span, traced or not (span-derived metrics). */
  readonly onSpanEnd?: (end: SpanEnd) => void
}

export interface Tracing {
  readonly enabled: boolean
  /** Install with Layer.succeed(Tracer.Tracer, tracing.tracer). */
  readonly tracer: Tracer.Tracer
  /** The OTel tracer for spans outside Effect (HTTP requests); undefined when tracing is off. */
  readonly otel: OtelTracer | undefined
  forceFlush(): Promise<void>
  shutdown(): Promise<void>
}

const SPAN_KIND: Record<Tracer.SpanKind, SpanKind> = {
  internal: SpanKind.INTERNAL,
  server: SpanKind.SERVER,
  client: SpanKind.CLIENT,
  producer: SpanKind.PRODUCER,
  consumer: SpanKind.CONSUMER
}

const hrTime = (nanos: bigint): HrTime => [Number(nanos / 1_000_000_000n), Number(nanos % 1_000_000_000n)]

const attributeValue = (value: unknown): AttributeValue | undefined => {
  if (value === undefined || value === null) return undefined
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value
  if (typeof value === "bigint") return Number(value)
  if (Array.isArray(value) && value.every((item) => typeof item === "string")) return value as Array<string>
  return JSON.stringify(value)
}

const toAttributes = (record: Readonly<Record<string, unknown>>): Attributes => {
  const attributes: Attributes = {}
  for (const [key, value] of Object.entries(record)) {
    const converted = attributeValue(value)
    if (converted !== undefined) attributes[key] = converted
  }
  return attributes
}

type SpanOptions = Parameters<Tracer.Tracer["span"]>[0]

/** Where an Effect span hangs in the OTel tree. */
const parentContext = (options: SpanOptions): Context => {
  if (Option.isSome(options.parent)) {
    const parent = options.parent.value
    return parent instanceof BridgedSpan ? trace.setSpan(ROOT_CONTEXT, parent.otelSpan) : trace.setSpanContext(ROOT_CONTEXT, spanContextOf(parent))
  }
  // A root span with no Effect parent joins whatever OTel span is active (the HTTP request).
  return options.root ? ROOT_CONTEXT : context.active()
}

/** An Effect span that is an OTel span: ids, attributes, events, links and status go to OTel. */
class BridgedSpan implements Tracer.Span {
  readonly _tag = "Span"
  readonly name: string
  readonly parent: Option.Option<Tracer.AnySpan>
  readonly annotations: EffectContext.Context<never>
  readonly links: Array<Tracer.SpanLink>
  readonly sampled: boolean
  readonly kind: Tracer.SpanKind
  readonly attributes = new Map<string, unknown>()
  readonly otelSpan: OtelSpan
  readonly spanId: string
  readonly traceId: string
  status: Tracer.SpanStatus
  private readonly onEnd: ((end: SpanEnd) => void) | undefined

  constructor(tracer: OtelTracer, options: SpanOptions, onEnd: ((end: SpanEnd) => void) | undefined) {
    this.name = options.name
    this.parent = options.parent
    this.annotations = options.annotations
    this.links = [...options.links]
    this.sampled = options.sampled
    this.kind = options.kind
    this.status = { _tag: "Started", startTime: options.startTime }
    this.onEnd = onEnd
    this.otelSpan = tracer.startSpan(
      options.name,
      {
        kind: SPAN_KIND[options.kind],
        ...(options.startTime > 0n ? { startTime: hrTime(options.startTime) } : {}),
        links: options.links.map((link) => ({ context: spanContextOf(link.span), attributes: toAttributes(link.attributes) }))
      },
      parentContext(options)
    )
    const spanContext = this.otelSpan.spanContext()
    this.spanId = spanContext.spanId
    this.traceId = spanContext.traceId
  }

  attribute(key: string, value: unknown): void {
    this.attributes.set(key, value)
    const converted = attributeValue(value)
    if (converted !== undefined) this.otelSpan.setAttribute(key, converted)
  }

  event(name: string, startTime: bigint, attributes?: Record<string, unknown>): void {
    this.otelSpan.addEvent(name, attributes ? toAttributes(attributes) : {}, hrTime(startTime))
  }

  addLinks(links: ReadonlyArray<Tracer.SpanLink>): void {
    this.links.push(...links)
    this.otelSpan.addLinks(links.map((link) => ({ context: spanContextOf(link.span), attributes: toAttributes(link.attributes) })))
  }

  end(endTime: bigint, exit: Exit.Exit<unknown, unknown>): void {
    const startTime = this.status.startTime
    this.status = { _tag: "Ended", startTime, endTime, exit }
    if (Exit.isFailure(exit)) {
      const interrupted = Cause.hasInterruptsOnly(exit.cause)
      this.otelSpan.setStatus(interrupted ? { code: SpanStatusCode.UNSET } : { code: SpanStatusCode.ERROR, message: failureMessage(exit.cause) })
      if (interrupted) this.otelSpan.setAttribute("effect.interrupted", true)
    } else {
      this.otelSpan.setStatus({ code: SpanStatusCode.OK })
    }
    this.otelSpan.end(endTime > 0n ? hrTime(endTime) : undefined)
    this.onEnd?.({ name: this.name, exit, seconds: Number(endTime - startTime) / 1e9 })
  }
}

const failureMessage = (cause: Cause.Cause<unknown>): string => {
  const error = Cause.squash(cause) as { _tag?: unknown; message?: unknown }
  const tag = typeof error?._tag === "string" ? `${error._tag}: ` : ""
  return `${tag}${typeof error?.message === "string" ? error.message : String(error)}`.slice(0, 1000)
}

/** Effect's native spans, with `onSpanEnd` told when each ends (tracing off). */
class ObservedNativeSpan extends Tracer.NativeSpan {
  private readonly onEnd: (end: SpanEnd) => void
  constructor(options: SpanOptions, onEnd: (end: SpanEnd) => void) {
    super(options)
    this.onEnd = onEnd
  }
  override end(endTime: bigint, exit: Exit.Exit<unknown, unknown>): void {
    const startTime = this.status.startTime
    super.end(endTime, exit)
    this.onEnd({ name: this.name, exit, seconds: Number(endTime - startTime) / 1e9 })
  }
}

export const makeTracing = (options: TracingOptions): Tracing => {
  const exporter = options.exporter ?? (options.endpoint ? new OTLPTraceExporter({ url: `${options.endpoint.replace(/\/+$/, "")}/v1/traces` }) : undefined)
  const onSpanEnd = options.onSpanEnd
  if (!exporter) {
    return {
      enabled: false,
      tracer: onSpanEnd ? Tracer.make({ span: (span) => new ObservedNativeSpan(span, onSpanEnd) }) : Tracer.nativeTracer,
      otel: undefined,
      forceFlush: async () => {},
      shutdown: async () => {}
    }
  }
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ "service.name": options.serviceName ?? "deploy-mcp" }),
    spanProcessors: [options.exporter ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter)]
  })
  // The AsyncLocalStorage context manager lets the HTTP span reach Effect root spans. Registration
  // is process-wide and the first wins; spans are still made by this system's own provider.
  provider.register()
  const otel = provider.getTracer("deploy-mcp")
  return {
    enabled: true,
    tracer: Tracer.make({ span: (span) => new BridgedSpan(otel, span, onSpanEnd) }),
    otel,
    forceFlush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown()
  }
}
