/**
 * The running system's Tracing (tracing.ts) as a Context.Reference: the HTTP hooks read its OTel
 * tracer from the runtime. The default is "off", so code and tests that provide nothing still run.
 */
import { Context, Tracer } from "effect"
import type { Tracing as TracingShape } from "./tracing.ts"

export const Tracing = Context.Reference<TracingShape>("deploy-mcp/observability/Tracing", {
  defaultValue: () => ({
    enabled: false,
    tracer: Tracer.nativeTracer,
    otel: undefined,
    forceFlush: async () => {},
    shutdown: async () => {}
  })
})
