/**
 * bench/engine: no-op reconcile throughput for N keys, and declare → reconcile latency (p50/p99),
 * beside raw pg-boss send/work on the same database in the same run. Targets (issue 4): latency
 * p50 ≤ 50 ms, throughput ≥ 50% of raw pg-boss.
 */
import { randomBytes } from "node:crypto"
import { Effect } from "effect"
import { PgBoss } from "pg-boss"
import type { Controller } from "../controllers/engine/controller.ts"
import { ReconcileQueue } from "../controllers/engine/queue.ts"
import { Done } from "../controllers/engine/result.ts"
import { startEngine } from "../e2e/support/engine.ts"
import { createObject } from "../src/desired/write.ts"
import { UserStore } from "../src/store/users.ts"
import { benchDatabase, percentile, pooled, report, sized } from "./support.ts"

const KEYS = sized("BENCH_ENGINE_KEYS", 10_000, 300)
const LATENCY_SAMPLES = sized("BENCH_ENGINE_SAMPLES", 200, 30)
const CONCURRENCY = 8

const db = await benchDatabase()

// --- raw pg-boss: the same send/work loop with no store, no engine.
const boss = new PgBoss({ connectionString: db.url, schema: "rawboss", useListenNotify: true })
boss.on("error", () => {})
await boss.start()
await boss.createQueue("raw", { notify: true })
let rawDone = 0
const rawWaiters = new Map<string, () => void>()
// Same fetch settings as the engine (controllers/engine/engine.ts), so the ratio measures our overhead.
await boss.work<{ i: number; tag?: string }>(
  "raw",
  { batchSize: CONCURRENCY / 2, localConcurrency: 2, burstWhenBatchFull: true, pollingIntervalSeconds: 1, notifyPollingIntervalSeconds: 1 },
  async (jobs) => {
    for (const job of jobs) {
      rawDone++
      if (job.data.tag) rawWaiters.get(job.data.tag)?.()
    }
  }
)
const rawStarted = performance.now()
await pooled(KEYS, 16, async (i) => {
  await boss.send("raw", { i })
})
while (rawDone < KEYS) await new Promise((resolve) => setTimeout(resolve, 20))
const rawSeconds = (performance.now() - rawStarted) / 1000
const rawLatency: Array<number> = []
for (let i = 0; i < LATENCY_SAMPLES; i++) {
  const tag = `t${i}`
  const started = performance.now()
  const seen = new Promise<void>((resolve) => rawWaiters.set(tag, resolve))
  await boss.send("raw", { i, tag })
  await seen
  rawLatency.push(performance.now() - started)
}
await boss.stop({ graceful: false, close: true })

// --- the engine: real store, real queue, a no-op controller.
let reconciled = 0
const waiters = new Map<string, () => void>()
const noop: Controller<"Resource", never, never> = {
  kind: "Resource",
  reconcile: (object) =>
    Effect.sync(() => {
      reconciled++
      waiters.get(object.metadata.name)?.()
      return Done
    })
}
const engine = await startEngine({ url: db.url, key: randomBytes(32), engine: { concurrency: CONCURRENCY } }, [noop])
const run = <A, E>(effect: Effect.Effect<A, E, any>) => engine.runtime.runPromise(effect as Effect.Effect<A, E, never>)
const owner = (await run(UserStore.use((users) => users.ensure("bench")))).id
await db.pool.query(`INSERT INTO objects (kind, owner, name, spec) SELECT 'Resource', $1, 'k-' || g, '{"type":"sqlite"}' FROM generate_series(1, $2) g`, [owner, KEYS])
const uids = (await db.pool.query<{ uid: string }>(`SELECT uid FROM objects WHERE owner = $1`, [owner])).rows.map((row) => row.uid)
const engineStarted = performance.now()
await pooled(uids.length, 16, async (i) => {
  await run(ReconcileQueue.use((queue) => queue.enqueue("Resource", { owner, uid: uids[i] as string })))
})
while (reconciled < KEYS) await new Promise((resolve) => setTimeout(resolve, 20))
const engineSeconds = (performance.now() - engineStarted) / 1000
const engineLatency: Array<number> = []
for (let i = 0; i < LATENCY_SAMPLES; i++) {
  const name = `lat-${i}`
  const started = performance.now()
  const seen = new Promise<void>((resolve) => waiters.set(name, resolve))
  await run(createObject(owner, { kind: "Resource", name, spec: { type: "sqlite" } }))
  await seen
  engineLatency.push(performance.now() - started)
}
await engine.dispose()

report("bench/engine", [
  { measure: "throughput (keys/s)", engine: KEYS / engineSeconds, raw_pgboss: KEYS / rawSeconds, ratio: rawSeconds / engineSeconds, target_ratio: ">= 0.5" },
  { measure: "declare→reconcile p50 (ms)", engine: percentile(engineLatency, 50), raw_pgboss: percentile(rawLatency, 50), target: "<= 50" },
  { measure: "declare→reconcile p99 (ms)", engine: percentile(engineLatency, 99), raw_pgboss: percentile(rawLatency, 99) }
])
await db.close()
process.stdout.write("", () => process.exit(0))
