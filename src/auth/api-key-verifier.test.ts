import { after, before, test } from "node:test"
import assert from "node:assert/strict"
import { Effect, Layer, ManagedRuntime, Option } from "effect"
import { createTestDatabase, type TestDatabase } from "../../e2e/support/postgres.ts"
import { storeLayer } from "../../e2e/support/layers.ts"
import { waitFor } from "../../e2e/support/wait.ts"
import { makeLogger } from "../log/logger.ts"
import { AppLogger } from "../log/service.ts"
import { PgListener } from "../db/pg-listener.ts"
import { UserStore } from "../store/users.ts"
import { ApiKeyStore } from "./api-key-store.ts"
import { ApiKeyVerifier, type VerifierOptions } from "./api-key-verifier.ts"

let db: TestDatabase
before(async () => {
  db = await createTestDatabase()
})
after(async () => {
  await db?.drop()
})

/** The verifier over the real store, with the store's lookups counted. */
const verifierRuntime = (options: VerifierOptions) => {
  const lookups = { count: 0 }
  const base = Layer.mergeAll(storeLayer(db.pool), AppLogger.layer(makeLogger({ level: "silent" })))
  const counted = Layer.effect(
    ApiKeyStore,
    Effect.gen(function*() {
      const real = yield* ApiKeyStore
      return ApiKeyStore.of({ ...real, findActive: (prefix) => Effect.sync(() => lookups.count++).pipe(Effect.andThen(real.findActive(prefix))) })
    })
  ).pipe(Layer.provide(ApiKeyStore.layer))
  const layer = ApiKeyVerifier.layer(options).pipe(Layer.provideMerge(Layer.mergeAll(counted, PgListener.layer)), Layer.provideMerge(base))
  return { runtime: ManagedRuntime.make(layer), lookups }
}

const newKey = (runtime: ManagedRuntime.ManagedRuntime<ApiKeyStore | UserStore, unknown>, login: string) =>
  runtime.runPromise(
    Effect.gen(function*() {
      const user = yield* (yield* UserStore).ensure(login)
      return yield* (yield* ApiKeyStore).create(user.id)
    })
  )

test("a verified key is served from memory; concurrent first uses share one lookup; wrong keys never match", async () => {
  const { runtime, lookups } = verifierRuntime({ ttlMillis: 600_000 })
  try {
    const created = await newKey(runtime, "cache")
    const verify = (key: string) => runtime.runPromise(ApiKeyVerifier.use((verifier) => verifier.verify(key)))
    const results = await Promise.all(Array.from({ length: 20 }, () => verify(created.key)))
    assert.ok(results.every((result) => Option.isSome(result) && result.value.login === "cache" && result.value.keyPrefix === created.prefix))
    assert.equal(lookups.count, 1)
    await verify(created.key)
    assert.equal(lookups.count, 1, "cached")
    assert.ok(Option.isNone(await verify(created.key.slice(0, -1) + (created.key.endsWith("A") ? "B" : "A"))), "same prefix, other key")
    assert.ok(Option.isNone(await verify("dk_live_short")))
  } finally {
    await runtime.dispose()
  }
})

test("after the TTL a key is re-checked against the database, not trusted", async () => {
  const { runtime, lookups } = verifierRuntime({ ttlMillis: 1 })
  try {
    const created = await newKey(runtime, "expiry")
    const verify = () => runtime.runPromise(ApiKeyVerifier.use((verifier) => verifier.verify(created.key)))
    assert.ok(Option.isSome(await verify()))
    await waitFor(async () => {
      assert.ok(Option.isSome(await verify()))
      return lookups.count >= 2
    }, { what: "a re-check after expiry" })
  } finally {
    await runtime.dispose()
  }
})

test("revocation reaches the cache by NOTIFY, long before the TTL, and tells listeners", async () => {
  const { runtime } = verifierRuntime({ ttlMillis: 600_000 })
  try {
    const created = await newKey(runtime, "revoked")
    const revokedIds: Array<string> = []
    const verifier = await runtime.runPromise(ApiKeyVerifier.use(Effect.succeed))
    verifier.onRevoked((keyId) => revokedIds.push(keyId))
    assert.ok(Option.isSome(await runtime.runPromise(verifier.verify(created.key))))
    await runtime.runPromise(ApiKeyStore.use((keys) => keys.revoke(created.prefix)))
    await waitFor(async () => Option.isNone(await runtime.runPromise(verifier.verify(created.key))), { what: "the revoked key to stop verifying" })
    assert.deepEqual(revokedIds, [created.id])
  } finally {
    await runtime.dispose()
  }
})
