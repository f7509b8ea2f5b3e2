/** Every HTTP surface of the server (DESIGN.md §6), registered in one place. */
import type { FastifyInstance } from "fastify"
import type { ServerContext } from "../context.ts"
import { registerHealthRoutes } from "./health.ts"
import { registerObservabilityRoutes } from "../../observability/http.ts"
import { registerMcpRoutes } from "../../mcp/index.ts"
import { registerGitHubRoutes } from "../../github/routes.ts"
import { registerGitRemoteRoutes } from "../../git-remote/routes.ts"

export const registerRoutes = async (app: FastifyInstance, context: ServerContext) => {
  // First: its hooks time and trace every route declared after it; it also serves /metrics.
  await registerObservabilityRoutes(app, context)
  registerHealthRoutes(app, context)
  const mcp = await registerMcpRoutes(app, context)
  await registerGitRemoteRoutes(app, { runtime: mcp, config: context.config, logger: context.logger, publicUrl: context.publicUrl })
  await registerGitHubRoutes(app, context)
}
