/**
 * One MCP tool call, observed: a span `mcp.tool <name>` (child of the HTTP request span, parent of
 * the tool's transaction and enqueues) and a count + duration by tool and outcome. The dispatcher
 * (src/mcp/call-tool.ts) says which outcome it produced through `outcome`; a call that ends
 * without saying so counts as an internal error.
 */
import { Effect, Exit } from "effect"
import { Metrics, type ToolCallOutcome } from "./metrics.ts"

export const observeToolCall = <A, E, R>(tool: string, body: (outcome: (value: ToolCallOutcome) => void) => Effect.Effect<A, E, R>) =>
  Effect.suspend(() => {
    let outcome: ToolCallOutcome = "internal_error"
    const started = performance.now()
    return body((value) => (outcome = value)).pipe(
      Effect.onExit((exit) =>
        Effect.gen(function*() {
          const final = Exit.isSuccess(exit) ? outcome : "internal_error"
          yield* Effect.annotateCurrentSpan("mcp.tool.outcome", final)
          ;(yield* Effect.service(Metrics)).recordToolCall(tool, final, (performance.now() - started) / 1000)
        })
      ),
      Effect.withSpan(`mcp.tool ${tool}`, { kind: "server", attributes: { "mcp.tool.name": tool } })
    )
  })
