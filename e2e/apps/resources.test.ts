/**
 * Resource wiring through stored state only: an App waits (WaitingForResources) until each
 * Resource it names is Ready with credentials, then gets <NAME>_DATABASE_URL / _DATABASE_AUTH_TOKEN
 * per resource and the unprefixed names for the first one; a credentials rotation (version bump) deploys once more
 * with the new token. The Resource controller is not running here: the test plays its part by
 * writing the Resource's status and credentials as it would.
 */
import assert from "node:assert/strict"
import { describe, test } from "node:test"
import { Effect } from "effect"
import { writeStatus } from "../../controllers/engine/conditions.ts"
import { createObject } from "../../src/desired/write.ts"
import { CredentialStore, type ResourceCredentials } from "../../src/store/credentials.ts"
import { ObjectStore, type StoredObject } from "../../src/store/objects.ts"
import type { CoolifyFake } from "../fakes/coolify/index.ts"
import {
  conditionOf,
  coolifyAppsOf,
  createApp,
  deploymentsOf,
  findApp,
  reconcileAgain,
  updateApp,
  waitForApp,
  waitForReady,
  type AppEngine,
  useAppTestbed
} from "./support.ts"

let fake: CoolifyFake
let engine: AppEngine
let owner: string
useAppTestbed({ login: "apps-resources" }, (testbed) => ({ fake, engine, owner } = testbed))

const createResource = (name: string) =>
  engine.runtime.runPromise(createObject(owner, { kind: "Resource", name, spec: { type: "sqlite" } }))

/** What the Resource controller does when a database is ready: credentials sealed, Ready=True. */
const publish = (name: string, credentials: ResourceCredentials) =>
  engine.runtime.runPromise(
    Effect.gen(function*() {
      const store = yield* ObjectStore
      const resource = (yield* store.get(owner, { kind: "Resource", name })) as StoredObject<"Resource">
      const stored = yield* CredentialStore.use((credentialStore) => credentialStore.put(owner, resource.metadata.uid, credentials))
      yield* writeStatus(resource, (status) => ({ ...status, url: credentials.url, credentialsVersion: stored.version }), {
        conditions: [{ type: "Ready", status: "True", reason: "Available", message: "ready" }]
      })
      return stored.version
    })
  )

const envsOf = (name: string) => {
  const [app] = coolifyAppsOf(fake, owner, name)
  assert.ok(app, `Coolify app for ${name}`)
  return Object.fromEntries(app.envs.filter((env) => !env.is_preview).map((env) => [env.key, env.value]))
}

describe("App controller: resources", () => {
  test("waits for its resource, injects DATABASE_URL and the token, and redeploys once on rotation", async () => {
    await createResource("db")
    const app = await createApp(engine.runtime, owner, "with-db", { repo: "acme/with-db", resourceRefs: ["db"], env: { MODE: "prod" } })
    const waiting = await waitForApp(engine.runtime, owner, "with-db", (object) => conditionOf(object, "Deployed")?.reason === "WaitingForResources", "WaitingForResources")
    assert.match(conditionOf(waiting, "Deployed")?.message ?? "", /Resource "db" is not ready yet/)
    assert.equal(coolifyAppsOf(fake, owner, "with-db").length, 0, "nothing is created before its resources are ready")

    assert.equal(await publish("db", { url: "libsql://db-acme.turso.io", authToken: "token-1" }), 1)
    const ready = await waitForReady(engine.runtime, owner, "with-db")
    assert.deepEqual(ready.status.latestDeployment?.resourceCredentials, { db: 1 })
    assert.deepEqual(envsOf("with-db"), {
      MODE: "prod",
      DATABASE_URL: "libsql://db-acme.turso.io",
      DATABASE_AUTH_TOKEN: "token-1",
      DB_DATABASE_URL: "libsql://db-acme.turso.io",
      DB_DATABASE_AUTH_TOKEN: "token-1"
    })

    assert.equal(await publish("db", { url: "libsql://db-acme.turso.io", authToken: "token-2" }), 2)
    // The Resource controller wakes dependants after a rotation; here the test does.
    await reconcileAgain(engine, owner, app.metadata.uid)
    await waitForApp(engine.runtime, owner, "with-db", (object) => object.status.latestDeployment?.resourceCredentials?.["db"] === 2 && object.status.latestDeployment.state === "finished", "rotation deployed")
    assert.equal(envsOf("with-db")["DATABASE_AUTH_TOKEN"], "token-2")
    const [coolifyApp] = coolifyAppsOf(fake, owner, "with-db")
    assert.equal(deploymentsOf(fake, coolifyApp).length, 2)
    // Nothing changed since: another reconcile deploys nothing.
    await reconcileAgain(engine, owner, app.metadata.uid)
    assert.equal(deploymentsOf(fake, coolifyApp).length, 2)
  })

  test("adding a second resource leaves the first one's DATABASE_URL where it was", async () => {
    await createResource("orders")
    await createResource("events-db")
    await publish("orders", { url: "libsql://orders.example", authToken: "o" })
    await publish("events-db", { url: "file:/data/events.db" })
    await createApp(engine.runtime, owner, "grows", { repo: "acme/grows", resourceRefs: ["orders"] })
    await waitForReady(engine.runtime, owner, "grows")
    const before = envsOf("grows")
    assert.equal(before["DATABASE_URL"], "libsql://orders.example")

    await updateApp(engine.runtime, owner, "grows", (spec) => ({ ...spec, resourceRefs: [...spec.resourceRefs, "events-db"] }))
    await waitForApp(engine.runtime, owner, "grows", (object) => object.status.latestDeployment?.resourceCredentials?.["events-db"] === 1 && object.status.latestDeployment.state === "finished", "the second resource deployed")
    const after = envsOf("grows")
    for (const [name, value] of Object.entries(before)) assert.equal(after[name], value, `${name} did not move`)
    assert.equal(after["EVENTS_DB_DATABASE_URL"], "file:/data/events.db")
    assert.equal(after["DATABASE_URL"], "libsql://orders.example")
  })

  test("several resources get prefixed names, the first also the plain ones; the spec's own env wins over injected values", async () => {
    await createResource("main-db")
    await createResource("cache")
    await publish("main-db", { url: "libsql://main.example", authToken: "m" })
    await publish("cache", { url: "file:/data/cache.db" })
    await createApp(engine.runtime, owner, "multi", { repo: "acme/multi", resourceRefs: ["main-db", "cache"], env: { CACHE_DATABASE_URL: "file:/override.db" } })
    const ready = await waitForReady(engine.runtime, owner, "multi")
    assert.deepEqual(ready.status.latestDeployment?.resourceCredentials, { "main-db": 1, cache: 1 })
    assert.deepEqual(envsOf("multi"), {
      DATABASE_URL: "libsql://main.example",
      DATABASE_AUTH_TOKEN: "m",
      MAIN_DB_DATABASE_URL: "libsql://main.example",
      MAIN_DB_DATABASE_AUTH_TOKEN: "m",
      CACHE_DATABASE_URL: "file:/override.db"
    })
  })

  test("a resource that does not exist is named in the message", async () => {
    await createApp(engine.runtime, owner, "orphan-ref", { repo: "acme/x", resourceRefs: ["nope"] })
    const waiting = await waitForApp(engine.runtime, owner, "orphan-ref", (object) => conditionOf(object, "Deployed")?.reason === "WaitingForResources", "WaitingForResources")
    assert.match(conditionOf(waiting, "Deployed")?.message ?? "", /Resource "nope" does not exist in project "default"/)
    assert.equal(conditionOf(waiting, "Ready")?.reason, "WaitingForResources")
    const stored = await findApp(engine.runtime, owner, "orphan-ref")
    assert.equal(stored?.status.url, "https://orphan-ref.apps.test")
  })
})
