/**
 * The Effect → OpenTelemetry bridge: spans keep their tree, attributes and failures; an OTel span
 * active outside Effect parents Effect root spans; traceparents round-trip; and with an OTLP
 * endpoint the spans really leave the process over HTTP.
 */
import assert from "node:assert/strict"
import { createServer } from "node:http"
import { after, describe, test } from "node:test"
import { context as otelContext, trace } from "@opentelemetry/api"
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-node"
import { Effect, Layer, ManagedRuntime, Schema, Tracer } from "effect"
import { makeObservability } from "./index.ts"
import { currentTraceparent, spanFromTraceparent, traceparentOf } from "./trace-context.ts"
import { makeTracing } from "./tracing.ts"

class Boom extends Schema.TaggedError<Boom>()("Boom", { message: Schema.String }) {}

const runtimeWith = (tracer: Tracer.Tracer, extra: Layer.Layer<never> = Layer.empty) =>
  ManagedRuntime.make(Layer.merge(Layer.succeed(Tracer.Tracer, tracer), extra))

describe("Effect spans as OpenTelemetry spans", () => {
  const exporter = new InMemorySpanExporter()
  const tracing = makeTracing({ exporter })
  const runtime = runtimeWith(tracing.tracer)
  after(async () => {
    await runtime.dispose()
    await tracing.shutdown()
  })

  test("nesting, attributes and typed failures carry over", async () => {
    exporter.reset()
    const exit = await runtime.runPromiseExit(
      Effect.gen(function*() {
        yield* Effect.annotateCurrentSpan("deploy.uid", "u-1")
        yield* Effect.fail(new Boom({ message: "provider said no" })).pipe(Effect.withSpan("inner", { attributes: { count: 3 } }))
      }).pipe(Effect.withSpan("outer", { kind: "consumer" }))
    )
    assert.equal(exit._tag, "Failure")
    const spans = exporter.getFinishedSpans()
    const outer = spans.find((span) => span.name === "outer")
    const inner = spans.find((span) => span.name === "inner")
    assert.ok(outer && inner)
    assert.equal(inner.parentSpanContext?.spanId, outer.spanContext().spanId)
    assert.equal(inner.spanContext().traceId, outer.spanContext().traceId)
    assert.equal(inner.attributes.count, 3)
    assert.equal(outer.attributes["deploy.uid"], "u-1")
    assert.equal(outer.kind, 4 /* CONSUMER */)
    assert.equal(inner.status.code, 2 /* ERROR */)
    assert.equal(inner.status.message, "Boom: provider said no")
  })

  test("an OTel span active outside Effect parents an Effect root span; root: true starts a new trace", async () => {
    exporter.reset()
    const otel = tracing.otel
    assert.ok(otel)
    const request = otel.startSpan("GET /things")
    await otelContext.with(trace.setSpan(otelContext.active(), request), () =>
      runtime.runPromise(
        Effect.gen(function*() {
          yield* Effect.sleep(1)
          yield* Effect.void.pipe(Effect.withSpan("handler"))
          yield* Effect.void.pipe(Effect.withSpan("detached", { root: true }))
        })
      )
    )
    request.end()
    const spans = exporter.getFinishedSpans()
    const handler = spans.find((span) => span.name === "handler")
    const detached = spans.find((span) => span.name === "detached")
    assert.equal(handler?.parentSpanContext?.spanId, request.spanContext().spanId)
    assert.equal(handler?.spanContext().traceId, request.spanContext().traceId)
    assert.notEqual(detached?.spanContext().traceId, request.spanContext().traceId)
    assert.equal(detached?.parentSpanContext, undefined)
  })
})

describe("traceparent", () => {
  test("round-trips through the W3C format and refuses garbage", () => {
    const parent = Tracer.externalSpan({ traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331", sampled: true })
    const header = traceparentOf(parent)
    assert.equal(header, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
    const back = spanFromTraceparent(header)
    assert.deepEqual([back?.traceId, back?.spanId, back?.sampled], [parent.traceId, parent.spanId, true])
    assert.equal(spanFromTraceparent("00-00000000000000000000000000000000-b7ad6b7169203331-01"), undefined)
    assert.equal(spanFromTraceparent("not a traceparent"), undefined)
    assert.equal(spanFromTraceparent(undefined), undefined)
  })

  test("is carried only when tracing is on", async () => {
    const off = makeObservability()
    const offRuntime = ManagedRuntime.make(off.layer)
    assert.equal(await offRuntime.runPromise(currentTraceparent.pipe(Effect.withSpan("write"))), undefined)
    await offRuntime.dispose()

    const on = makeObservability({ traceExporter: new InMemorySpanExporter() })
    const onRuntime = ManagedRuntime.make(on.layer)
    const carried = await onRuntime.runPromise(
      Effect.gen(function*() {
        const span = yield* Effect.currentSpan
        return { header: yield* currentTraceparent, traceId: span.traceId, spanId: span.spanId }
      }).pipe(Effect.withSpan("write"))
    )
    assert.equal(carried.header, `00-${carried.traceId}-${carried.spanId}-01`)
    await onRuntime.dispose()
    await on.shutdown()
  })
})

describe("OTLP export", () => {
  test("with an endpoint, spans are sent to <endpoint>/v1/traces", async () => {
    const received: Array<{ url: string; body: string }> = []
    let arrived: () => void = () => {}
    const delivered = new Promise<void>((resolve) => (arrived = resolve))
    const collector = createServer((request, response) => {
      let body = ""
      request.on("data", (chunk: Buffer) => (body += chunk.toString()))
      request.on("end", () => {
        received.push({ url: request.url ?? "", body })
        response.writeHead(200, { "content-type": "application/json" }).end("{}")
        arrived()
      })
    })
    await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve))
    const address = collector.address()
    const port = typeof address === "object" && address ? address.port : 0
    const tracing = makeTracing({ endpoint: `http://127.0.0.1:${port}`, serviceName: "deploy-mcp-test" })
    assert.equal(tracing.enabled, true)
    const runtime = runtimeWith(tracing.tracer)
    try {
      await runtime.runPromise(Effect.void.pipe(Effect.withSpan("exported-span")))
      await tracing.forceFlush()
      await delivered
      assert.equal(received[0]?.url, "/v1/traces")
      assert.match(received[0]?.body ?? "", /exported-span/)
      assert.match(received[0]?.body ?? "", /deploy-mcp-test/)
    } finally {
      await runtime.dispose()
      await tracing.shutdown()
      await new Promise<void>((resolve) => collector.close(() => resolve()))
    }
  })

  test("without an endpoint or exporter, tracing is off and Effect's own tracer runs", () => {
    const tracing = makeTracing({})
    assert.equal(tracing.enabled, false)
    assert.equal(tracing.otel, undefined)
    assert.equal(tracing.tracer, Tracer.nativeTracer)
  })
})
