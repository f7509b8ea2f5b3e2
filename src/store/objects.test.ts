import assert from "node:assert/strict"
import { after, before, describe, test } from "node:test"
import { Effect, Exit, Option } from "effect"
import type { AppSpec } from "../../schemas/index.ts"
import { createTestDatabase, type TestDatabase } from "../../e2e/support/postgres.ts"
import { storeRuntime } from "../../e2e/support/layers.ts"
import { EventStore } from "./events.ts"
import { ObjectStore } from "./objects.ts"
import { UserStore } from "./users.ts"

const appSpec = (overrides: Partial<AppSpec> = {}): AppSpec => ({
  repo: "octo/shop",
  branch: "main",
  revision: null,
  buildPack: "nixpacks",
  runtimeMode: "on_demand",
  env: { API_KEY: "s3cret-value-123" },
  resourceRefs: [],
  redeployNonce: 0,
  ...overrides
})

let db: TestDatabase
let runtime: ReturnType<typeof storeRuntime>
let alice: string
let bob: string
const run = <A, E>(effect: Effect.Effect<A, E, ObjectStore | EventStore | UserStore>) => runtime.runPromise(effect)
const runExit = <A, E>(effect: Effect.Effect<A, E, ObjectStore | EventStore | UserStore>) => runtime.runPromiseExit(effect)
const failureTag = (exit: Exit.Exit<unknown, unknown>) =>
  Exit.isFailure(exit) ? (Option.getOrUndefined(Exit.findErrorOption(exit)) as { _tag?: string } | undefined)?._tag : "success"

before(async () => {
  db = await createTestDatabase()
  runtime = storeRuntime(db.pool)
  alice = (await run(UserStore.use((users) => users.ensure("alice")))).id
  bob = (await run(UserStore.use((users) => users.ensure("bob")))).id
})
after(async () => {
  await runtime.dispose()
  await db.drop()
})


describe("ObjectStore", () => {
  test("create then get returns the object with generation 1 and decrypted env", async () => {
    const created = await run(ObjectStore.use((s) => s.create(alice, { kind: "App", name: "shop", spec: appSpec() })))
    assert.equal(created.metadata.generation, 1)
    assert.equal(created.metadata.project, "default")
    const got = await run(ObjectStore.use((s) => s.get(alice, { kind: "App", name: "shop" })))
    assert.deepEqual(got.spec, appSpec())
    assert.equal(got.metadata.uid, created.metadata.uid)
  })

  test("env values are encrypted at rest", async () => {
    const raw = await db.pool.query("SELECT spec::text AS spec, spec_secrets FROM objects WHERE name = 'shop'")
    assert.ok(!raw.rows[0].spec.includes("s3cret-value-123"))
    assert.ok(!Buffer.from(raw.rows[0].spec_secrets).toString("latin1").includes("s3cret-value-123"))
  })

  test("generation bumps only when the spec really changes", async () => {
    const same = await run(ObjectStore.use((s) => s.updateSpec(alice, { kind: "App", name: "shop" }, (spec) => ({ ...spec }))))
    assert.equal(same.changed, false)
    assert.equal(same.object.metadata.generation, 1)
    const changed = await run(ObjectStore.use((s) => s.updateSpec(alice, { kind: "App", name: "shop" }, (spec) => ({ ...spec, revision: "a".repeat(40) }))))
    assert.equal(changed.changed, true)
    assert.equal(changed.object.metadata.generation, 2)
    const again = await run(ObjectStore.use((s) => s.updateSpec(alice, { kind: "App", name: "shop" }, (spec) => ({ ...spec, revision: "a".repeat(40) }))))
    assert.equal(again.changed, false)
    assert.equal(again.object.metadata.generation, 2)
  })

  test("status writes do not bump generation and conflict on a stale resourceVersion", async () => {
    const current = await run(ObjectStore.use((s) => s.get(alice, { kind: "App", name: "shop" })))
    const rv = current.metadata.resourceVersion
    const written = await run(ObjectStore.use((s) => s.updateStatus(alice, current.metadata.uid, rv, { observedGeneration: 2, conditions: [] })))
    assert.equal(written.metadata.generation, current.metadata.generation)
    assert.equal(written.metadata.resourceVersion, rv + 1)
    const stale = await runExit(ObjectStore.use((s) => s.updateStatus(alice, current.metadata.uid, rv, { observedGeneration: 3 })))
    assert.equal(failureTag(stale), "Conflict")
  })

  test("invalid specs are refused with a message naming the field", async () => {
    const exit = await runExit(ObjectStore.use((s) => s.create(alice, { kind: "App", name: "bad", spec: appSpec({ port: 70000 }) })))
    assert.equal(failureTag(exit), "InvalidSpec")
    assert.match(String(Exit.isFailure(exit) ? Option.getOrUndefined(Exit.findErrorOption(exit))?.message : ""), /port/)
  })

  test("names are unique per (owner, project, kind) but not across them", async () => {
    const duplicate = await runExit(ObjectStore.use((s) => s.create(alice, { kind: "App", name: "shop", spec: appSpec() })))
    assert.equal(failureTag(duplicate), "NameTaken")
    await run(ObjectStore.use((s) => s.create(alice, { kind: "App", project: "other", name: "shop", spec: appSpec() })))
    await run(ObjectStore.use((s) => s.create(alice, { kind: "Resource", name: "shop", spec: { type: "sqlite" } })))
    await run(ObjectStore.use((s) => s.create(bob, { kind: "App", name: "shop", spec: appSpec() })))
  })

  test("tenant isolation: every function scoped to its owner", async () => {
    const mine = await run(ObjectStore.use((s) => s.get(alice, { kind: "App", name: "shop" })))
    const uid = mine.metadata.uid
    const rv = mine.metadata.resourceVersion
    const calls = await Promise.all([
      run(ObjectStore.use((s) => s.getByUid(bob, uid))).then((o) => Option.isNone(o)),
      run(ObjectStore.use((s) => s.list(bob, { kind: "App" }))).then((page) => page.items.every((item) => item.metadata.owner === bob)),
      runExit(ObjectStore.use((s) => s.updateStatus(bob, uid, rv, {}))).then((exit) => failureTag(exit) === "Conflict"),
      runExit(ObjectStore.use((s) => s.updateMetadata(bob, uid, rv, { addFinalizers: ["x"] }))).then((exit) => failureTag(exit) === "Conflict"),
      run(ObjectStore.use((s) => s.removeFinalizer(bob, uid, "x"))).then(() => true),
      run(EventStore.use((events) => events.record(bob, uid, { type: "Normal", reason: "Probe", message: "bob" }))).then(() => true)
    ])
    assert.deepEqual(calls, [true, true, true, true, true, true])
    const still = await run(ObjectStore.use((s) => s.get(alice, { kind: "App", name: "shop" })))
    assert.equal(still.metadata.resourceVersion, rv, "bob's writes changed nothing")
    assert.deepEqual(await run(EventStore.use((events) => events.list(alice, uid))), [])
  })

  test("list paginates in name order", async () => {
    for (const name of ["p-a", "p-b", "p-c", "p-d", "p-e"]) {
      await run(ObjectStore.use((s) => s.create(alice, { kind: "Resource", project: "pages", name, spec: { type: "sqlite" } })))
    }
    const first = await run(ObjectStore.use((s) => s.list(alice, { kind: "Resource", project: "pages", limit: 2 })))
    assert.deepEqual(first.items.map((item) => item.metadata.name), ["p-a", "p-b"])
    const second = await run(ObjectStore.use((s) => s.list(alice, { kind: "Resource", project: "pages", limit: 2, after: first.next as string })))
    assert.deepEqual(second.items.map((item) => item.metadata.name), ["p-c", "p-d"])
    const third = await run(ObjectStore.use((s) => s.list(alice, { kind: "Resource", project: "pages", limit: 2, after: second.next as string })))
    assert.deepEqual(third.items.map((item) => item.metadata.name), ["p-e"])
    assert.equal(third.next, undefined)
  })

  test("deletion waits for finalizers, then the row disappears", async () => {
    const created = await run(ObjectStore.use((s) => s.create(alice, { kind: "Resource", name: "db1", spec: { type: "sqlite" }, finalizers: ["deploy.mcp/provider"] })))
    const marked = await run(ObjectStore.use((s) => s.markForDeletion(alice, { kind: "Resource", name: "db1" })))
    assert.equal(marked.deleted, false)
    assert.ok(marked.object.metadata.deletionTimestamp)
    const again = await run(ObjectStore.use((s) => s.markForDeletion(alice, { kind: "Resource", name: "db1" })))
    assert.equal(again.object.metadata.deletionTimestamp, marked.object.metadata.deletionTimestamp, "the first deletion time is kept")
    const removed = await run(ObjectStore.use((s) => s.removeFinalizer(alice, created.metadata.uid, "deploy.mcp/provider")))
    assert.equal(removed.deleted, true)
    assert.ok(Option.isNone(await run(ObjectStore.use((s) => s.getByUid(alice, created.metadata.uid)))))
    const plain = await run(ObjectStore.use((s) => s.create(alice, { kind: "Resource", name: "db2", spec: { type: "sqlite" } })))
    const gone = await run(ObjectStore.use((s) => s.markForDeletion(alice, { kind: "Resource", name: "db2" })))
    assert.equal(gone.deleted, true)
    assert.ok(Option.isNone(await run(ObjectStore.use((s) => s.getByUid(alice, plain.metadata.uid)))))
  })

  test("annotations and finalizers patch conditionally", async () => {
    const created = await run(ObjectStore.use((s) => s.create(alice, { kind: "Resource", name: "db3", spec: { type: "sqlite" } })))
    const patched = await run(
      ObjectStore.use((s) =>
        s.updateMetadata(alice, created.metadata.uid, created.metadata.resourceVersion, { annotations: { "deploy.mcp/create-pending": "now" }, addFinalizers: ["f1", "f1"] })
      )
    )
    assert.deepEqual(patched.metadata.annotations, { "deploy.mcp/create-pending": "now" })
    assert.deepEqual(patched.metadata.finalizers, ["f1"])
    const cleared = await run(
      ObjectStore.use((s) => s.updateMetadata(alice, created.metadata.uid, patched.metadata.resourceVersion, { annotations: { "deploy.mcp/create-pending": null, x: "1" } }))
    )
    assert.deepEqual(cleared.metadata.annotations, { x: "1" })
  })

  test("events de-duplicate by (type, reason, message)", async () => {
    const app = await run(ObjectStore.use((s) => s.get(alice, { kind: "App", name: "shop" })))
    for (let i = 0; i < 3; i++) await run(EventStore.use((e) => e.record(alice, app.metadata.uid, { type: "Warning", reason: "BuildFailed", message: "exit 1" })))
    await run(EventStore.use((e) => e.record(alice, app.metadata.uid, { type: "Normal", reason: "Deployed", message: "ok" })))
    const list = await run(EventStore.use((e) => e.list(alice, app.metadata.uid)))
    assert.equal(list.length, 2)
    assert.equal(list.find((event) => event.reason === "BuildFailed")?.count, 3)
  })
})
