/**
 * The Fastify server. Bad input gets a 4xx with a message; anything unexpected is logged with a
 * correlation id that the 500 response quotes — never a stack trace.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify"
import { randomUUID } from "node:crypto"
import type { ServerContext } from "./context.ts"
import { appHostMatcher, appTrafficDecider, registerAppRouter, type AppRouterOptions } from "../providers/local/router.ts"
import { registerRoutes } from "./routes/index.ts"

const appRouterOptions = (context: ServerContext): AppRouterOptions | undefined => {
  if (!context.appRoutes) return undefined
  const serverHosts = ["localhost", "127.0.0.1", "[::1]", new URL(context.publicUrl).hostname]
  return { routes: context.appRoutes, serverHosts, isAppHost: appHostMatcher({ appDnsSuffix: context.config.APP_DNS_SUFFIX, serverHosts }) }
}

export const buildHttpServer = async (context: ServerContext): Promise<FastifyInstance> => {
  const router = appRouterOptions(context)
  const toApp = router ? appTrafficDecider(router) : undefined
  const app: FastifyInstance = Fastify({
    loggerInstance: context.logger as FastifyBaseLogger,
    // Apps' own traffic is not the control plane's: two info lines per proxied request would be
    // most of the log and cost on the hot path. The router still logs what goes wrong.
    logController: new LogController({ disableRequestLogging: (request) => toApp?.(request.headers.host) !== undefined }),
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
  if (router) registerAppRouter(app, router)
  await registerRoutes(app, context)
  return app
}
