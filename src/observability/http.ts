/**
 * The HTTP side of observability: every request is counted and timed by route template (never the
 * raw URL, so /apps/123 and /apps/456 are one series) and, with tracing on, is a server span that
 * joins the caller's trace (traceparent header) and parents every Effect span of its handler.
 * GET /metrics serves Prometheus text, behind METRICS_TOKEN as a Bearer token when it is set.
 *
 * Register before every other route module: Fastify applies hooks to routes declared after them.
 */
import { context as otelContext, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span } from "@opentelemetry/api"
import { Effect } from "effect"
import type { FastifyInstance, FastifyRequest } from "fastify"
import { timingSafeEqual, createHash } from "node:crypto"
import { ReconcileQueue } from "../../controllers/engine/queue.ts"
import type { ServerContext } from "../server/context.ts"
import { Metrics } from "./metrics.ts"
import { collectStateGauges } from "./state-gauges.ts"
import { spanContextOf, spanFromHeaders } from "./trace-context.ts"
import { Tracing } from "./tracing-service.ts"

export const METRICS_PATH = "/metrics"

interface InFlight {
  readonly started: number
  readonly span: Span | undefined
}

const routeOf = (request: FastifyRequest): string => request.routeOptions.url ?? "unmatched"

/** Constant-time comparison of the presented bearer token with the configured one. */
const bearerMatches = (header: string | undefined, token: string): boolean => {
  const presented = /^Bearer\s+(.+)$/i.exec(header ?? "")?.[1]?.trim()
  if (!presented) return false
  const digest = (value: string) => createHash("sha256").update(value).digest()
  return timingSafeEqual(digest(presented), digest(token))
}

export const registerObservabilityRoutes = async (app: FastifyInstance, context: ServerContext) => {
  const { metrics, tracing, queueSchema } = await context.runtime.runPromise(
    Effect.gen(function*() {
      return {
        metrics: yield* Effect.service(Metrics),
        tracing: yield* Effect.service(Tracing),
        queueSchema: (yield* ReconcileQueue).options.schema
      }
    })
  )
  const inFlight = new WeakMap<FastifyRequest, InFlight>()
  const otel = tracing.otel

  app.addHook("onRequest", (request, _reply, done) => {
    let span: Span | undefined
    if (otel) {
      const remote = spanFromHeaders(request.headers)
      const parent = remote ? trace.setSpanContext(ROOT_CONTEXT, spanContextOf(remote)) : ROOT_CONTEXT
      span = otel.startSpan(
        `${request.method} ${routeOf(request)}`,
        {
          kind: SpanKind.SERVER,
          attributes: { "http.request.method": request.method, "http.route": routeOf(request), "url.path": request.url.split("?")[0] ?? "/" }
        },
        parent
      )
    }
    inFlight.set(request, { started: performance.now(), span })
    done()
  })

  // After the body is parsed, just before the handler: from here on the request span is the
  // active OTel context, so Effect root spans started by the handler become its children.
  app.addHook("preHandler", (request, _reply, done) => {
    const span = inFlight.get(request)?.span
    if (!span) return done()
    otelContext.with(trace.setSpan(otelContext.active(), span), done)
  })

  app.addHook("onResponse", (request, reply, done) => {
    const entry = inFlight.get(request)
    inFlight.delete(request)
    if (entry) {
      const status = reply.statusCode
      metrics.recordHttpRequest(request.method, routeOf(request), status, (performance.now() - entry.started) / 1000)
      if (entry.span) {
        entry.span.setAttribute("http.response.status_code", status)
        if (status >= 500) entry.span.setStatus({ code: SpanStatusCode.ERROR })
        entry.span.end()
      }
    }
    done()
  })

  const token = context.config.METRICS_TOKEN
  app.get(METRICS_PATH, async (request, reply) => {
    if (token !== undefined && !bearerMatches(request.headers.authorization, token)) {
      return reply
        .code(401)
        .header("www-authenticate", 'Bearer realm="metrics"')
        .send({ error: "Metrics need the METRICS_TOKEN as a bearer token: Authorization: Bearer <METRICS_TOKEN>." })
    }
    await context.runtime.runPromise(collectStateGauges(metrics, { queueSchema }))
    return reply.header("content-type", metrics.registry.contentType).send(await metrics.registry.metrics())
  })
}
