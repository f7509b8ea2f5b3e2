/**
 * The push handler with a counting ReconcileQueue: however many deliveries of the same push (or
 * of the same SHA under different delivery ids) race, exactly one enqueue of the App is made —
 * the enqueue happens only when the write changed the spec, in the same transaction.
 */
import assert from "node:assert/strict"
import { randomUUID } from "node:crypto"
import { after, before, describe, test } from "node:test"
import { Effect, Layer, ManagedRuntime } from "effect"
import type { PgBoss } from "pg-boss"
import { ReconcileQueue, type JobData, type QueueKind } from "../../controllers/engine/queue.ts"
import { GitHubInstallations } from "../../src/github/installations.ts"
import { handleGitHubWebhook } from "../../src/github/webhook-handler.ts"
import { createObject } from "../../src/desired/write.ts"
import { AppLogger } from "../../src/log/service.ts"
import { makeLogger } from "../../src/log/logger.ts"
import { ObjectStore } from "../../src/store/objects.ts"
import { UserStore } from "../../src/store/users.ts"
import { pushEvent, randomSha } from "../fakes/github/index.ts"
import { storeLayer } from "../support/layers.ts"
import { createTestDatabase, type TestDatabase } from "../support/postgres.ts"
import { appSpec } from "./support.ts"

describe("push → enqueue", () => {
  let db: TestDatabase
  const enqueued: Array<{ kind: QueueKind; key: JobData }> = []
  const countingQueue = Layer.succeed(
    ReconcileQueue,
    ReconcileQueue.of({
      boss: {} as PgBoss,
      options: { schema: "pgboss", heartbeatSeconds: 10, monitorIntervalSeconds: 2, retryDelayMaxSeconds: 300 },
      ensureQueue: () => Effect.void,
      enqueue: (kind, key) => Effect.sync(() => void enqueued.push({ kind, key })),
      enqueueAfter: () => Effect.void
    })
  )
  let runtime: ManagedRuntime.ManagedRuntime<Layer.Success<ReturnType<typeof storeLayer>> | ReconcileQueue | AppLogger | GitHubInstallations, unknown>

  before(async () => {
    db = await createTestDatabase()
    const stores = storeLayer(db.pool)
    runtime = ManagedRuntime.make(
      Layer.mergeAll(countingQueue, AppLogger.layer(makeLogger({ level: "silent" })), GitHubInstallations.layer.pipe(Layer.provide(stores))).pipe(Layer.provideMerge(stores))
    )
  })
  after(async () => {
    await runtime.dispose()
    await db.drop()
  })

  const deliver = (sha: string, id: string = randomUUID()) =>
    runtime.runPromise(handleGitHubWebhook({ id, event: "push", payload: pushEvent({ repoFullName: "alice/site", ref: "main", after: sha }) }))

  test("100 concurrent deliveries of one push and 100 delivery ids of one SHA: one enqueue each", async () => {
    const owner = (await runtime.runPromise(UserStore.use((users) => users.upsertGitHub(1, "alice")))).id
    const app = await runtime.runPromise(createObject(owner, { kind: "App", name: "site", spec: appSpec("alice/site") }))
    enqueued.length = 0

    const sha = randomSha()
    const deliveryId = randomUUID()
    await Promise.all(Array.from({ length: 100 }, () => deliver(sha, deliveryId)))
    assert.deepEqual(enqueued, [{ kind: "App", key: { owner, uid: app.metadata.uid } }])

    const next = randomSha()
    await Promise.all(Array.from({ length: 100 }, () => deliver(next)))
    assert.equal(enqueued.length, 2)
    const stored = await runtime.runPromise(ObjectStore.use((store) => store.get(owner, { kind: "App", name: "site" })))
    assert.equal(stored.metadata.generation, app.metadata.generation + 2)
    assert.equal(stored.spec.revision, next)
  })
})
