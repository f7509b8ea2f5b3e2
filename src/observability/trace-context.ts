/**
 * Carrying a trace across process boundaries as a W3C `traceparent`: into reconcile jobs (so the
 * reconcile joins the trace of the write that enqueued it) and out of HTTP request headers.
 * Parsing and formatting are the OpenTelemetry W3C propagator's, not ours.
 */
import { defaultTextMapGetter, defaultTextMapSetter, ROOT_CONTEXT, trace, TraceFlags, type SpanContext } from "@opentelemetry/api"
import { W3CTraceContextPropagator } from "@opentelemetry/core"
import { Effect, Option, Tracer } from "effect"
import { Tracing } from "./tracing-service.ts"

const propagator = new W3CTraceContextPropagator()

export const spanContextOf = (span: Tracer.AnySpan): SpanContext => ({
  traceId: span.traceId,
  spanId: span.spanId,
  traceFlags: span.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
  isRemote: span._tag === "ExternalSpan"
})

/** The `traceparent` header value naming `span` as the parent; undefined for an invalid span. */
export const traceparentOf = (span: Tracer.AnySpan): string | undefined => {
  const carrier: Record<string, string> = {}
  propagator.inject(trace.setSpanContext(ROOT_CONTEXT, spanContextOf(span)), carrier, defaultTextMapSetter)
  return carrier.traceparent
}

/** The remote parent a `traceparent` names, as an Effect span; undefined when absent or malformed. */
export const spanFromTraceparent = (traceparent: string | undefined): Tracer.ExternalSpan | undefined => {
  if (!traceparent) return undefined
  return spanFromHeaders({ traceparent })
}

export const spanFromHeaders = (headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>): Tracer.ExternalSpan | undefined => {
  const context = trace.getSpanContext(propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter))
  if (!context || !trace.isSpanContextValid(context)) return undefined
  return Tracer.externalSpan({ traceId: context.traceId, spanId: context.spanId, sampled: (context.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED })
}

/**
 * The traceparent of the current span, if the effect runs inside one and tracing is on (with it
 * off, span ids name nothing any backend has seen, so there is nothing to join).
 */
export const currentTraceparent: Effect.Effect<string | undefined> = Effect.gen(function*() {
  if (!(yield* Effect.service(Tracing)).enabled) return undefined
  const span = yield* Effect.option(Effect.currentParentSpan)
  return Option.isSome(span) ? traceparentOf(span.value) : undefined
})
