/**
 * Runs one tools/call and turns whatever happens into an MCP CallToolResult: success →
 * structuredContent + text; an expected failure → `isError` with its message; anything else →
 * `isError` quoting a correlation id that the server logged with the full cause. Never a stack
 * trace, never an HTTP 5xx.
 */
import { Cause, Effect, Exit, Option } from "effect"
import { randomUUID } from "node:crypto"
import { AppLogger } from "../log/service.ts"
import { ObjectNotFound, Conflict, InvalidSpec, NameTaken } from "../store/errors.ts"
import { InvalidRepoRef } from "../providers/github/repo-ref.ts"
import { ToolError } from "./errors.ts"
import { observeToolCall } from "../observability/tool-calls.ts"
import { notFoundMessage, type TenantKind } from "./lookups.ts"
import type { McpTool, ToolContext } from "./tool.ts"

export interface CallToolResult {
  readonly [key: string]: unknown
  readonly content: ReadonlyArray<{ readonly type: "text"; readonly text: string }>
  readonly structuredContent?: Record<string, unknown>
  readonly isError?: boolean
}

const errorResult = (text: string): CallToolResult => ({ content: [{ type: "text", text }], isError: true })

/** Failures whose message is already written for the agent. */
const expectedMessage = (error: unknown, context: ToolContext) => {
  if (error instanceof ToolError || error instanceof InvalidRepoRef) return Effect.succeed(Option.some(error.message))
  if (error instanceof InvalidSpec) return Effect.succeed(Option.some(`${error.message}. Fix the arguments and call again.`))
  if (error instanceof NameTaken) return Effect.succeed(Option.some(`${error.message}; choose another name.`))
  if (error instanceof Conflict) {
    return Effect.succeed(Option.some("The object was changed by someone else while this call ran; call the tool again (it reads the latest state)."))
  }
  if (error instanceof ObjectNotFound && (error.kind === "App" || error.kind === "Resource")) {
    return notFoundMessage(context.principal.userId, error.kind as TenantKind, error.project, error.name).pipe(Effect.map(Option.some))
  }
  return Effect.succeed(Option.none<string>())
}

export const callTool = <R>(tool: McpTool<R>, args: unknown, context: ToolContext) =>
  // Span and metrics per call (src/observability); `outcome` labels how it ended.
  observeToolCall(tool.name, (outcome) => Effect.gen(function*() {
    const exit = yield* Effect.exit(tool.invoke(args, context))
    if (Exit.isSuccess(exit)) {
      outcome("ok")
      return { content: [{ type: "text", text: exit.value.text }], structuredContent: exit.value.structuredContent } satisfies CallToolResult
    }
    const cause = exit.cause
    if (Cause.hasInterruptsOnly(cause)) {
      outcome("cancelled")
      return errorResult(`${tool.name} was cancelled before it finished.`)
    }
    const failure = Cause.findErrorOption(cause)
    if (Option.isSome(failure)) {
      const message = yield* Effect.exit(expectedMessage(failure.value, context))
      if (Exit.isSuccess(message) && Option.isSome(message.value)) {
        outcome("tool_error")
        return errorResult(message.value.value)
      }
    }
    const correlationId = randomUUID()
    const logger = yield* AppLogger
    logger.error({ correlationId, tool: tool.name, user: context.principal.login, cause: Cause.pretty(cause) }, "tool call failed unexpectedly")
    return errorResult(
      `${tool.name} failed because of an unexpected internal error (logged with correlation id ${correlationId}). Try again in a moment; if it keeps failing, give the operator that correlation id.`
    )
  }))
