/**
 * The MCP server of one session: tools/list and tools/call over the tool registry. The low-level
 * SDK `Server` is used (not McpServer.registerTool, which wants zod) so our effect/Schema
 * definitions stay the single source of every JSON Schema and of input validation.
 */
import { Server } from "@modelcontextprotocol/sdk/server/index.js"
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js"
import type { AuthInfo } from "@modelcontextprotocol/sdk/server/auth/types.js"
import { Effect } from "effect"
import type { Principal } from "../auth/api-key-verifier.ts"
import { callTool } from "./call-tool.ts"
import type { McpRuntime } from "./runtime.ts"
import type { McpTool, ToolContext } from "./tool.ts"
import type { McpServices } from "./runtime.ts"

export const SERVER_INFO = { name: "deploy-mcp", version: "0.1.0" } as const

const INSTRUCTIONS = [
  "Deploy MCP deploys apps from GitHub repositories and gives them databases.",
  "Tools write desired state and return at once; controllers do the work and report progress as conditions (Ready, Synced, Deployed) with reasons and messages.",
  "Start with whoami. create_app deploys a repo (add `resources` for a database wired in as env vars); pass wait: true to follow it until Ready or failure.",
  "When something is not Ready, get_app_details shows why and what to do."
].join(" ")

/**
 * A JSON-RPC error whose message goes on the wire as written. (An McpError's message already
 * starts with "MCP error <code>: ", and the client prefixes that again: the agent would read it twice.)
 */
const rpcError = (code: number, message: string): Error & { readonly code: number } => Object.assign(new Error(message), { code })

/** The verified caller, as the endpoint attaches it to each HTTP request. */
export const authInfoFor = (principal: Principal): AuthInfo => ({
  token: principal.keyPrefix,
  clientId: principal.keyId,
  scopes: [],
  extra: { principal }
})

const principalOf = (auth: AuthInfo | undefined): Principal => {
  const principal = auth?.extra?.principal as Principal | undefined
  // The endpoint authenticates every request before the transport sees it; this is a bug guard.
  if (!principal) throw rpcError(ErrorCode.InternalError, "request reached the MCP server without an authenticated principal")
  return principal
}

/** tools/list never changes at runtime: computed once and shared by every session. */
export const listToolsResult = (tools: ReadonlyArray<McpTool<McpServices>>) => ({
  tools: tools.map((tool) => ({
    name: tool.name,
    title: tool.title,
    description: tool.description,
    inputSchema: tool.inputSchema,
    outputSchema: tool.outputSchema,
    // The title is stated once, at the top level (MCP 2025-06-18), not again in the annotations.
    annotations: tool.annotations
  }))
})

export const createMcpServer = (runtime: McpRuntime, tools: ReadonlyArray<McpTool<McpServices>>): Server => {
  const server = new Server(SERVER_INFO, { capabilities: { tools: { listChanged: false } }, instructions: INSTRUCTIONS })
  const byName = new Map(tools.map((tool) => [tool.name, tool]))
  const listed = listToolsResult(tools)

  server.setRequestHandler(ListToolsRequestSchema, () => listed)

  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const tool = byName.get(request.params.name)
    if (!tool) {
      throw rpcError(ErrorCode.InvalidParams, `Unknown tool '${request.params.name}'. Available tools: ${[...byName.keys()].join(", ")}.`)
    }
    const progressToken = request.params._meta?.progressToken
    let progressCount = 0
    const context: ToolContext = {
      principal: principalOf(extra.authInfo),
      progress: (message) =>
        progressToken === undefined
          ? Effect.void
          : Effect.promise(() =>
              extra
                .sendNotification({ method: "notifications/progress", params: { progressToken, progress: ++progressCount, message } })
                // A client that went away cannot get progress; the call itself still completes.
                .catch(() => undefined)
            )
    }
    const result = await runtime.runPromise(callTool(tool, request.params.arguments, context), { signal: extra.signal })
    return {
      content: result.content.map((item) => ({ type: "text" as const, text: item.text })),
      ...(result.structuredContent ? { structuredContent: result.structuredContent } : {}),
      ...(result.isError ? { isError: true } : {})
    }
  })
  return server
}
