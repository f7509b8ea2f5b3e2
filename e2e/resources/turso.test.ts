/**
 * Resources on Turso, end to end: the real system (HTTP, engine, PostgreSQL) with the Turso fake.
 * Desired state is written the way the MCP tools write it (src/desired/write.ts); the controller
 * does the rest.
 */
import assert from "node:assert/strict"
import { after, afterEach, before, describe, test } from "node:test"
import { Effect, Exit } from "effect"
import { Annotations, Finalizers } from "../../schemas/index.ts"
import { deriveExternalName } from "../../controllers/resource/index.ts"
import { queueName } from "../../controllers/engine/queue.ts"
import { createObject, deleteObject, inTransaction, updateObjectSpec } from "../../src/desired/write.ts"
import type { RunningSystem } from "../../src/system/boot.ts"
import { startTursoFake, type TursoFake } from "../fakes/turso/index.ts"
import { createTestDatabase, removeDir, tempDir, type TestDatabase } from "../support/postgres.ts"
import { waitFor } from "../support/wait.ts"
import {
  captureLogs,
  condition,
  ensureUser,
  findResource,
  newKey,
  run,
  storedCredentials,
  waitForGone,
  waitForReady
} from "./support.ts"
import { startTestSystem, tursoEnv } from "./system.ts"

let db: TestDatabase
let fake: TursoFake
let system: RunningSystem
let dataDir: string
let owner: string
const logs = captureLogs()
/** Every database token the run produced: none may appear in any log line. */
const tokensSeen: Array<string> = []

before(async () => {
  db = await createTestDatabase()
  fake = await startTursoFake({ org: "acme" })
  dataDir = await tempDir("resources-turso")
  system = await startTestSystem({ databaseUrl: db.url, key: newKey(), dataDir, env: tursoEnv(fake), logs })
  owner = await ensureUser(system.runtime, "resource-e2e")
})
after(async () => {
  await system?.stop()
  await fake?.close()
  await db?.drop()
  await removeDir(dataDir)
})
afterEach(() => {
  assert.deepEqual(fake.violations, [], "the fake answered something Turso's OpenAPI document does not allow")
  fake.faults.clear()
})

const createResource = (name: string) => run(system.runtime, createObject(owner, { kind: "Resource", name, spec: { type: "sqlite" } }))

/** The object row, its events and its credentials row as PostgreSQL stores them. */
const rawRows = async (uid: string) => {
  const object = await db.pool.query<{ text: string }>(`SELECT row_to_json(o)::text AS text FROM objects o WHERE uid = $1`, [uid])
  const events = await db.pool.query<{ text: string }>(`SELECT coalesce(json_agg(e)::text, '') AS text FROM events e WHERE object_uid = $1`, [uid])
  const credentials = await db.pool.query<{ sealed: Buffer }>(`SELECT sealed FROM resource_credentials WHERE resource_uid = $1`, [uid])
  return { object: object.rows[0]?.text ?? "", events: events.rows[0]?.text ?? "", sealed: credentials.rows[0]?.sealed }
}

describe("Resources on Turso", () => {
  test("create → Ready with a libsql:// url; the stored token opens the database at the fake and is sealed in PostgreSQL", async () => {
    const created = await createResource("shop-db")
    const ready = await waitForReady(system.runtime, owner, "shop-db")
    const externalName = deriveExternalName(owner, "default", "shop-db")

    assert.equal(ready.status.externalId, externalName)
    assert.equal(ready.status.url, `libsql://${externalName}-acme.turso.io`)
    assert.match(externalName, /^dm-shop-db-[0-9a-f]{12}$/)
    assert.equal(ready.metadata.annotations[Annotations.externalName], externalName)
    assert.equal(ready.metadata.annotations[Annotations.createPending], undefined, "the pending mark is cleared once the name is recorded")
    assert.deepEqual(ready.metadata.finalizers, [Finalizers.provider])
    assert.equal(condition(ready, "Synced")?.reason, "Created")
    assert.equal(condition(ready, "Ready")?.reason, "Available")
    assert.equal(fake.calls.count("createDatabase"), 1)
    assert.deepEqual([...fake.state.databases.keys()], [externalName])

    const credentials = await storedCredentials(system.runtime, owner, created.metadata.uid)
    assert.ok(credentials?.authToken, "a token is stored")
    tokensSeen.push(credentials.authToken)
    assert.equal(credentials.url, ready.status.url)
    assert.equal(credentials.version, 1)
    assert.equal(ready.status.credentialsVersion, 1)
    assert.equal(await fake.verifyDatabaseToken(externalName, credentials.authToken), true, "the fake accepts the stored token")

    const raw = await rawRows(created.metadata.uid)
    assert.ok(raw.sealed && raw.sealed.length > 0, "a credentials row exists")
    assert.equal(raw.sealed.includes(credentials.authToken), false, "the raw credentials column does not contain the token")
    assert.equal(raw.sealed.includes(credentials.url), false, "nor the url in clear")
    assert.equal(raw.object.includes(credentials.authToken), false, "the object row (spec, status, annotations) has no token")
    assert.equal(raw.events.includes(credentials.authToken), false, "no event mentions the token")
  })

  test("a database left by an earlier attempt is adopted, never created a second time", async () => {
    const externalName = deriveExternalName(owner, "default", "adopt-me")
    fake.state.addDatabase(externalName, "default")
    const creates = fake.calls.count("createDatabase")
    await createResource("adopt-me")
    const ready = await waitForReady(system.runtime, owner, "adopt-me")
    assert.equal(condition(ready, "Synced")?.reason, "Adopted")
    assert.match(condition(ready, "Synced")?.message ?? "", /adopted it/)
    assert.equal(fake.calls.count("createDatabase"), creates, "observe found it: no create call")
    const credentials = await storedCredentials(system.runtime, owner, ready.metadata.uid)
    assert.ok(credentials?.authToken)
    tokensSeen.push(credentials.authToken)
    assert.equal(await fake.verifyDatabaseToken(externalName, credentials.authToken), true)
  })

  test("provider trouble shows as Synced=False with a reason and a message to act on, then converges once it passes", async () => {
    fake.faults.fail(503, { operation: "createDatabase" })
    await createResource("flaky-db")
    const failing = await waitFor(
      async () => {
        const object = await findResource(system.runtime, owner, "flaky-db")
        return condition(object, "Synced")?.status === "False" ? object : undefined
      },
      { what: "Synced=False" }
    )
    assert.equal(condition(failing, "Synced")?.reason, "ProviderUnavailable")
    assert.match(condition(failing, "Synced")?.message ?? "", /retrying with backoff/)
    assert.equal(condition(failing, "Ready")?.status, "False")
    assert.equal(condition(failing, "Ready")?.reason, "ProviderUnavailable")
    assert.equal(failing?.metadata.annotations[Annotations.createPending] !== undefined, true, "the create was marked pending before the call")
    fake.faults.clear()
    const ready = await waitForReady(system.runtime, owner, "flaky-db")
    assert.equal(condition(ready, "Synced")?.reason, "Created")
    assert.equal(fake.state.databases.has(deriveExternalName(owner, "default", "flaky-db")), true)
    const credentials = await storedCredentials(system.runtime, owner, ready.metadata.uid)
    if (credentials?.authToken) tokensSeen.push(credentials.authToken)
  })

  test("rotation: bumping spec.rotationNonce revokes the old token and stores a new one under the next version", async () => {
    const before = await waitForReady(system.runtime, owner, "shop-db")
    const old = await storedCredentials(system.runtime, owner, before.metadata.uid)
    assert.ok(old?.authToken)
    await run(system.runtime, updateObjectSpec(owner, { kind: "Resource", name: "shop-db" }, (spec) => ({ ...spec, rotationNonce: (spec.rotationNonce ?? 0) + 1 })))
    const rotated = await waitForReady(system.runtime, owner, "shop-db", { credentialsVersion: old.version + 1 })
    const fresh = await storedCredentials(system.runtime, owner, before.metadata.uid)
    assert.ok(fresh?.authToken)
    tokensSeen.push(fresh.authToken)
    assert.equal(fresh.version, old.version + 1)
    assert.notEqual(fresh.authToken, old.authToken)
    assert.equal(rotated.status.appliedRotationNonce, 1)
    assert.equal(condition(rotated, "Synced")?.reason, "CredentialsRotated")
    const externalName = rotated.status.externalId ?? ""
    assert.equal(await fake.verifyDatabaseToken(externalName, old.authToken), false, "the old token stopped working")
    assert.equal(await fake.verifyDatabaseToken(externalName, fresh.authToken), true, "the new one works")
    assert.equal(fake.state.databases.size, 3, "rotation touched tokens, not databases")
  })

  test("delete → the database is gone at the fake, and so are the credentials row and the object row", async () => {
    const ready = await waitForReady(system.runtime, owner, "shop-db")
    const externalName = ready.status.externalId ?? ""
    await run(system.runtime, deleteObject(owner, { kind: "Resource", name: "shop-db" }))
    await waitForGone(system.runtime, owner, "shop-db")
    assert.equal(fake.state.databases.has(externalName), false)
    const credentials = await db.pool.query(`SELECT 1 FROM resource_credentials WHERE resource_uid = $1`, [ready.metadata.uid])
    assert.equal(credentials.rowCount, 0)
  })

  test("one transaction: a failure after the Resource and App inserts leaves no rows, no jobs and no database", async () => {
    const uids: Array<string> = []
    const creates = fake.calls.count("createDatabase")
    const exit = await run(
      system.runtime,
      Effect.exit(
        inTransaction(
          Effect.gen(function*() {
            const resource = yield* createObject(owner, { kind: "Resource", name: "tx-db", spec: { type: "sqlite" } })
            uids.push(resource.metadata.uid)
            const app = yield* createObject(owner, {
              kind: "App",
              name: "tx-app",
              spec: { repo: "octocat/tx-app", branch: "main", revision: null, buildPack: "nixpacks", runtimeMode: "persistent", env: {}, resourceRefs: ["tx-db"], redeployNonce: 0 }
            })
            uids.push(app.metadata.uid)
            return yield* Effect.fail("injected failure after the inserts" as const)
          })
        )
      )
    )
    assert.ok(Exit.isFailure(exit))
    assert.equal(uids.length, 2, "both inserts ran inside the transaction before the failure")
    const rows = await db.pool.query(`SELECT 1 FROM objects WHERE uid = ANY($1::uuid[]) OR name IN ('tx-db', 'tx-app')`, [uids])
    assert.equal(rows.rowCount, 0, "no object rows")
    const jobs = await db.pool.query(`SELECT 1 FROM pgboss.job WHERE data->>'uid' = ANY($1::text[])`, [uids])
    assert.equal(jobs.rowCount, 0, "no reconcile jobs")
    assert.equal(fake.calls.count("createDatabase"), creates, "no provider call")

    // The same transaction committed: both exist and both are enqueued.
    const committed = await run(
      system.runtime,
      inTransaction(
        Effect.gen(function*() {
          const resource = yield* createObject(owner, { kind: "Resource", name: "tx-db", spec: { type: "sqlite" } })
          const app = yield* createObject(owner, {
            kind: "App",
            name: "tx-app",
            spec: { repo: "octocat/tx-app", branch: "main", revision: null, buildPack: "nixpacks", runtimeMode: "persistent", env: {}, resourceRefs: ["tx-db"], redeployNonce: 0 }
          })
          return [resource.metadata.uid, app.metadata.uid]
        })
      )
    )
    const enqueued = await db.pool.query<{ name: string }>(`SELECT DISTINCT name FROM pgboss.job WHERE data->>'uid' = ANY($1::text[]) ORDER BY name`, [committed])
    assert.deepEqual(enqueued.rows.map((row) => row.name), [queueName("App"), queueName("Resource")])
    const ready = await waitForReady(system.runtime, owner, "tx-db")
    const credentials = await storedCredentials(system.runtime, owner, ready.metadata.uid)
    if (credentials?.authToken) tokensSeen.push(credentials.authToken)
  })

  test("no database token appears in any log line of the run", () => {
    const text = logs.text()
    assert.match(text, /database created/, "the run did log (the check below is not vacuous)")
    assert.ok(tokensSeen.length >= 5)
    for (const token of tokensSeen) assert.equal(text.includes(token), false, "a token leaked into the logs")
  })
})
