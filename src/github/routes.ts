/**
 * Registers the GitHub surfaces (DESIGN.md §6): /webhooks/github always when a webhook secret is
 * set; sign-in, App installation and the dashboard when the App's credentials are set.
 */
import cookie from "@fastify/cookie"
import formbody from "@fastify/formbody"
import type { FastifyInstance } from "fastify"
import { registerDashboardRoutes } from "../dashboard/routes.ts"
import { homePage } from "../dashboard/home.ts"
import { serverCapabilities } from "../mcp/capabilities.ts"
import type { ServerContext } from "../server/context.ts"
import { registerAuthRoutes } from "./auth-routes.ts"
import { buildGitHubSurface } from "./surface.ts"
import { registerGitHubWebhookRoute } from "./webhook-route.ts"

export const registerGitHubRoutes = async (app: FastifyInstance, context: ServerContext): Promise<void> => {
  const surface = await buildGitHubSurface(context)
  app.addHook("onClose", async () => surface.dispose())
  registerGitHubWebhookRoute(app, surface)
  if (!surface.signInEnabled) {
    context.logger.info("GitHub sign-in and the dashboard are off: GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY, GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET are needed")
    // `/` still answers: how to connect an agent and what this server can do (messages point here).
    const body = homePage({ publicUrl: context.publicUrl, capabilities: serverCapabilities(context.config) })
    app.get("/", (_request, reply) => reply.header("cache-control", "no-store").type("text/html; charset=utf-8").send(body))
    return
  }
  // Browser routes in their own scope: cookies and form bodies stay out of the API routes.
  await app.register(async (scope) => {
    if (!scope.hasDecorator("parseCookie")) await scope.register(cookie)
    if (!scope.hasContentTypeParser("application/x-www-form-urlencoded")) await scope.register(formbody, { bodyLimit: 64 * 1024 })
    registerAuthRoutes(scope, surface)
    registerDashboardRoutes(scope, surface)
  })
}
