/**
 * The MCP surface: `registerMcpRoutes` is what src/server/routes/index.ts calls. It builds the MCP
 * runtime over the running platform, mounts /mcp, and disposes the runtime when the server closes.
 * The runtime is returned: other API-key surfaces (the git remote) share its key verifier.
 */
import type { FastifyInstance } from "fastify"
import type { ServerContext } from "../server/context.ts"
import { registerMcpEndpoint } from "./endpoint.ts"
import { makeMcpRuntime } from "./runtime.ts"

export const registerMcpRoutes = async (app: FastifyInstance, context: ServerContext) => {
  // Revocations reach every replica by NOTIFY; the TTL only bounds a missed notification.
  const runtime = await makeMcpRuntime(context.runtime, { verifier: { ttlMillis: context.config.API_KEY_CACHE_SECONDS * 1000 } })
  app.addHook("onClose", () => runtime.dispose())
  await registerMcpEndpoint(app, {
    runtime,
    logger: context.logger,
    publicUrl: context.publicUrl,
    publicUrlConfigured: context.config.PUBLIC_URL !== undefined,
    bindHost: context.config.HOST,
    ...(context.config.ALLOWED_ORIGINS ? { allowedOrigins: context.config.ALLOWED_ORIGINS } : {}),
    rateLimitPerMinute: context.config.MCP_RATE_LIMIT_PER_MINUTE
  })
  return runtime
}

export { MCP_PATH } from "./endpoint.ts"
