/**
 * Making sure a Resource's stored credentials open the database that exists right now, and that a
 * requested rotation revokes every earlier token. Credentials go only to the CredentialStore
 * (sealed at rest); the token never reaches status, events or logs.
 */
import { Effect, Option } from "effect"
import { registerSecret } from "../../src/log/logger.ts"
import { DatabaseProvider, type ProvisionedDatabase } from "../../src/providers/database/index.ts"
import { CredentialStore, type StoredCredentials } from "../../src/store/credentials.ts"
import type { StoredObject } from "../../src/store/objects.ts"

export interface CredentialsOutcome {
  readonly credentials: StoredCredentials
  /** The rotation nonce these credentials answer. */
  readonly rotationNonce: number
  /** True when earlier tokens were revoked because the spec asked for a rotation. */
  readonly rotated: boolean
}

export const wantedRotationNonce = (object: StoredObject<"Resource">) => object.spec.rotationNonce ?? 0

export const ensureCredentials = Effect.fn("ResourceController.ensureCredentials")(function*(
  object: StoredObject<"Resource">,
  database: ProvisionedDatabase,
  /** The database was created by this reconcile: no token for it exists anywhere yet. */
  createdNow: boolean
) {
  const provider = yield* DatabaseProvider
  const store = yield* CredentialStore
  const { owner, uid } = object.metadata
  const wanted = wantedRotationNonce(object)
  const rotationPending = wanted !== (object.status.appliedRotationNonce ?? 0)
  const stored = yield* store.get(owner, uid)

  const upToDate = Option.isSome(stored) && stored.value.url === database.url && !rotationPending && !createdNow
  if (Option.isSome(stored) && upToDate) return { credentials: stored.value, rotationNonce: wanted, rotated: false }

  // A database we did not just create may hold tokens nobody has any more (a mint whose answer was
  // lost in a crash) or that a rotation must revoke: revoke them all before minting the one we keep.
  if (!createdNow) yield* provider.rotate(database.externalName)
  const minted = yield* provider.mintToken(database.externalName)
  registerSecret(minted.authToken)
  const credentials = yield* store.put(owner, uid, {
    url: database.url,
    ...(minted.authToken === undefined ? {} : { authToken: minted.authToken })
  })
  return { credentials, rotationNonce: wanted, rotated: rotationPending && Option.isSome(stored) }
})
