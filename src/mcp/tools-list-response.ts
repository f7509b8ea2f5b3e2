/**
 * tools/list never changes while the server runs, and every client asks for it at every session
 * start — a ~23 KB answer. It is serialised once and answered as a plain JSON response (Streamable
 * HTTP lets the server answer a POST with application/json instead of an SSE stream), after the
 * same guard, authentication, rate limit and session checks as every other request. Anything that
 * is not exactly a tools/list request of a supported protocol version goes to the SDK as usual.
 */
import { SUPPORTED_PROTOCOL_VERSIONS } from "@modelcontextprotocol/sdk/types.js"
import type { McpTool } from "./tool.ts"
import type { McpServices } from "./runtime.ts"
import { listToolsResult } from "./server.ts"

interface ListRequest {
  readonly id: string | number
}

const isListRequest = (body: unknown): body is ListRequest => {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return false
  const message = body as Record<string, unknown>
  const params = message.params
  return (
    message.jsonrpc === "2.0" &&
    message.method === "tools/list" &&
    (typeof message.id === "string" || (typeof message.id === "number" && Number.isFinite(message.id))) &&
    // A cursor asks for a later page; there is only one.
    (params === undefined || (typeof params === "object" && params !== null && !Array.isArray(params) && !("cursor" in params)))
  )
}

/** The cached answer for `body`, or undefined when the SDK must handle it. */
export const makeToolsListResponder = (tools: ReadonlyArray<McpTool<McpServices>>) => {
  const result = JSON.stringify(listToolsResult(tools))
  return (body: unknown, headers: { readonly accept?: string; readonly protocolVersion?: string }): string | undefined => {
    if (!isListRequest(body)) return undefined
    if (headers.protocolVersion !== undefined && !SUPPORTED_PROTOCOL_VERSIONS.includes(headers.protocolVersion)) return undefined
    if (!(headers.accept ?? "").includes("application/json")) return undefined
    return `{"result":${result},"jsonrpc":"2.0","id":${JSON.stringify(body.id)}}`
  }
}
