/**
 * The dashboard (server-rendered, no client code): sign in, install the App, grant the repo scope,
 * create and revoke API keys, see apps with their conditions and URLs. Every form carries the
 * session's CSRF token; a POST without it changes nothing.
 *   GET /, GET /dashboard · POST /dashboard/api-keys · POST /dashboard/api-keys/revoke
 */
import { Effect, Option } from "effect"
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify"
import { ApiKeyStore, type CreatedApiKey } from "../auth/api-key-store.ts"
import { baseUrlOf, currentSession } from "../github/browser.ts"
import { csrfCheckPasses, csrfTokenForPage } from "../github/csrf.ts"
import { gitHubIdentityOf } from "../github/identity.ts"
import type { ActiveSession } from "../github/sessions.ts"
import type { GitHubSurface } from "../github/surface.ts"
import { ObjectStore } from "../store/objects.ts"
import { messagePage } from "./html.ts"
import { dashboardPage, landingPage } from "./pages.ts"

const sendPage = (reply: FastifyReply, status: number, body: string) =>
  reply.code(status).header("cache-control", "no-store").type("text/html; charset=utf-8").send(body)

type Form = Readonly<Record<string, unknown>>
const field = (request: FastifyRequest, name: string): string | undefined => {
  const value = (request.body as Form | undefined)?.[name]
  return typeof value === "string" ? value : undefined
}

export const registerDashboardRoutes = (scope: FastifyInstance, surface: GitHubSurface): void => {
  const { runtime } = surface

  const render = async (
    request: FastifyRequest,
    reply: FastifyReply,
    session: ActiveSession,
    extra: { readonly createdKey?: CreatedApiKey; readonly notice?: string; readonly status?: number } = {}
  ) => {
    const userId = session.user.id
    const data = await runtime.runPromise(
      Effect.gen(function*() {
        const identity = yield* gitHubIdentityOf(userId)
        const keys = yield* (yield* ApiKeyStore).list(userId)
        const apps = yield* (yield* ObjectStore).list(userId, { kind: "App", limit: 200 })
        return { identity, keys, apps: apps.items }
      })
    )
    const csrf = csrfTokenForPage(surface, request, reply, session.sessionId)
    return sendPage(
      reply,
      extra.status ?? 200,
      dashboardPage({
        login: session.user.login,
        csrf,
        baseUrl: baseUrlOf(surface, request),
        canInstall: Option.isSome(surface.installUrl()),
        ...data,
        ...(extra.createdKey ? { createdKey: extra.createdKey } : {}),
        ...(extra.notice ? { notice: extra.notice } : {})
      })
    )
  }

  const show = async (request: FastifyRequest, reply: FastifyReply) => {
    const session = await currentSession(surface, request)
    if (Option.isNone(session)) return sendPage(reply, 200, landingPage({ signInEnabled: surface.signInEnabled }))
    const installed = (request.query as Readonly<Record<string, string | undefined>>)["installed"]
    return render(request, reply, session.value, installed ? { notice: `The GitHub App installation ${installed} is confirmed.` } : {})
  }
  scope.get("/", show)
  scope.get("/dashboard", show)

  /** Signed in and the form is from this session; otherwise answers and returns None. */
  const formSession = async (request: FastifyRequest, reply: FastifyReply): Promise<Option.Option<ActiveSession>> => {
    const session = await currentSession(surface, request)
    if (Option.isNone(session)) {
      await sendPage(reply, 401, messagePage("Signed out", "Your session has ended. Sign in again.", { href: "/auth/github", label: "Sign in with GitHub" }))
      return Option.none()
    }
    if (!csrfCheckPasses(surface, request, session.value.sessionId)) {
      await sendPage(reply, 403, messagePage("Form expired", "This form is not from this session (CSRF check failed). Reload the dashboard and try again."))
      return Option.none()
    }
    return session
  }

  scope.post("/dashboard/api-keys", async (request, reply) => {
    const session = await formSession(request, reply)
    if (Option.isNone(session)) return reply
    const name = (field(request, "name") ?? "").trim().slice(0, 100)
    const created = await runtime.runPromise(ApiKeyStore.use((keys) => keys.create(session.value.user.id, name === "" ? undefined : name)))
    request.log.info({ userId: session.value.user.id, prefix: created.prefix }, "API key created from the dashboard")
    return render(request, reply, session.value, { createdKey: created })
  })

  scope.post("/dashboard/api-keys/revoke", async (request, reply) => {
    const session = await formSession(request, reply)
    if (Option.isNone(session)) return reply
    const prefix = field(request, "prefix") ?? ""
    const userId = session.value.user.id
    // Only the user's own keys: another user's prefix behaves like an unknown one.
    const revoked = await runtime.runPromise(
      Effect.gen(function*() {
        const keys = yield* ApiKeyStore
        const own = (yield* keys.list(userId)).some((key) => key.prefix === prefix)
        return own ? yield* keys.revoke(prefix) : Option.none()
      })
    )
    return render(request, reply, session.value, {
      notice: Option.isSome(revoked) ? `Key ${prefix}… is revoked; it stops working at once.` : `You have no key ${prefix}….`,
      status: Option.isSome(revoked) ? 200 : 404
    })
  })
}
