/**
 * The Fastify server. Bad input gets a 4xx with a message; anything unexpected is logged with a
 * correlation id that the 500 response quotes — never a stack trace.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify"
import { randomUUID } from "node:crypto"
import type { ServerContext } from "./context.ts"
import { registerRoutes } from "./routes/index.ts"

export const buildHttpServer = async (context: ServerContext): Promise<FastifyInstance> => {
  const app: FastifyInstance = Fastify({
    loggerInstance: context.logger as FastifyBaseLogger,
    genReqId: () => randomUUID(),
    bodyLimit: 1024 * 1024,
    trustProxy: true
  })
  app.setErrorHandler((error: Error & { statusCode?: number; validation?: unknown }, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500
    if (status < 500) return reply.code(status).send({ error: error.message })
    request.log.error({ err: error, correlationId: request.id }, "unexpected error")
    return reply.code(500).send({ error: `Internal error; quote correlation id ${request.id} when reporting it.` })
  })
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: `No route ${request.method} ${request.url}. The MCP endpoint is /mcp; health is /healthz and /readyz.` })
  )
  await registerRoutes(app, context)
  return app
}
