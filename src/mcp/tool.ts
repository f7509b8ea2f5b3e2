/**
 * What an MCP tool is, and `defineTool`, the one way to make one (STYLE.md: one small file per
 * tool in src/mcp/tools/ that validates, writes desired state, and returns the object).
 *
 * A tool gives effect/Schema definitions of its input and output — the single source of the JSON
 * Schemas clients see, of input decoding (excess properties are errors, every problem reported at
 * once) and of the structured result — plus annotations and `run`. Expected problems are
 * `ToolError`s whose message says what was wrong and how to fix it; the dispatcher
 * (call-tool.ts) turns every failure into an `isError` result and never shows a stack trace.
 *
 * Adding a tool: write src/mcp/tools/<name>.ts with `defineTool({...})` and add it to
 * src/mcp/tools/index.ts. If it needs a service that is not in `McpServices` (e.g. GitHubApi),
 * add its layer in src/mcp/runtime.ts.
 */
import { Effect, Schema } from "effect"
import type { Principal } from "../auth/api-key-verifier.ts"
import { decodeToolInput, toToolJsonSchema, type JsonObjectSchema } from "./tool-schema.ts"

/** MCP tool annotations (hints for clients; every tool states all four explicitly). */
export interface ToolAnnotations {
  readonly readOnlyHint: boolean
  readonly destructiveHint: boolean
  readonly idempotentHint: boolean
  readonly openWorldHint: boolean
}

export interface ToolContext {
  /** The caller. Every read and write is scoped to `principal.userId`. */
  readonly principal: Principal
  /** Sends an MCP progress notification; a no-op when the client asked for none. */
  readonly progress: (message: string) => Effect.Effect<void>
}

/** What `run` returns: the structured result (matching `output`) and a short text for humans. */
export interface ToolResult<O> {
  readonly structured: O
  readonly text: string
}

export { ToolError } from "./errors.ts"

export interface ToolSpec<I, O, E, R> {
  readonly name: string
  readonly title: string
  /** For the model: what the tool does, when to use it, and what happens after. */
  readonly description: string
  readonly input: Schema.Codec<I, unknown>
  readonly output: Schema.Codec<O, unknown>
  readonly annotations: ToolAnnotations
  run(input: I, context: ToolContext): Effect.Effect<ToolResult<O>, E, R>
}

/** The structured content and text of a successful call. */
export interface ToolOutcome {
  readonly structuredContent: Record<string, unknown>
  readonly text: string
}

/** A tool with its types closed over: what the registry lists and the dispatcher calls. */
export interface McpTool<R> {
  readonly name: string
  readonly title: string
  readonly description: string
  readonly annotations: ToolAnnotations
  readonly inputSchema: JsonObjectSchema
  readonly outputSchema: JsonObjectSchema
  /** Decode `args`, run, encode the result. Fails with ToolError for bad input, or run's errors. */
  invoke(args: unknown, context: ToolContext): Effect.Effect<ToolOutcome, unknown, R>
}

export const defineTool = <I, O, E, R>(spec: ToolSpec<I, O, E, R>): McpTool<R> => {
  const encodeOutput = Schema.encodeUnknownEffect(spec.output)
  return {
    name: spec.name,
    title: spec.title,
    description: spec.description,
    annotations: spec.annotations,
    inputSchema: toToolJsonSchema(spec.input, "input"),
    outputSchema: toToolJsonSchema(spec.output, "output"),
    invoke: (args, context) =>
      decodeToolInput(spec.name, spec.input, args).pipe(
        Effect.flatMap((input) => spec.run(input, context)),
        Effect.flatMap((result) =>
          // Encoding checks the result against the declared output schema: a mismatch is our bug,
          // and it fails here (logged with a correlation id) instead of confusing the client.
          encodeOutput(result.structured).pipe(Effect.map((encoded) => ({ structuredContent: encoded as Record<string, unknown>, text: result.text })))
        )
      )
  }
}
