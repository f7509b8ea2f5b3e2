/**
 * Browser routes of GitHub sign-in and App installation:
 *   GET  /auth/github[?scope=repo][&return_to=/path]  start a sign-in (state cookie + PKCE)
 *   GET  /auth/github/callback                        finish it: user, sealed token, session cookie
 *   POST /auth/signout                                end the session (CSRF-checked form)
 *   GET  /auth/githubapp/install                      send a signed-in user to the App's install page
 *   GET  /auth/githubapp/callback                     the App's setup URL: confirm the installation with GitHub
 */
import { Cause, Effect, Exit, Option } from "effect"
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify"
import { messagePage } from "../dashboard/html.ts"
import { baseUrlOf, clearSessionCookie, cookieOptions, currentSession, redirectToSignIn, setSessionCookie } from "./browser.ts"
import { CSRF_COOKIE, csrfCheckPasses } from "./csrf.ts"
import { confirmInstallation } from "./installation-setup.ts"
import {
  codeChallengeOf,
  newOAuthAttempt,
  OAUTH_ATTEMPT_TTL_SECONDS,
  OAUTH_COOKIE,
  OAUTH_COOKIE_PATH,
  openOAuthAttempt,
  safeReturnTo,
  sameState,
  sealOAuthAttempt
} from "./oauth-attempt.ts"
import { Sessions } from "./sessions.ts"
import { completeSignIn } from "./sign-in.ts"
import type { GitHubSurface } from "./surface.ts"

export const CALLBACK_PATH = "/auth/github/callback"

type Query = Readonly<Record<string, string | undefined>>

const sendPage = (reply: FastifyReply, status: number, body: string) => reply.code(status).type("text/html; charset=utf-8").send(body)

const restart = { href: "/auth/github", label: "Sign in again" }

/** GitHub failures become pages that say whose side the problem is on. */
const failurePage = (surface: GitHubSurface, request: FastifyRequest, reply: FastifyReply, cause: Cause.Cause<unknown>, what: string) => {
  const error = Cause.squash(cause) as { readonly _tag?: string; readonly message?: string }
  switch (error?._tag) {
    case "GitHubOAuthRejected":
    case "InstallationNotConfirmed":
      return sendPage(reply, error._tag === "InstallationNotConfirmed" ? 403 : 400, messagePage(`Could not ${what}`, error.message ?? "", restart))
    case "GitHubUnauthorized":
    case "GitHubForbidden":
    case "GitHubNotFound":
    case "GitHubInvalidRequest":
    case "GitHubUnavailable":
      surface.context.logger.warn({ error: error.message, correlationId: request.id }, `GitHub refused to ${what}`)
      return sendPage(reply, 502, messagePage(`Could not ${what}`, `GitHub answered: ${error.message ?? "an error"}. Try again in a moment.`, restart))
    default:
      request.log.error({ err: error, correlationId: request.id }, `could not ${what}`)
      return sendPage(reply, 500, messagePage(`Could not ${what}`, `Internal error; quote correlation id ${request.id} when reporting it.`))
  }
}

export const registerAuthRoutes = (scope: FastifyInstance, surface: GitHubSurface): void => {
  const { runtime, keys, api } = surface

  scope.get("/auth/github", async (request, reply) => {
    const query = request.query as Query
    if (query["scope"] !== undefined && query["scope"] !== "" && query["scope"] !== "repo") {
      return sendPage(reply, 400, messagePage("Unknown scope", `The only optional scope is "repo" (/auth/github?scope=repo); "${query["scope"]}" is not one.`, restart))
    }
    const scopes = query["scope"] === "repo" ? ["repo"] : []
    const attempt = newOAuthAttempt(scopes, safeReturnTo(query["return_to"]))
    reply.setCookie(OAUTH_COOKIE, await sealOAuthAttempt(attempt, keys.oauthState), cookieOptions(surface, request, { path: OAUTH_COOKIE_PATH, maxAgeSeconds: OAUTH_ATTEMPT_TTL_SECONDS }))
    return reply.redirect(
      api.oauthAuthorizeUrl({ state: attempt.state, codeChallenge: codeChallengeOf(attempt.codeVerifier), redirectUri: `${baseUrlOf(surface, request)}${CALLBACK_PATH}`, scopes }),
      302
    )
  })

  scope.get(CALLBACK_PATH, async (request, reply) => {
    const query = request.query as Query
    const attempt = await openOAuthAttempt(request.cookies[OAUTH_COOKIE], keys.oauthState)
    reply.clearCookie(OAUTH_COOKIE, { path: OAUTH_COOKIE_PATH })
    if (query["error"] !== undefined) {
      return sendPage(reply, 400, messagePage("GitHub did not sign you in", `GitHub answered "${query["error_description"] ?? query["error"]}".`, restart))
    }
    if (Option.isNone(attempt) || query["state"] === undefined || !sameState(attempt.value.state, query["state"])) {
      return sendPage(reply, 400, messagePage("Sign-in not recognised", "This sign-in was not started in this browser, or it took longer than 10 minutes. Start it again.", restart))
    }
    const code = query["code"]
    if (code === undefined || code === "") return sendPage(reply, 400, messagePage("Sign-in incomplete", "GitHub sent no sign-in code. Start the sign-in again.", restart))

    const previous = await currentSession(surface, request)
    const exit = await runtime.runPromiseExit(
      Effect.gen(function*() {
        const signedIn = yield* completeSignIn({ code, codeVerifier: attempt.value.codeVerifier, redirectUri: `${baseUrlOf(surface, request)}${CALLBACK_PATH}` })
        const sessions = yield* Sessions
        // A fresh session id on every sign-in (no fixation); the one this browser had ends.
        if (Option.isSome(previous)) yield* sessions.end(previous.value.sessionId)
        return yield* sessions.start(signedIn.user.id)
      })
    )
    if (Exit.isFailure(exit)) return failurePage(surface, request, reply, exit.cause, "sign you in with GitHub")
    setSessionCookie(surface, request, reply, exit.value.token)
    return reply.redirect(attempt.value.returnTo, 303)
  })

  scope.post("/auth/signout", async (request, reply) => {
    const session = await currentSession(surface, request)
    if (Option.isNone(session)) return reply.redirect("/", 303)
    if (!csrfCheckPasses(surface, request, session.value.sessionId)) {
      return sendPage(reply, 403, messagePage("Form expired", "This form is not from this session (CSRF check failed). Reload the dashboard and try again."))
    }
    await runtime.runPromise(Sessions.use((sessions) => sessions.end(session.value.sessionId)))
    clearSessionCookie(surface, request, reply)
    reply.clearCookie(CSRF_COOKIE, { path: "/" })
    return reply.redirect("/", 303)
  })

  scope.get("/auth/githubapp/install", async (request, reply) => {
    const session = await currentSession(surface, request)
    if (Option.isNone(session)) return redirectToSignIn(reply, "/auth/githubapp/install")
    return Option.match(surface.installUrl(), {
      onNone: () => sendPage(reply, 503, messagePage("App install page unknown", "GITHUB_APP_SLUG is not set, so there is no install page to send you to. Ask the operator to set it.")),
      onSome: (url) => reply.redirect(url, 302)
    })
  })

  scope.get("/auth/githubapp/callback", async (request, reply) => {
    const query = request.query as Query
    if (query["setup_action"] === "request") {
      return sendPage(reply, 200, messagePage("Installation requested", "An owner of the organization has to approve the installation on GitHub; it appears here once they have."))
    }
    const raw = query["installation_id"]
    if (raw === undefined || !/^[1-9][0-9]{0,15}$/.test(raw)) {
      return sendPage(reply, 400, messagePage("No installation", "GitHub did not say which installation this is (installation_id is missing). Install the App from the dashboard."))
    }
    const session = await currentSession(surface, request)
    if (Option.isNone(session)) return redirectToSignIn(reply, request.url)
    const exit = await runtime.runPromiseExit(confirmInstallation(session.value.user.id, Number(raw)))
    if (Exit.isSuccess(exit)) return reply.redirect(`/dashboard?installed=${exit.value.installation.id}`, 303)
    const error = Cause.squash(exit.cause) as { readonly _tag?: string }
    if (error?._tag === "GitHubSignInRequired") return redirectToSignIn(reply, request.url)
    return failurePage(surface, request, reply, exit.cause, "confirm the GitHub App installation")
  })
}
