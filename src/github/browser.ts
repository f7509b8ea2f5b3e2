/**
 * Cookies and sessions of browser requests: where this server is reached, whether cookies must be
 * Secure, and who is signed in.
 */
import type { CookieSerializeOptions } from "@fastify/cookie"
import { Option } from "effect"
import type { FastifyReply, FastifyRequest } from "fastify"
import { SESSION_COOKIE, SESSION_TTL_SECONDS, Sessions, type ActiveSession } from "./sessions.ts"
import type { GitHubSurface } from "./surface.ts"

/**
 * PUBLIC_URL when set; otherwise what the browser used (fine for local use — GitHub still checks
 * redirect URIs against the App's registered callback URL).
 */
export const baseUrlOf = (surface: GitHubSurface, request: FastifyRequest): string =>
  (surface.context.config.PUBLIC_URL ?? `${request.protocol}://${request.host}`).replace(/\/+$/, "")

/** Secure cookies when the server is reached over https. */
export const isSecure = (surface: GitHubSurface, request: FastifyRequest): boolean => baseUrlOf(surface, request).startsWith("https://")

export const cookieOptions = (surface: GitHubSurface, request: FastifyRequest, options: { readonly path: string; readonly maxAgeSeconds: number }): CookieSerializeOptions => ({
  path: options.path,
  httpOnly: true,
  sameSite: "lax",
  secure: isSecure(surface, request),
  maxAge: options.maxAgeSeconds
})

export const setSessionCookie = (surface: GitHubSurface, request: FastifyRequest, reply: FastifyReply, token: string) =>
  reply.setCookie(SESSION_COOKIE, token, cookieOptions(surface, request, { path: "/", maxAgeSeconds: SESSION_TTL_SECONDS }))

export const clearSessionCookie = (surface: GitHubSurface, request: FastifyRequest, reply: FastifyReply) =>
  reply.clearCookie(SESSION_COOKIE, { path: "/", httpOnly: true, sameSite: "lax", secure: isSecure(surface, request) })

export const currentSession = (surface: GitHubSurface, request: FastifyRequest): Promise<Option.Option<ActiveSession>> =>
  surface.runtime.runPromise(Sessions.use((sessions) => sessions.resolve(request.cookies[SESSION_COOKIE])))

/** A 303 to the sign-in, coming back here afterwards. */
export const redirectToSignIn = (reply: FastifyReply, returnTo: string) =>
  reply.redirect(`/auth/github?return_to=${encodeURIComponent(returnTo)}`, 303)
