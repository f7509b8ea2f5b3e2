/** Layers over a test database: the real store on real PostgreSQL, with a fresh encryption key. */
import { randomBytes } from "node:crypto"
import { Effect, Layer, ManagedRuntime } from "effect"
import type pg from "pg"
import { SecretBox } from "../../src/crypto/secret-box.ts"
import { Database } from "../../src/db/database.ts"
import { EventStore } from "../../src/store/events.ts"
import { ObjectStore } from "../../src/store/objects.ts"
import { UserStore } from "../../src/store/users.ts"
import { CredentialStore } from "../../src/store/credentials.ts"

export const storeLayer = (pool: pg.Pool, key: Buffer = randomBytes(32)) => {
  const base = Layer.mergeAll(Database.fromPool(pool), SecretBox.layer(key))
  return Layer.mergeAll(ObjectStore.layer, EventStore.layer, UserStore.layer, CredentialStore.layer).pipe(Layer.provideMerge(base))
}

export type StoreServices = Layer.Success<ReturnType<typeof storeLayer>>

export const storeRuntime = (pool: pg.Pool, key?: Buffer) => ManagedRuntime.make(storeLayer(pool, key))

/** Run an effect to a promise, failing the test with the typed error when it fails. */
export const runWith =
  <R>(runtime: ManagedRuntime.ManagedRuntime<R, never>) =>
  <A, E>(effect: Effect.Effect<A, E, R>): Promise<A> =>
    runtime.runPromise(effect)
