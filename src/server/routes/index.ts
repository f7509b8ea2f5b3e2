/** Every HTTP surface of the server (DESIGN.md §6), registered in one place. */
import type { FastifyInstance } from "fastify"
import type { ServerContext } from "../context.ts"
import { registerHealthRoutes } from "./health.ts"
import { registerObservabilityRoutes } from "../../observability/http.ts"
import { registerMcpRoutes } from "../../mcp/index.ts"
import { registerGitHubRoutes } from "../../github/routes.ts"

export const registerRoutes = async (app: FastifyInstance, context: ServerContext) => {
  // First: its hooks time and trace every route declared after it; it also serves /metrics.
  await registerObservabilityRoutes(app, context)
  registerHealthRoutes(app, context)
  await registerMcpRoutes(app, context)
  await registerGitHubRoutes(app, context)
}
