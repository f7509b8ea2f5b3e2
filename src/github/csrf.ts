/**
 * CSRF protection for every dashboard form: a signed double-submit token bound to the session.
 * The token (random part + HMAC of session id and random part) is set as a cookie and repeated
 * in a hidden form field; a POST passes only when field and cookie match AND the MAC binds the
 * token to the current session — so a token planted by another site, or taken from another
 * session, is refused. The Origin header, when the browser sends one, must be this server.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto"
import type { FastifyReply, FastifyRequest } from "fastify"
import { baseUrlOf, cookieOptions } from "./browser.ts"
import type { GitHubSurface } from "./surface.ts"

export const CSRF_COOKIE = "dm_csrf"
export const CSRF_FIELD = "_csrf"

const mac = (key: Uint8Array, sessionId: string, nonce: string) => createHmac("sha256", key).update(`${sessionId}.${nonce}`).digest("base64url")

const equal = (a: string, b: string) => {
  const left = Buffer.from(a)
  const right = Buffer.from(b)
  return left.length === right.length && timingSafeEqual(left, right)
}

export const csrfTokenFor = (key: Uint8Array, sessionId: string): string => {
  const nonce = randomBytes(18).toString("base64url")
  return `${nonce}.${mac(key, sessionId, nonce)}`
}

export const csrfTokenMatchesSession = (key: Uint8Array, sessionId: string, token: string): boolean => {
  const [nonce, signature, ...rest] = token.split(".")
  return nonce !== undefined && signature !== undefined && rest.length === 0 && equal(signature, mac(key, sessionId, nonce))
}

/** The token to put in this page's forms: the cookie's when it belongs to this session, else a new one (and cookie). */
export const csrfTokenForPage = (surface: GitHubSurface, request: FastifyRequest, reply: FastifyReply, sessionId: string): string => {
  const existing = request.cookies[CSRF_COOKIE]
  if (existing !== undefined && csrfTokenMatchesSession(surface.keys.csrf, sessionId, existing)) return existing
  const token = csrfTokenFor(surface.keys.csrf, sessionId)
  reply.setCookie(CSRF_COOKIE, token, cookieOptions(surface, request, { path: "/", maxAgeSeconds: 24 * 60 * 60 }))
  return token
}

/** Whether a form POST carries this session's token in both the field and the cookie, from our own origin. */
export const csrfCheckPasses = (surface: GitHubSurface, request: FastifyRequest, sessionId: string): boolean => {
  const origin = request.headers.origin
  if (typeof origin === "string" && origin !== new URL(baseUrlOf(surface, request)).origin) return false
  const body = request.body as Record<string, unknown> | undefined
  const field = typeof body?.[CSRF_FIELD] === "string" ? (body[CSRF_FIELD] as string) : undefined
  const cookie = request.cookies[CSRF_COOKIE]
  return field !== undefined && cookie !== undefined && equal(field, cookie) && csrfTokenMatchesSession(surface.keys.csrf, sessionId, field)
}
