/**
 * The Placement layer over real PostgreSQL: Hosts and Apps of several tenants as stored objects,
 * placements recorded under the lock, and 100 apps placed concurrently without over-committing.
 */
import assert from "node:assert/strict"
import { after, before, beforeEach, describe, test } from "node:test"
import { Effect, Layer, ManagedRuntime, Option } from "effect"
import { hostPlacementLayer } from "../../controllers/host/placement.ts"
import { listAppPlacementsAcrossTenants } from "../../controllers/host/placements-store.ts"
import { add, parseMemoryBytes, ZERO, type Resources } from "../../controllers/host/capacity.ts"
import { writeStatus } from "../../controllers/engine/conditions.ts"
import { queueName, ReconcileQueue } from "../../controllers/engine/queue.ts"
import { Placement, type PlacementDecision } from "../../controllers/placement/Placement.ts"
import type { AppSpec, HostSpec } from "../../schemas/index.ts"
import { ObjectStore, PLATFORM_OWNER, type StoredObject } from "../../src/store/objects.ts"
import { UserStore } from "../../src/store/users.ts"
import { appSpec as baseAppSpec } from "../support/app-spec.ts"
import { storeLayer } from "../support/layers.ts"
import { createTestDatabase, type TestDatabase } from "../support/postgres.ts"

let db: TestDatabase
let runtime: ManagedRuntime.ManagedRuntime<Placement | ReconcileQueue | Layer.Success<ReturnType<typeof storeLayer>>, unknown>
const run = <A, E>(effect: Effect.Effect<A, E, Placement | ReconcileQueue | Layer.Success<ReturnType<typeof storeLayer>>>) => runtime.runPromise(effect)

before(async () => {
  db = await createTestDatabase()
  const stores = storeLayer(db.pool)
  const queue = ReconcileQueue.layer({ connectionString: db.url, max: 4 }).pipe(Layer.provideMerge(stores))
  runtime = ManagedRuntime.make(hostPlacementLayer({ fallbackDnsSuffix: "apps.example.com" }).pipe(Layer.provideMerge(queue)))
  await runtime.context()
})
after(async () => {
  await runtime.dispose()
  await db.drop()
})
beforeEach(async () => {
  await db.pool.query(`DELETE FROM objects WHERE kind IN ('App', 'Host')`)
})

const appSpec = (resources: AppSpec["resources"], host?: string): AppSpec =>
  baseAppSpec({ ...(resources ? { resources } : {}), ...(host ? { host } : {}) })

const addHost = (name: string, capacity: HostSpec["capacity"], ready: "True" | "False" = "True") =>
  run(
    Effect.gen(function*() {
      const store = yield* ObjectStore
      const created = yield* store.create(PLATFORM_OWNER, {
        kind: "Host",
        name,
        spec: { address: `10.0.0.${name.length}`, port: 22, user: "root", role: "run", dnsSuffix: `${name}.example.com`, capacity }
      })
      return yield* writeStatus(created, (status) => ({ ...status, coolifyServerUuid: `uuid-${name}` }), {
        conditions: [{ type: "Ready", status: ready, reason: ready === "True" ? "HostReady" : "Unreachable", message: "set by the test" }]
      })
    })
  )

const setReady = (host: StoredObject<"Host">, ready: "True" | "False") =>
  run(
    Effect.gen(function*() {
      const store = yield* ObjectStore
      const current = Option.getOrThrow(yield* store.getByUid(PLATFORM_OWNER, host.metadata.uid)) as StoredObject<"Host">
      return yield* writeStatus(current, (status) => status, {
        conditions: [{ type: "Ready", status: ready, reason: ready === "True" ? "HostReady" : "Unreachable", message: "set by the test" }]
      })
    })
  )

const addApp = (owner: string, name: string, resources: AppSpec["resources"], host?: string) =>
  run(ObjectStore.use((store) => store.create(owner, { kind: "App", name, spec: appSpec(resources, host) })))

const place = (app: StoredObject<"App">) => run(Placement.use((placement) => placement.place(app)))

const allocatedByHost = async () => {
  const placed = await run(listAppPlacementsAcrossTenants())
  const totals = new Map<string, Resources>()
  for (const app of placed) totals.set(app.host, add(totals.get(app.host) ?? ZERO, app.request))
  return totals
}

describe("hostPlacementLayer", () => {
  test("100 apps of two tenants placed concurrently never over-commit 3 hosts", async () => {
    await addHost("s1", { cpu: "2", memory: "4G" })
    await addHost("s2", { cpu: "2", memory: "4G" })
    await addHost("s3", { cpu: "4", memory: "8G" })
    const alice = (await run(UserStore.use((users) => users.ensure("alice")))).id
    const bob = (await run(UserStore.use((users) => users.ensure("bob")))).id
    const apps: Array<StoredObject<"App">> = []
    for (let i = 0; i < 100; i++) apps.push(await addApp(i % 2 === 0 ? alice : bob, `app-${i}`, { cpu: "0.25", memory: "256M" }))

    // 8 CPUs in all fit exactly 32 apps of 0.25 CPU; the other 68 must be told why.
    const decisions = await run(Effect.forEach(apps, (app) => Placement.use((placement) => placement.place(app)), { concurrency: 16 }))
    const placed = decisions.filter((d): d is Extract<PlacementDecision, { _tag: "Placed" }> => d._tag === "Placed")
    assert.equal(placed.length, 32)
    for (const decision of decisions) {
      if (decision._tag === "Unplaced") {
        assert.equal(decision.reason, "NoCapacity")
        assert.match(decision.message, /requests cpu 0\.25, memory 256M; s\d has cpu 0, memory \d+(M|G) free/)
      }
    }
    const totals = await allocatedByHost()
    assert.deepEqual(
      [...totals.entries()].sort().map(([name, used]) => [name, used.cpuMillis, used.memoryBytes]),
      [
        ["s1", 2000, 8 * parseMemoryBytes("256M")],
        ["s2", 2000, 8 * parseMemoryBytes("256M")],
        ["s3", 4000, 16 * parseMemoryBytes("256M")]
      ]
    )
    assert.ok(placed.every((d) => d.coolifyServerUuid === `uuid-${d.host}` && d.dnsSuffix === `${d.host}.example.com`))

    // Placing again is stable: every placed app keeps its host, the unplaced stay unplaced.
    const again = await run(Effect.forEach(apps, (app) => Placement.use((placement) => placement.place(app)), { concurrency: 16 }))
    assert.deepEqual(again.map((d) => (d._tag === "Placed" ? d.host : d.reason)), decisions.map((d) => (d._tag === "Placed" ? d.host : d.reason)))

    // Deleting an app frees its share for the next one.
    const freed = apps[decisions.findIndex((d) => d._tag === "Placed")] as StoredObject<"App">
    await run(ObjectStore.use((store) => store.markForDeletion(freed.metadata.owner, { kind: "App", name: freed.metadata.name })))
    const waiting = apps[decisions.findIndex((d) => d._tag === "Unplaced")] as StoredObject<"App">
    assert.equal((await place(waiting))._tag, "Placed")
  })

  test("a host that goes NotReady gets no new apps, and placing an app enqueues its host", async () => {
    const s1 = await addHost("s1", { cpu: "4", memory: "8G" })
    await addHost("s2", { cpu: "4", memory: "8G" })
    const owner = (await run(UserStore.use((users) => users.ensure("carol")))).id
    const first = await place(await addApp(owner, "first", undefined))
    assert.ok(first._tag === "Placed")
    assert.equal(first.host, "s1")
    const jobs = await db.pool.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND singleton_key = $2`, [queueName("Host"), s1.metadata.uid])
    assert.equal(jobs.rows[0].n, 1, "the host was enqueued to update status.allocated")

    await setReady(s1, "False")
    for (let i = 0; i < 5; i++) {
      const decision = await place(await addApp(owner, `later-${i}`, { cpu: "0.1", memory: "128M" }))
      assert.ok(decision._tag === "Placed")
      assert.equal(decision.host, "s2")
    }
    // The app already on s1 stays there through the grace period.
    const firstApp = await run(ObjectStore.use((store) => store.get(owner, { kind: "App", name: "first" })))
    assert.equal(((await place(firstApp)) as { host: string }).host, "s1")
  })

  test("with no run hosts at all every app gets the single-server default", async () => {
    const owner = (await run(UserStore.use((users) => users.ensure("dave")))).id
    const decision = await place(await addApp(owner, "solo", { cpu: "64", memory: "512G" }))
    assert.deepEqual(decision, { _tag: "Placed", host: "default", dnsSuffix: "apps.example.com", gvisor: false })
    assert.deepEqual(await run(listAppPlacementsAcrossTenants()), [])
  })

  test("spec.host naming a missing host is Unplaced HostNotFound, and records that it occupies nothing", async () => {
    await addHost("s1", { cpu: "4", memory: "8G" })
    const owner = (await run(UserStore.use((users) => users.ensure("erin")))).id
    const decision = await place(await addApp(owner, "pinned", undefined, "s9"))
    assert.ok(decision._tag === "Unplaced")
    assert.equal(decision.reason, "HostNotFound")
    assert.deepEqual(await run(listAppPlacementsAcrossTenants()), [])
  })
})
