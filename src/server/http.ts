/**
 * The Fastify server. Bad input gets a 4xx with a message; anything unexpected is logged with a
 * correlation id that the 500 response quotes — never a stack trace.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify"
import { randomUUID } from "node:crypto"
import type { ServerContext } from "./context.ts"
import { appHostMatcher, registerAppRouter } from "../providers/local/router.ts"
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
  if (context.appRoutes) {
    const serverHosts = ["localhost", "127.0.0.1", "[::1]", new URL(context.publicUrl).hostname]
    registerAppRouter(app, {
      routes: context.appRoutes,
      serverHosts,
      isAppHost: appHostMatcher({ appDnsSuffix: context.config.APP_DNS_SUFFIX, serverHosts })
    })
  }
  await registerRoutes(app, context)
  return app
}
