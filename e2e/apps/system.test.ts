/**
 * The App controller as the real server runs it (startSystem → controllers/registry.ts): without
 * COOLIFY_URL/COOLIFY_TOKEN every App says ProviderNotConfigured naming them, and nothing
 * crashes; with them, an App goes Ready against the Coolify fake, and get_app_details' log hook
 * reads Coolify.
 */
import assert from "node:assert/strict"
import { randomBytes } from "node:crypto"
import { after, describe, test } from "node:test"
import { Effect } from "effect"
import { AppLogs } from "../../src/mcp/hooks.ts"
import { makeMcpRuntime } from "../../src/mcp/runtime.ts"
import { startSystem, type RunningSystem } from "../../src/system/boot.ts"
import { startCoolifyFake, type CoolifyFake } from "../fakes/coolify/index.ts"
import { createTestDatabase, type TestDatabase } from "../support/postgres.ts"
import { conditionOf, coolifyAppsOf, createApp, deleteApp, ensureUser, waitForApp, waitForGone, waitForReady } from "./support.ts"

const cleanups: Array<() => Promise<void>> = []
after(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const newDatabase = async (): Promise<TestDatabase> => {
  const db = await createTestDatabase()
  cleanups.push(() => db.drop())
  // No periodic resync racing the test's first App (see startAppEngine in support.ts).
  await db.pool.query(`INSERT INTO engine_resync (kind, last_run) VALUES ('App', now())`)
  return db
}

const startOn = async (db: TestDatabase, key: string, extra: Record<string, string>): Promise<RunningSystem> => {
  const system = await startSystem({
    env: { DATABASE_URL: db.url, DATA_ENCRYPTION_KEY: key, PORT: "0", LOG_LEVEL: "silent", APP_DNS_SUFFIX: "apps.example.test", ...extra },
    engine: { pollingIntervalSeconds: 0.5 }
  })
  cleanups.push(() => system.stop())
  return system
}

const start = async (extra: Record<string, string>): Promise<{ system: RunningSystem; db: TestDatabase }> => {
  const db = await newDatabase()
  return { system: await startOn(db, randomBytes(32).toString("base64"), extra), db }
}

describe("App controller in the running system", () => {
  test("coolify chosen but not configured: Synced=False ProviderNotConfigured naming the variables; delete still works", async () => {
    const { system } = await start({ APP_RUNTIME: "coolify" })
    const owner = await ensureUser(system.runtime, "no-coolify")
    await createApp(system.runtime, owner, "web")
    const app = await waitForApp(system.runtime, owner, "web", (object) => conditionOf(object, "Synced")?.reason === "ProviderNotConfigured", "ProviderNotConfigured")
    const message = conditionOf(app, "Synced")?.message ?? ""
    assert.equal(conditionOf(app, "Synced")?.status, "False")
    assert.match(message, /COOLIFY_URL/)
    assert.match(message, /COOLIFY_TOKEN/)
    assert.equal(conditionOf(app, "Ready")?.reason, "ProviderNotConfigured")
    assert.equal(conditionOf(app, "Deployed")?.reason, "ProviderNotConfigured")
    await deleteApp(system.runtime, owner, "web")
    await waitForGone(system.runtime, owner, "web")
  })

  test("with Coolify configured: Ready at https://<name>.<APP_DNS_SUFFIX>, and logs for get_app_details", async () => {
    const fake: CoolifyFake = await startCoolifyFake()
    cleanups.push(() => fake.close())
    const { system } = await start({ COOLIFY_URL: fake.url, COOLIFY_TOKEN: fake.token })
    const owner = await ensureUser(system.runtime, "with-coolify")
    await createApp(system.runtime, owner, "shop", { repo: "acme/shop" })
    const ready = await waitForReady(system.runtime, owner, "shop", 30_000)
    assert.equal(ready.status.url, "https://shop.apps.example.test")
    assert.equal(coolifyAppsOf(fake, owner, "shop").length, 1)

    const mcp = await makeMcpRuntime(system.runtime)
    cleanups.push(() => mcp.dispose())
    const { deploy, runtime } = await mcp.runPromise(
      Effect.gen(function*() {
        const logs = yield* AppLogs
        return { deploy: yield* logs.deployLogs(ready, 3), runtime: yield* logs.runtimeLogs(ready, 2) }
      })
    )
    assert.equal(deploy.available, true)
    assert.ok(deploy.lines.length > 0 && deploy.lines.length <= 3)
    assert.equal(runtime.available, true)
    assert.equal(runtime.lines.length, 2)
    assert.deepEqual(fake.violations, [])
  })

  test("the operator configures Coolify and restarts: every App is reconciled at once and no condition is stale", async () => {
    const db = await newDatabase()
    const key = randomBytes(32).toString("base64")
    const first = await startOn(db, key, { APP_RUNTIME: "coolify" })
    const owner = await ensureUser(first.runtime, "configures-later")
    await createApp(first.runtime, owner, "blog", { repo: "acme/blog" })
    await waitForApp(first.runtime, owner, "blog", (object) => conditionOf(object, "Ready")?.reason === "ProviderNotConfigured", "ProviderNotConfigured")
    await first.stop()

    const fake: CoolifyFake = await startCoolifyFake()
    cleanups.push(() => fake.close())
    // The periodic resync just ran (engine_resync): only the configuration change can reconcile the App now.
    await db.pool.query(`UPDATE engine_resync SET last_run = now() WHERE kind = 'App'`)
    const second = await startOn(db, key, { APP_RUNTIME: "coolify", COOLIFY_URL: fake.url, COOLIFY_TOKEN: fake.token })
    const ready = await waitForReady(second.runtime, owner, "blog", 30_000)
    for (const type of ["Synced", "Deployed", "Ready"] as const) {
      const found = conditionOf(ready, type)
      assert.equal(found?.status, "True", `${type}: ${found?.reason} ${found?.message}`)
      assert.notEqual(found?.reason, "ProviderNotConfigured")
      assert.equal(found?.observedGeneration, ready.metadata.generation)
    }
    assert.equal(coolifyAppsOf(fake, owner, "blog").length, 1)
  })
})
