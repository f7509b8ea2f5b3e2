/**
 * One GitHub sign-in attempt, bound to the browser that started it: the `state` GitHub echoes
 * back and the PKCE verifier live in a short-lived signed HttpOnly cookie, so a callback is only
 * accepted in the browser that began the sign-in (no login CSRF), and a stolen code is useless
 * without the verifier.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto"
import { Option } from "effect"
import { SignJWT, jwtVerify } from "jose"

export const OAUTH_COOKIE = "dm_oauth"
/** The cookie is sent only to the sign-in routes. */
export const OAUTH_COOKIE_PATH = "/auth/github"
export const OAUTH_ATTEMPT_TTL_SECONDS = 10 * 60

const ISSUER = "deploy-mcp"
const AUDIENCE = "deploy-mcp/oauth-attempt"

export interface OAuthAttempt {
  readonly state: string
  readonly codeVerifier: string
  /** What was asked for: [] or ["repo"]. */
  readonly scopes: ReadonlyArray<string>
  /** A path on this server to land on afterwards. */
  readonly returnTo: string
}

export const newOAuthAttempt = (scopes: ReadonlyArray<string>, returnTo: string): OAuthAttempt => ({
  state: randomBytes(32).toString("base64url"),
  // RFC 7636: 43-128 characters from the unreserved set; 48 random bytes give 64.
  codeVerifier: randomBytes(48).toString("base64url"),
  scopes,
  returnTo
})

/** BASE64URL(SHA-256(verifier)), the S256 challenge. */
export const codeChallengeOf = (verifier: string): string => createHash("sha256").update(verifier).digest("base64url")

/** Only local paths: a return address must never send the browser to another site. */
export const safeReturnTo = (value: unknown, fallback = "/dashboard"): string =>
  typeof value === "string" && value.startsWith("/") && !value.startsWith("//") && !value.startsWith("/\\") && !/[\r\n]/.test(value) ? value : fallback

export const sealOAuthAttempt = (attempt: OAuthAttempt, key: Uint8Array): Promise<string> =>
  new SignJWT({ state: attempt.state, verifier: attempt.codeVerifier, scopes: [...attempt.scopes], returnTo: attempt.returnTo })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${OAUTH_ATTEMPT_TTL_SECONDS}s`)
    .sign(key)

export const openOAuthAttempt = async (token: string | undefined, key: Uint8Array): Promise<Option.Option<OAuthAttempt>> => {
  if (token === undefined || token === "") return Option.none()
  try {
    const { payload } = await jwtVerify(token, key, { issuer: ISSUER, audience: AUDIENCE, algorithms: ["HS256"] })
    const { state, verifier, scopes, returnTo } = payload
    if (typeof state !== "string" || typeof verifier !== "string" || !Array.isArray(scopes) || !scopes.every((scope) => typeof scope === "string")) {
      return Option.none()
    }
    return Option.some({ state, codeVerifier: verifier, scopes: scopes as Array<string>, returnTo: safeReturnTo(returnTo) })
  } catch {
    return Option.none()
  }
}

/** Constant-time comparison of the state GitHub echoed with the one in the cookie. */
export const sameState = (a: string, b: string): boolean => {
  const left = Buffer.from(a)
  const right = Buffer.from(b)
  return left.length === right.length && timingSafeEqual(left, right)
}
