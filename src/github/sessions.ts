/**
 * Dashboard sessions: the cookie holds a jose-signed JWT (HS256, issuer/audience checked, expiry)
 * that names a row in `sessions`. The signature keeps forged cookies out without a database
 * read; the row makes sign-out final.
 */
import { randomUUID } from "node:crypto"
import { Context, Effect, Layer, Option } from "effect"
import { SignJWT, jwtVerify } from "jose"
import { Database, type DatabaseError } from "../db/database.ts"
import type { User } from "../store/users.ts"

export const SESSION_COOKIE = "dm_session"
export const SESSION_TTL_SECONDS = 7 * 24 * 60 * 60

const ISSUER = "deploy-mcp"
const AUDIENCE = "deploy-mcp/session"

export interface StartedSession {
  readonly sessionId: string
  /** The cookie value. */
  readonly token: string
  readonly expiresAt: Date
}

export interface ActiveSession {
  readonly sessionId: string
  readonly user: User
}

interface SessionRow {
  id: string
  user_id: string
  login: string
  github_id: string | null
  created_at: Date
}

/** Reads the session id and user id from a cookie value; None for anything not signed by us or expired. */
const verifySessionToken = (token: string, key: Uint8Array) =>
  Effect.promise(() =>
    jwtVerify(token, key, { issuer: ISSUER, audience: AUDIENCE, algorithms: ["HS256"] }).then(
      ({ payload }) =>
        typeof payload.sub === "string" && typeof payload.jti === "string" ? Option.some({ userId: payload.sub, sessionId: payload.jti }) : Option.none(),
      () => Option.none<{ userId: string; sessionId: string }>()
    )
  )

export class Sessions extends Context.Service<Sessions, {
  start(userId: string): Effect.Effect<StartedSession, DatabaseError>
  /** The signed-in user for a cookie value, if the session is valid, unexpired and not ended. */
  resolve(token: string | undefined): Effect.Effect<Option.Option<ActiveSession>, DatabaseError>
  end(sessionId: string): Effect.Effect<void, DatabaseError>
}>()("deploy-mcp/github/Sessions") {
  static readonly layer = (key: Uint8Array) =>
    Layer.effect(
      Sessions,
      Effect.gen(function*() {
        const db = yield* Database
        return Sessions.of({
          start: (userId) =>
            Effect.gen(function*() {
              const sessionId = randomUUID()
              const expiresAt = new Date(Math.floor(Date.now() / 1000) * 1000 + SESSION_TTL_SECONDS * 1000)
              yield* db.query(`INSERT INTO sessions (id, user_id, expires_at) VALUES ($1, $2, $3)`, [sessionId, userId, expiresAt])
              const token = yield* Effect.promise(() =>
                new SignJWT({})
                  .setProtectedHeader({ alg: "HS256", typ: "JWT" })
                  .setIssuer(ISSUER)
                  .setAudience(AUDIENCE)
                  .setSubject(userId)
                  .setJti(sessionId)
                  .setIssuedAt()
                  .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
                  .sign(key)
              )
              return { sessionId, token, expiresAt }
            }),
          resolve: (token) =>
            token === undefined || token === ""
              ? Effect.succeed(Option.none())
              : verifySessionToken(token, key).pipe(
                  Effect.flatMap(
                    Option.match({
                      onNone: () => Effect.succeed(Option.none<ActiveSession>()),
                      onSome: (claims) =>
                        db
                          .query<SessionRow>(
                            `SELECT s.id, s.user_id, u.login, u.github_id, u.created_at FROM sessions s JOIN users u ON u.id = s.user_id
                              WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL AND s.expires_at > now()`,
                            [claims.sessionId, claims.userId]
                          )
                          .pipe(
                            Effect.map((result) =>
                              Option.map(Option.fromNullishOr(result.rows[0]), (row) => ({
                                sessionId: row.id,
                                user: {
                                  id: row.user_id,
                                  login: row.login,
                                  githubId: row.github_id === null ? null : Number(row.github_id),
                                  createdAt: row.created_at.toISOString()
                                }
                              }))
                            )
                          )
                    })
                  )
                ),
          end: (sessionId) => db.query(`UPDATE sessions SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1`, [sessionId]).pipe(Effect.asVoid)
        })
      })
    )
}
