/**
 * bench/store: create + get + list of 10,000 objects through the store (schema validation,
 * sealing of env values, JSON) beside plain INSERT/SELECT of the same rows on the same database.
 */
import { randomBytes } from "node:crypto"
import { Effect, ManagedRuntime } from "effect"
import { storeLayer } from "../e2e/support/layers.ts"
import { ObjectStore } from "../src/store/objects.ts"
import { UserStore } from "../src/store/users.ts"
import { benchDatabase, pooled, report, sized, timed } from "./support.ts"

const COUNT = sized("BENCH_STORE_COUNT", 10_000, 500)
const CONCURRENCY = 16

const spec = (index: number) => ({
  repo: "octo/shop",
  branch: "main",
  revision: null,
  buildPack: "nixpacks" as const,
  runtimeMode: "on_demand" as const,
  env: { API_KEY: `secret-${index}`, NODE_ENV: "production" },
  resourceRefs: [],
  redeployNonce: 0
})

const db = await benchDatabase()
const runtime = ManagedRuntime.make(storeLayer(db.pool, randomBytes(32)))
const run = <A, E>(effect: Effect.Effect<A, E, ObjectStore | UserStore>) => runtime.runPromise(effect)
const owner = (await run(UserStore.use((users) => users.ensure("bench")))).id

// Baseline: the same rows with plain SQL, no validation, no encryption.
await db.pool.query(`CREATE TABLE baseline (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), owner uuid, name text, spec jsonb, UNIQUE (owner, name))`)
const baseInsert = await timed(() =>
  pooled(COUNT, CONCURRENCY, async (i) => {
    await db.pool.query(`INSERT INTO baseline (owner, name, spec) VALUES ($1, $2, $3)`, [owner, `app-${i}`, spec(i)])
  })
)
const baseGet = await timed(() =>
  pooled(COUNT, CONCURRENCY, async (i) => {
    await db.pool.query(`SELECT * FROM baseline WHERE owner = $1 AND name = $2`, [owner, `app-${i}`])
  })
)
const baseList = await timed(async () => {
  let after = ""
  for (;;) {
    const page = await db.pool.query(`SELECT * FROM baseline WHERE owner = $1 AND name > $2 ORDER BY name LIMIT 100`, [owner, after])
    if (page.rows.length === 0) break
    after = page.rows[page.rows.length - 1].name
  }
})

const storeCreate = await timed(() =>
  pooled(COUNT, CONCURRENCY, async (i) => {
    await run(ObjectStore.use((store) => store.create(owner, { kind: "App", name: `app-${i}`, spec: spec(i) })))
  })
)
const storeGet = await timed(() =>
  pooled(COUNT, CONCURRENCY, async (i) => {
    await run(ObjectStore.use((store) => store.get(owner, { kind: "App", name: `app-${i}` })))
  })
)
const storeList = await timed(() =>
  run(
    ObjectStore.use((store) =>
      Effect.gen(function*() {
        let after: string | undefined
        do {
          const page = yield* store.list(owner, { kind: "App", limit: 100, ...(after ? { after } : {}) })
          after = page.next
        } while (after)
      })
    )
  )
)

const rate = (seconds: number) => COUNT / seconds
report("bench/store", [
  { op: "create", store_ops_s: rate(storeCreate.seconds), baseline_ops_s: rate(baseInsert.seconds), ratio: baseInsert.seconds / storeCreate.seconds },
  { op: "get", store_ops_s: rate(storeGet.seconds), baseline_ops_s: rate(baseGet.seconds), ratio: baseGet.seconds / storeGet.seconds },
  { op: "list(all, pages of 100)", store_objects_s: rate(storeList.seconds), baseline_objects_s: rate(baseList.seconds), ratio: baseList.seconds / storeList.seconds }
])
await runtime.dispose()
await db.close()
