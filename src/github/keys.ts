/**
 * Keys for browser-facing tokens, derived from SESSION_SECRET with HKDF: one per purpose, so a
 * session JWT can never pass as an OAuth-state cookie or a CSRF token, and the other way round.
 */
import { hkdfSync, randomBytes } from "node:crypto"

export interface BrowserKeys {
  /** Signs session cookies (jose HS256). */
  readonly session: Uint8Array
  /** Signs the short-lived cookie that binds an OAuth sign-in to the browser that started it. */
  readonly oauthState: Uint8Array
  /** MACs CSRF tokens to the session they belong to. */
  readonly csrf: Uint8Array
}

const derive = (secret: string, purpose: string): Uint8Array =>
  new Uint8Array(hkdfSync("sha256", Buffer.from(secret, "utf8"), Buffer.alloc(0), Buffer.from(`deploy-mcp/${purpose}`), 32))

export const deriveBrowserKeys = (secret: string): BrowserKeys => ({
  session: derive(secret, "session"),
  oauthState: derive(secret, "oauth-state"),
  csrf: derive(secret, "csrf")
})

/**
 * Without SESSION_SECRET a random secret is used: sessions then end when the process restarts and
 * are not shared between replicas. The caller logs that.
 */
export const ephemeralSessionSecret = (): string => randomBytes(32).toString("hex")
