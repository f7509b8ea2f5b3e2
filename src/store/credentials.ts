/**
 * Resource credentials (connection URL and auth token), sealed at rest with the SecretBox and bound
 * to their resource uid. Only the Resource controller writes them; the App controller reads them to
 * inject env vars; get_resource_details shows them to their owner. Nothing else ever sees them.
 */
import { Context, Effect, Layer, Option } from "effect"
import { SecretBox } from "../crypto/secret-box.ts"
import { Database, type DatabaseError } from "../db/database.ts"
import type { Owner } from "./objects.ts"

export interface ResourceCredentials {
  readonly url: string
  readonly authToken?: string
}

export interface StoredCredentials extends ResourceCredentials {
  readonly version: number
}

export class CredentialStore extends Context.Service<CredentialStore, {
  /** Stores new credentials; the version goes up only when they differ from the stored ones. */
  put(owner: Owner, resourceUid: string, credentials: ResourceCredentials): Effect.Effect<StoredCredentials, DatabaseError>
  get(owner: Owner, resourceUid: string): Effect.Effect<Option.Option<StoredCredentials>, DatabaseError>
  remove(owner: Owner, resourceUid: string): Effect.Effect<void, DatabaseError>
}>()("deploy-mcp/store/CredentialStore") {
  static readonly layer = Layer.effect(
    CredentialStore,
    Effect.gen(function*() {
      const db = yield* Database
      const box = yield* SecretBox
      const open = (resourceUid: string, sealed: Buffer) => JSON.parse(box.open(sealed, `credentials:${resourceUid}`)) as ResourceCredentials
      const get = (owner: Owner, resourceUid: string) =>
        db
          .query<{ version: number; sealed: Buffer }>(`SELECT version, sealed FROM resource_credentials WHERE owner = $1 AND resource_uid = $2`, [owner, resourceUid])
          .pipe(Effect.map((result) => Option.map(Option.fromNullishOr(result.rows[0]), (row) => ({ ...open(resourceUid, row.sealed), version: row.version }))))
      const put = (owner: Owner, resourceUid: string, credentials: ResourceCredentials) =>
        db.transaction(
          Effect.gen(function*() {
            const current = yield* get(owner, resourceUid)
            const same = Option.isSome(current) && current.value.url === credentials.url && current.value.authToken === credentials.authToken
            if (Option.isSome(current) && same) return current.value
            const sealed = box.seal(JSON.stringify({ url: credentials.url, ...(credentials.authToken ? { authToken: credentials.authToken } : {}) }), `credentials:${resourceUid}`)
            const result = yield* db.query<{ version: number }>(
              `INSERT INTO resource_credentials (resource_uid, owner, sealed)
               SELECT uid, owner, $3 FROM objects WHERE owner = $1 AND uid = $2
               ON CONFLICT (resource_uid) DO UPDATE SET sealed = EXCLUDED.sealed, version = resource_credentials.version + 1, updated_at = now()
               RETURNING version`,
              [owner, resourceUid, sealed]
            )
            return { ...credentials, version: result.rows[0]?.version ?? 0 }
          })
        )
      const remove = (owner: Owner, resourceUid: string) =>
        db.query(`DELETE FROM resource_credentials WHERE owner = $1 AND resource_uid = $2`, [owner, resourceUid]).pipe(Effect.asVoid)
      return CredentialStore.of({ put, get, remove })
    })
  )
}
