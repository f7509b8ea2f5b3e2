/** Every HTTP surface of the server (DESIGN.md §6), registered in one place. */
import type { FastifyInstance } from "fastify"
import type { ServerContext } from "../context.ts"
import { registerHealthRoutes } from "./health.ts"
import { registerMcpRoutes } from "../../mcp/index.ts"
import { registerGitHubRoutes } from "../../github/routes.ts"

export const registerRoutes = async (app: FastifyInstance, context: ServerContext) => {
  registerHealthRoutes(app, context)
  await registerMcpRoutes(app, context)
  await registerGitHubRoutes(app, context)
}
