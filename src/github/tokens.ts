/**
 * Each user's GitHub OAuth token, sealed at rest (SecretBox, bound to the user id) with the scopes
 * GitHub granted. One token per user: the one the product acts with.
 */
import { Context, Effect, Layer, Option } from "effect"
import { SecretBox } from "../crypto/secret-box.ts"
import { Database, type DatabaseError } from "../db/database.ts"

export interface StoredGitHubToken {
  readonly token: string
  /** As GitHub granted them at sign-in (X-OAuth-Scopes / the token answer). */
  readonly scopes: ReadonlyArray<string>
}

interface TokenRow {
  sealed: Buffer
  scopes: Array<string>
}

/** Associated data: a sealed token copied onto another user's row does not open. */
const boundTo = (userId: string) => `github-user-token:${userId}`

export const hasRepoScope = (scopes: ReadonlyArray<string>): boolean => scopes.includes("repo")

export class GitHubTokenStore extends Context.Service<GitHubTokenStore, {
  /** None when the user never signed in with GitHub (or the token cannot be opened with our keys). */
  get(userId: string): Effect.Effect<Option.Option<StoredGitHubToken>, DatabaseError>
  /** Scopes only, without opening the token (for pages and whoami). */
  scopes(userId: string): Effect.Effect<Option.Option<ReadonlyArray<string>>, DatabaseError>
  save(userId: string, token: StoredGitHubToken): Effect.Effect<void, DatabaseError>
}>()("deploy-mcp/github/GitHubTokenStore") {
  static readonly layer = Layer.effect(
    GitHubTokenStore,
    Effect.gen(function*() {
      const db = yield* Database
      const box = yield* SecretBox
      return GitHubTokenStore.of({
        get: (userId) =>
          db.query<TokenRow>(`SELECT sealed, scopes FROM github_user_tokens WHERE user_id = $1`, [userId]).pipe(
            Effect.map((result) =>
              Option.flatMap(Option.fromNullishOr(result.rows[0]), (row) => {
                try {
                  return Option.some({ token: box.open(row.sealed, boundTo(userId)), scopes: row.scopes })
                } catch {
                  // Sealed with a key we no longer have: the user signs in again, which replaces it.
                  return Option.none()
                }
              })
            )
          ),
        scopes: (userId) =>
          db
            .query<{ scopes: Array<string> }>(`SELECT scopes FROM github_user_tokens WHERE user_id = $1`, [userId])
            .pipe(Effect.map((result) => Option.map(Option.fromNullishOr(result.rows[0]), (row) => row.scopes))),
        save: (userId, token) =>
          db
            .query(
              `INSERT INTO github_user_tokens (user_id, sealed, scopes) VALUES ($1, $2, $3)
               ON CONFLICT (user_id) DO UPDATE SET sealed = EXCLUDED.sealed, scopes = EXCLUDED.scopes, updated_at = now()`,
              [userId, box.seal(token.token, boundTo(userId)), [...token.scopes]]
            )
            .pipe(Effect.asVoid)
      })
    })
  )
}
