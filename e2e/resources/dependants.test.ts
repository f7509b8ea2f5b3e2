/**
 * Apps that use a Resource are woken when it becomes Ready and when its credentials rotate, so the
 * App controller redeploys with the new token at once instead of at its next resync. A stand-in App
 * controller records its reconciles; the real one decides what to do with them.
 */
import assert from "node:assert/strict"
import { after, before, describe, test } from "node:test"
import { Effect } from "effect"
import type { Controller } from "../../controllers/engine/controller.ts"
import { Done } from "../../controllers/engine/result.ts"
import { createObject, updateObjectSpec } from "../../src/desired/write.ts"
import type { AppSpec } from "../../schemas/index.ts"
import { startTursoFake, type TursoFake } from "../fakes/turso/index.ts"
import { startEngine } from "../support/engine.ts"
import { createTestDatabase, type TestDatabase } from "../support/postgres.ts"
import { waitFor } from "../support/wait.ts"
import { ensureUser, newKey, run, startResourceEngine, storedCredentials, waitForReady } from "./support.ts"

let db: TestDatabase
let fake: TursoFake
let writer: Awaited<ReturnType<typeof startEngine>>
let engine: Awaited<ReturnType<typeof startResourceEngine>>
let owner: string
const appReconciles: Array<{ readonly name: string; readonly at: number }> = []

const recordingAppController: Controller<"App", never, never> = {
  kind: "App",
  reconcile: (app) => Effect.sync(() => appReconciles.push({ name: app.metadata.name, at: Date.now() })).pipe(Effect.as(Done))
}

const appSpec = (resourceRefs: Array<string>): AppSpec => ({
  repo: "octocat/web",
  branch: "main",
  revision: null,
  buildPack: "nixpacks",
  runtimeMode: "persistent",
  env: {},
  resourceRefs,
  redeployNonce: 0
})

const reconcilesOf = (name: string) => appReconciles.filter((entry) => entry.name === name).length

before(async () => {
  db = await createTestDatabase()
  fake = await startTursoFake({ org: "acme" })
  const key = newKey()
  writer = await startEngine({ url: db.url, key, queue: { max: 2 } }, [])
  owner = await ensureUser(writer.runtime, "dependants")
  engine = await startResourceEngine({
    databaseUrl: db.url,
    key,
    provider: { turso: { url: fake.url, token: fake.token } },
    extraControllers: [recordingAppController]
  })
})
after(async () => {
  await engine?.dispose()
  await writer?.dispose()
  await fake?.close()
  await db?.drop()
})

describe("Apps that use a Resource", () => {
  test("are woken when it becomes Ready and again when its credentials rotate; other apps are left alone", async () => {
    await run(writer.runtime, createObject(owner, { kind: "App", name: "web", spec: appSpec(["orders-db"]) }))
    await run(writer.runtime, createObject(owner, { kind: "App", name: "unrelated", spec: appSpec([]) }))
    await waitFor(() => reconcilesOf("web") >= 1 && reconcilesOf("unrelated") >= 1, { what: "the apps' first reconciles" })

    await run(writer.runtime, createObject(owner, { kind: "Resource", name: "orders-db", spec: { type: "sqlite" } }))
    const ready = await waitForReady(writer.runtime, owner, "orders-db")
    await waitFor(() => reconcilesOf("web") >= 2, { what: "web to be woken by Ready" })

    const first = await storedCredentials(writer.runtime, owner, ready.metadata.uid)
    await run(writer.runtime, updateObjectSpec(owner, { kind: "Resource", name: "orders-db" }, (spec) => ({ ...spec, rotationNonce: 1 })))
    await waitForReady(writer.runtime, owner, "orders-db", { credentialsVersion: (first?.version ?? 0) + 1 })
    await waitFor(() => reconcilesOf("web") >= 3, { what: "web to be woken by the rotation" })

    assert.equal(reconcilesOf("unrelated"), 1, "an app that does not use the resource is not woken")
  })
})
