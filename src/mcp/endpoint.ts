/**
 * `/mcp` on Fastify: MCP Streamable HTTP (POST messages, GET for the server's SSE stream, DELETE
 * to end a session) behind, in this order: Host/Origin validation (DNS rebinding) → API key
 * (401 + WWW-Authenticate) → per-key token bucket (429 + Retry-After). Then the SDK's transport of
 * the caller's session answers; tools run in the MCP runtime (runtime.ts).
 *
 * Every refusal is a JSON-RPC error object whose message says what to do.
 */
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js"
import { Cause, Effect, Exit, Option } from "effect"
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify"
import type { IncomingMessage } from "node:http"
import { isWellFormedKey, prefixOf } from "../auth/api-key.ts"
import { ApiKeyVerifier, type Principal } from "../auth/api-key-verifier.ts"
import type { Logger } from "../log/logger.ts"
import { TokenBuckets } from "./rate-limit.ts"
import { checkRequest, makeGuardPolicy, originAllowed } from "./request-guard.ts"
import type { McpRuntime } from "./runtime.ts"
import { authInfoFor, createMcpServer } from "./server.ts"
import { SessionRegistry, type SessionLimits } from "./sessions.ts"
import { tools } from "./tools/index.ts"
import { makeToolsListResponder } from "./tools-list-response.ts"

export const MCP_PATH = "/mcp"

export interface EndpointOptions {
  readonly runtime: McpRuntime
  readonly logger: Logger
  /** Where users reach the server (PUBLIC_URL, or http://localhost:PORT). */
  readonly publicUrl: string
  readonly publicUrlConfigured: boolean
  readonly bindHost: string
  readonly allowedOrigins?: string
  readonly rateLimitPerMinute: number
  readonly sessionLimits?: SessionLimits
}

/** JSON-RPC codes for transport-level refusals (the -32000 range is for implementations). */
const Codes = { unauthorized: -32001, forbidden: -32003, rateLimited: -32029, badRequest: -32600, parse: -32700, unavailable: -32002 } as const

const CORS_ALLOW_HEADERS = "authorization, content-type, mcp-session-id, mcp-protocol-version, last-event-id"
const CORS_EXPOSE_HEADERS = "mcp-session-id, www-authenticate, retry-after"

const sendError = (reply: FastifyReply, status: number, code: number, message: string) =>
  reply.code(status).header("content-type", "application/json").send({ jsonrpc: "2.0", error: { code, message }, id: null })

const bearerToken = (header: string | undefined): string | undefined => {
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null
  return match?.[1]
}

export const registerMcpEndpoint = async (app: FastifyInstance, options: EndpointOptions) => {
  const { runtime, logger } = options
  const policy = makeGuardPolicy({
    ...(options.publicUrlConfigured ? { publicUrl: options.publicUrl } : {}),
    bindHost: options.bindHost,
    ...(options.allowedOrigins ? { allowedOrigins: options.allowedOrigins } : {})
  })
  const verifier = await runtime.runPromise(Effect.gen(function*() {
    return yield* ApiKeyVerifier
  }))
  const sessions = new SessionRegistry(() => createMcpServer(runtime, tools), options.sessionLimits)
  const toolsList = makeToolsListResponder(tools)
  const stopRevocations = verifier.onRevoked((keyId) => sessions.closeForKey(keyId))
  const perKey = new TokenBuckets(options.rateLimitPerMinute)
  // Wrong keys are cheap to send and, with a matching prefix, cost an argon2 run: limit per address.
  const failedAuth = new TokenBuckets(60)
  const sweeper = setInterval(() => {
    perKey.sweep()
    failedAuth.sweep()
  }, 60_000)
  sweeper.unref()
  const principals = new WeakMap<IncomingMessage, Principal>()

  app.addHook("preClose", async () => {
    clearInterval(sweeper)
    stopRevocations()
    await sessions.closeAll()
  })

  const howToGetAKey = `Create one with \`npm run cli -- apikey create --user <login>\` on the server (${options.publicUrl}/ shows how to connect, and the dashboard there once GitHub sign-in is set up), then send it as 'Authorization: Bearer dk_live_…'.`

  const withCors = (request: FastifyRequest, reply: FastifyReply) => {
    const origin = request.headers.origin
    if (origin && originAllowed(policy, origin)) {
      reply.raw.setHeader("access-control-allow-origin", origin)
      reply.raw.setHeader("vary", "Origin")
      reply.raw.setHeader("access-control-expose-headers", CORS_EXPOSE_HEADERS)
    }
  }

  /** Guard, authenticate and rate-limit; on refusal the reply is sent and undefined returned. */
  const admit = async (request: FastifyRequest, reply: FastifyReply): Promise<Principal | undefined> => {
    withCors(request, reply)
    const guard = checkRequest(policy, { ...(request.headers.host ? { host: request.headers.host } : {}), ...(request.headers.origin ? { origin: request.headers.origin } : {}) })
    if (!guard.ok) {
      await sendError(reply, 403, Codes.forbidden, guard.message)
      return undefined
    }
    const token = bearerToken(request.headers.authorization)
    // Operators see refused callers at info: the public prefix of a well-formed key, never the key
    // or anything else the caller sent as one.
    const refused = (reason: string, extra: Record<string, unknown> = {}) =>
      request.log.info({ reason, statusCode: 401, ip: request.ip, path: request.url.split("?")[0], ...(token && isWellFormedKey(token) ? { keyPrefix: prefixOf(token) } : {}), ...extra }, "MCP request refused")
    if (!token) {
      refused(request.headers.authorization === undefined ? "missing API key" : "malformed Authorization header")
      reply.header("www-authenticate", 'Bearer realm="deploy-mcp"')
      await sendError(reply, 401, Codes.unauthorized, `Missing API key. ${howToGetAKey}`)
      return undefined
    }
    const verified = await runtime.runPromiseExit(verifier.verify(token))
    if (Exit.isFailure(verified)) {
      logger.error({ cause: Cause.pretty(verified.cause) }, "API key verification failed")
      reply.header("retry-after", "5")
      await sendError(reply, 503, Codes.unavailable, "Cannot verify API keys right now (the database is unreachable); retry in a few seconds.")
      return undefined
    }
    if (Option.isNone(verified.value)) {
      const limited = failedAuth.take(`ip:${request.ip}`)
      if (!limited.ok) {
        refused("rate limited: too many invalid API keys from this address", { statusCode: 429, retryAfterSeconds: limited.retryAfterSeconds })
        reply.header("retry-after", String(limited.retryAfterSeconds))
        await sendError(reply, 429, Codes.rateLimited, `Too many requests with invalid API keys from this address; retry after ${limited.retryAfterSeconds} s.`)
        return undefined
      }
      refused(token && isWellFormedKey(token) ? "invalid or revoked API key" : "malformed API key")
      reply.header("www-authenticate", 'Bearer realm="deploy-mcp", error="invalid_token", error_description="The API key is invalid or revoked"')
      await sendError(reply, 401, Codes.unauthorized, `Invalid or revoked API key. ${howToGetAKey}`)
      return undefined
    }
    const principal = verified.value.value
    const limited = perKey.take(principal.keyId)
    if (!limited.ok) {
      refused("rate limited: key over its requests per minute", { statusCode: 429, retryAfterSeconds: limited.retryAfterSeconds, userId: principal.userId })
      reply.header("retry-after", String(limited.retryAfterSeconds))
      await sendError(
        reply,
        429,
        Codes.rateLimited,
        `Rate limit of ${options.rateLimitPerMinute} requests per minute for key ${principal.keyPrefix} reached; retry after ${limited.retryAfterSeconds} s.`
      )
      return undefined
    }
    return principal
  }

  const handle = async (request: FastifyRequest, reply: FastifyReply) => {
    const principal = principals.get(request.raw)
    if (!principal) return sendError(reply, 401, Codes.unauthorized, `Missing API key. ${howToGetAKey}`)
    const sessionId = request.headers["mcp-session-id"]
    let release: () => void = () => {}
    let transport
    if (typeof sessionId === "string") {
      const session = sessions.find(sessionId, principal.keyId)
      if (!session) {
        return sendError(reply, 404, Codes.badRequest, "Session not found: it ended, expired, or belongs to another server replica. Send a new initialize request without Mcp-Session-Id.")
      }
      const protocolVersion = request.headers["mcp-protocol-version"]
      const cached = request.method === "POST"
        ? toolsList(request.body, { ...(request.headers.accept ? { accept: request.headers.accept } : {}), ...(typeof protocolVersion === "string" ? { protocolVersion } : {}) })
        : undefined
      if (cached !== undefined) {
        session.lastActive = Date.now()
        return reply.code(200).header("content-type", "application/json").header("mcp-session-id", session.id).send(cached)
      }
      transport = session.transport
      release = sessions.enter(session)
    } else if (request.method === "POST" && isInitializeRequest(request.body)) {
      transport = (await sessions.open(principal.keyId)).transport
    } else {
      return sendError(
        reply,
        400,
        Codes.badRequest,
        request.method === "POST"
          ? "No Mcp-Session-Id header: start with an initialize request, then send the session id it returns with every request."
          : "Missing Mcp-Session-Id header: GET and DELETE need the session id returned by initialize."
      )
    }
    reply.raw.on("close", release)
    reply.hijack()
    ;(request.raw as IncomingMessage & { auth?: unknown }).auth = authInfoFor(principal)
    try {
      await transport.handleRequest(request.raw, reply.raw, request.body)
    } catch (error) {
      logger.error({ err: error, correlationId: request.id }, "MCP transport failed")
      if (!reply.raw.headersSent) {
        reply.raw.writeHead(500, { "content-type": "application/json" })
        reply.raw.end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32603, message: `Internal error; quote correlation id ${request.id}.` }, id: null }))
      } else reply.raw.end()
    }
  }

  await app.register(async (scope) => {
    // Malformed or oversized bodies: a JSON-RPC error, not Fastify's default shape.
    scope.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
      const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500
      if (status >= 500) {
        request.log.error({ err: error, correlationId: request.id }, "unexpected error on /mcp")
        return sendError(reply, 500, -32603, `Internal error; quote correlation id ${request.id} when reporting it.`)
      }
      return sendError(reply, status, status === 400 ? Codes.parse : Codes.badRequest, `${status === 400 ? "Parse error: " : ""}${error.message}`)
    })
    scope.options(MCP_PATH, async (request, reply) => {
      const origin = request.headers.origin
      if (!origin || !originAllowed(policy, origin)) return sendError(reply, 403, Codes.forbidden, `Origin '${origin ?? ""}' is not allowed.`)
      return reply
        .code(204)
        .header("access-control-allow-origin", origin)
        .header("vary", "Origin")
        .header("access-control-allow-methods", "GET, POST, DELETE, OPTIONS")
        .header("access-control-allow-headers", CORS_ALLOW_HEADERS)
        .header("access-control-max-age", "600")
        .send()
    })
    scope.route({
      method: ["GET", "POST", "DELETE"],
      url: MCP_PATH,
      // Before the body is read: unauthenticated requests never get their body parsed.
      onRequest: async (request, reply) => {
        const principal = await admit(request, reply)
        if (!principal) return reply
        principals.set(request.raw, principal)
      },
      handler: handle
    })
  })
}
