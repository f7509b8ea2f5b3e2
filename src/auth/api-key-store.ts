/**
 * API keys in PostgreSQL: create (hash stored, key returned once), list, revoke, and the lookup
 * the verifier uses. Revoking fires NOTIFY api_key_changes (trigger in migrations/010) so every
 * replica drops the key from its cache at once.
 */
import { Context, Effect, Layer, Option } from "effect"
import { Database, type DatabaseError } from "../db/database.ts"
import { generateApiKey, hashApiKey } from "./api-key.ts"

export interface ApiKeyInfo {
  readonly id: string
  readonly prefix: string
  readonly userId: string
  readonly login: string
  readonly name: string | null
  readonly createdAt: string
  readonly lastUsedAt: string | null
  readonly revokedAt: string | null
}

export interface CreatedApiKey extends ApiKeyInfo {
  /** The whole key: shown to its owner once, never stored. */
  readonly key: string
}

/** What verification needs: the stored hash and whose key it is. */
export interface ActiveKey {
  readonly id: string
  readonly prefix: string
  readonly hash: string
  readonly userId: string
  readonly login: string
}

interface KeyRow {
  id: string
  prefix: string
  user_id: string
  login: string
  name: string | null
  hash: string
  created_at: Date
  last_used_at: Date | null
  revoked_at: Date | null
}

const toInfo = (row: KeyRow): ApiKeyInfo => ({
  id: row.id,
  prefix: row.prefix,
  userId: row.user_id,
  login: row.login,
  name: row.name,
  createdAt: row.created_at.toISOString(),
  lastUsedAt: row.last_used_at?.toISOString() ?? null,
  revokedAt: row.revoked_at?.toISOString() ?? null
})

const SELECT = `SELECT k.id, k.prefix, k.user_id, u.login, k.name, k.hash, k.created_at, k.last_used_at, k.revoked_at
                  FROM api_keys k JOIN users u ON u.id = k.user_id`

export class ApiKeyStore extends Context.Service<ApiKeyStore, {
  /** Mints a key for the user; the result is the only place the whole key ever appears. */
  create(userId: string, name?: string): Effect.Effect<CreatedApiKey, DatabaseError>
  /** Keys of one user, or of everyone (operator CLI) when userId is null; newest first. */
  list(userId: string | null): Effect.Effect<ReadonlyArray<ApiKeyInfo>, DatabaseError>
  /** Revokes the key with this prefix (idempotent); None when there is no such key. */
  revoke(prefix: string): Effect.Effect<Option.Option<ApiKeyInfo>, DatabaseError>
  /** The unrevoked key with this prefix, for verification. */
  findActive(prefix: string): Effect.Effect<Option.Option<ActiveKey>, DatabaseError>
  /** Records use; callers throttle it (it is a write). */
  touch(id: string): Effect.Effect<void, DatabaseError>
}>()("deploy-mcp/auth/ApiKeyStore") {
  static readonly layer = Layer.effect(
    ApiKeyStore,
    Effect.gen(function*() {
      const db = yield* Database

      const insert = (userId: string, name: string | undefined) =>
        Effect.gen(function*() {
          const fresh = generateApiKey()
          const hash = yield* Effect.promise(() => hashApiKey(fresh.key))
          const result = yield* db.query<KeyRow>(
            `WITH k AS (
               INSERT INTO api_keys (user_id, prefix, hash, name) VALUES ($1, $2, $3, $4)
               RETURNING id, prefix, user_id, name, hash, created_at, last_used_at, revoked_at
             ) SELECT k.*, u.login FROM k JOIN users u ON u.id = k.user_id`,
            [userId, fresh.prefix, hash, name ?? null]
          )
          return { ...toInfo(result.rows[0] as KeyRow), key: fresh.key }
        })

      // Two keys sharing an 8-character prefix (1 in 62^8) would make the prefix ambiguous for
      // revoke; the unique index refuses the second, and a fresh key is drawn.
      const create = (userId: string, name?: string) =>
        insert(userId, name).pipe(
          Effect.retry({ while: (error) => error.code === "23505" && error.constraint === "api_keys_prefix_key", times: 3 })
        )

      const list = (userId: string | null) =>
        db
          .query<KeyRow>(`${SELECT} WHERE ($1::uuid IS NULL OR k.user_id = $1) ORDER BY k.created_at DESC, k.prefix`, [userId])
          .pipe(Effect.map((result) => result.rows.map(toInfo)))

      const revoke = (prefix: string) =>
        db
          .query<KeyRow>(
            `WITH k AS (
               UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE prefix = $1
               RETURNING id, prefix, user_id, name, hash, created_at, last_used_at, revoked_at
             ) SELECT k.*, u.login FROM k JOIN users u ON u.id = k.user_id`,
            [prefix]
          )
          .pipe(Effect.map((result) => Option.map(Option.fromNullishOr(result.rows[0]), toInfo)))

      const findActive = (prefix: string) =>
        db
          .query<KeyRow>(`${SELECT} WHERE k.prefix = $1 AND k.revoked_at IS NULL`, [prefix])
          .pipe(
            Effect.map((result) =>
              Option.map(Option.fromNullishOr(result.rows[0]), (row) => ({
                id: row.id,
                prefix: row.prefix,
                hash: row.hash,
                userId: row.user_id,
                login: row.login
              }))
            )
          )

      const touch = (id: string) => db.query(`UPDATE api_keys SET last_used_at = now() WHERE id = $1`, [id]).pipe(Effect.asVoid)

      return ApiKeyStore.of({ create, list, revoke, findActive, touch })
    })
  )
}
