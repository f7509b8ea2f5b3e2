import assert from "node:assert/strict"
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { after, before, describe, test } from "node:test"
import { Effect, Option } from "effect"
import type { Controller } from "./controller.ts"
import { Done, RequeueAfter } from "./result.ts"
import { writeStatus } from "./conditions.ts"
import { ReconcileQueue, queueName } from "./queue.ts"
import { createObject, inTransaction, updateObjectSpec } from "../../src/desired/write.ts"
import { ObjectStore, type StoredObject } from "../../src/store/objects.ts"
import { UserStore } from "../../src/store/users.ts"
import { createTestDatabase, type TestDatabase } from "../../e2e/support/postgres.ts"
import { newKey, startEngine } from "../../e2e/support/engine.ts"
import { deferred, waitFor } from "../../e2e/support/wait.ts"

let db: TestDatabase
const key = newKey()
type Engine = Awaited<ReturnType<typeof startEngine>>
const engines: Array<Engine> = []
let writer: Engine
let owner: string

/** A controller whose behaviour each test sets. */
let behaviour: (object: StoredObject<"Resource">) => Promise<"done" | "fail" | number> = async () => "done"
const calls: Array<{ uid: string; at: number; generation: number; engine: string }> = []

const testController = (engine: string): Controller<"Resource", Error, never> => ({
  kind: "Resource",
  reconcile: (object) =>
    Effect.promise(async () => {
      calls.push({ uid: object.metadata.uid, at: Date.now(), generation: object.metadata.generation, engine })
      return behaviour(object)
    }).pipe(
      Effect.flatMap((outcome) =>
        outcome === "fail" ? Effect.fail(new Error("provider unavailable")) : Effect.succeed(outcome === "done" ? Done : RequeueAfter(outcome))
      )
    )
})

const run = <A, E>(effect: Effect.Effect<A, E, any>) => writer.runtime.runPromise(effect as Effect.Effect<A, E, never>)

const createResource = (name: string) => run(createObject(owner, { kind: "Resource", name, spec: { type: "sqlite" } }))

/** No job of the queue due or running (read from pg-boss's table, not its cached stats). */
const queueIdle = async () => {
  const pending = await db.pool.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND (state = 'active' OR (state IN ('created', 'retry') AND start_after <= now()))`, [queueName("Resource")])
  return pending.rows[0].n === 0
}

before(async () => {
  db = await createTestDatabase()
  // The writer replica runs no controllers: it only writes and enqueues, like an API-only replica.
  writer = await startEngine({ url: db.url, key }, [])
  owner = (await run(UserStore.use((users) => users.ensure("engine-test")))).id
  engines.push(await startEngine({ url: db.url, key }, [testController("a")]))
})
after(async () => {
  for (const engine of engines.splice(0)) await engine.dispose()
  await writer.dispose()
  await db.drop()
})

describe("reconcile engine", () => {
  test("a committed write is enqueued and reconciled; a rolled-back one never is", async () => {
    calls.length = 0
    behaviour = async () => "done"
    const created = await createResource("committed")
    await waitFor(() => calls.some((call) => call.uid === created.metadata.uid), { what: "reconcile of committed write" })
    const failing = await run(
      Effect.exit(
        Effect.gen(function*() {
          yield* inTransaction(
            createObject(owner, { kind: "Resource", name: "rolled-back", spec: { type: "sqlite" } }).pipe(Effect.flatMap(() => Effect.fail("boom" as const)))
          )
        })
      )
    )
    assert.equal(failing._tag, "Failure")
    // The failed transaction left neither the object nor a job behind.
    const found = await run(ObjectStore.use((store) => store.find(owner, { kind: "Resource", name: "rolled-back" })))
    assert.ok(Option.isNone(found))
    await waitFor(queueIdle, { what: "queue idle" })
    const jobs = await db.pool.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND data->>'uid' NOT IN (SELECT uid::text FROM objects)`, [queueName("Resource")])
    assert.equal(jobs.rows[0].n, 0)
  })

  test("a key enqueued 100 times during its reconcile gets at most one more reconcile", async () => {
    calls.length = 0
    const gate = deferred()
    const entered = deferred()
    let first = true
    behaviour = async () => {
      if (first) {
        first = false
        entered.resolve()
        await gate.promise
      }
      return "done"
    }
    const created = await createResource("collapse")
    await entered.promise
    for (let i = 0; i < 100; i++) {
      await run(ReconcileQueue.use((queue) => queue.enqueue("Resource", { owner, uid: created.metadata.uid })))
    }
    gate.resolve()
    await waitFor(async () => calls.length >= 2 && (await queueIdle()), { what: "follow-up reconcile" })
    assert.equal(calls.filter((call) => call.uid === created.metadata.uid).length, 2)
  })

  test("a spec change that lands during a reconcile is never lost", async () => {
    calls.length = 0
    const gate = deferred()
    const entered = deferred()
    let first = true
    behaviour = async (object) => {
      if (first) {
        first = false
        entered.resolve()
        await gate.promise
      }
      await run(writeStatus(object, (status) => status))
      return "done"
    }
    const created = await createResource("racing")
    await entered.promise
    await run(updateObjectSpec(owner, { kind: "Resource", name: "racing" }, (spec) => ({ ...spec, size: "large" as const })))
    gate.resolve()
    const observed = await waitFor(async () => {
      const found = await run(ObjectStore.use((store) => store.getByUid(owner, created.metadata.uid)))
      return Option.isSome(found) && found.value.status.observedGeneration === 2 ? found.value : undefined
    }, { what: "observedGeneration 2" })
    assert.equal(observed.metadata.generation, 2)
    assert.ok(calls.some((call) => call.generation === 2))
  })

  test("failing reconciles back off exponentially, then recover", async () => {
    calls.length = 0
    let failures = 0
    // Only this key fails: keys left over by earlier tests may still be resynced meanwhile.
    behaviour = async (object) => (object.metadata.name === "flaky" && failures++ < 3 ? "fail" : "done")
    const created = await createResource("flaky")
    await waitFor(() => calls.filter((call) => call.uid === created.metadata.uid).length >= 4, { timeoutMs: 60_000, what: "recovery after 3 failures" })
    const times = calls.filter((call) => call.uid === created.metadata.uid).map((call) => call.at)
    const gaps = times.slice(1).map((time, index) => time - (times[index] as number))
    // pg-boss backoff with jitter: retry n waits retryDelay·2^n·(½ + ½·random) seconds, so each
    // gap's lower bound is the previous gap's upper bound.
    assert.equal(gaps.length, 3)
    assert.ok((gaps[0] as number) >= 400, `first retry waited ${gaps[0]} ms`)
    assert.ok((gaps[1] as number) >= (gaps[0] as number) * 0.9, `gaps grow: ${gaps.join(", ")}`)
    assert.ok((gaps[2] as number) >= (gaps[1] as number) * 0.9, `gaps grow: ${gaps.join(", ")}`)
    await waitFor(queueIdle, { what: "queue idle after recovery" })
    assert.equal(calls.filter((call) => call.uid === created.metadata.uid).length, 4, "no reconcile after success")
  })

  test("RequeueAfter looks again after the delay", async () => {
    calls.length = 0
    let polls = 0
    behaviour = async () => (++polls < 3 ? 200 : "done")
    const created = await createResource("polling")
    await waitFor(() => polls >= 3, { what: "three polls" })
    const times = calls.filter((call) => call.uid === created.metadata.uid).map((call) => call.at)
    assert.ok((times[1] as number) - (times[0] as number) >= 180)
    assert.ok((times[2] as number) - (times[1] as number) >= 180)
  })

  test("RequeueAfter moves a key's later waiting job earlier, never later", async () => {
    calls.length = 0
    let polls = 0
    behaviour = async (object) => {
      if (object.metadata.name !== "early") return "done"
      polls++
      if (polls === 1) {
        // A job already waiting for this key, due in an hour (as a resync spread or backoff leaves).
        await run(ReconcileQueue.use((queue) => queue.enqueueAfter("Resource", { owner, uid: object.metadata.uid }, 3_600_000)))
        return 200
      }
      return "done"
    }
    await createResource("early")
    await waitFor(() => polls >= 2, { timeoutMs: 15_000, what: "the poll 200 ms later, not an hour later" })
  })

  test("two replicas never reconcile the same key at once (1,000 keys, repeated enqueues)", async () => {
    const b = await startEngine({ url: db.url, key, engine: { concurrency: 8 } }, [testController("b")])
    engines.push(b)
    calls.length = 0
    const active = new Map<string, number>()
    const overlaps: Array<string> = []
    behaviour = async (object) => {
      const uid = object.metadata.uid
      const now = (active.get(uid) ?? 0) + 1
      active.set(uid, now)
      if (now > 1) overlaps.push(uid)
      await new Promise((resolve) => setImmediate(resolve))
      active.set(uid, (active.get(uid) ?? 1) - 1)
      return "done"
    }
    const uids: Array<string> = []
    await db.pool.query(
      `INSERT INTO objects (kind, owner, name, spec) SELECT 'Resource', $1, 'many-' || g, '{"type":"sqlite"}' FROM generate_series(1, 1000) g`,
      [owner]
    )
    for (const row of (await db.pool.query(`SELECT uid FROM objects WHERE name LIKE 'many-%'`)).rows) uids.push(row.uid)
    for (let round = 0; round < 3; round++) {
      await Promise.all(
        uids.map((uid) => run(ReconcileQueue.use((queue) => queue.enqueue("Resource", { owner, uid }))))
      )
    }
    await waitFor(async () => new Set(calls.map((call) => call.uid)).size >= 1000 && (await queueIdle()), { timeoutMs: 120_000, what: "1,000 keys reconciled" })
    assert.deepEqual(overlaps, [])
    assert.ok(new Set(calls.filter((call) => call.engine === "a").map((call) => call.uid)).size > 0, "replica a worked")
    assert.ok(new Set(calls.filter((call) => call.engine === "b").map((call) => call.uid)).size > 0, "replica b worked")
    // Three enqueue rounds collapse: at most 3 reconciles per key, usually fewer.
    const perKey = new Map<string, number>()
    for (const call of calls) perKey.set(call.uid, (perKey.get(call.uid) ?? 0) + 1)
    assert.ok(Math.max(...perKey.values()) <= 3)
  })

  test("a replica killed mid-reconcile (SIGKILL) has its key reconciled by another one", async () => {
    calls.length = 0
    behaviour = async () => "done"
    const child = spawn(process.execPath, [fileURLToPath(new URL("../../e2e/support/engine-child.ts", import.meta.url))], {
      env: { ...process.env, ENGINE_CHILD_DATABASE_URL: db.url, ENGINE_CHILD_KEY: key.toString("base64") },
      stdio: ["ignore", "pipe", "inherit"]
    })
    const exited = new Promise((resolve) => child.once("exit", resolve))
    const ready = new Promise<void>((resolve) => child.stdout.on("data", (chunk: Buffer) => chunk.toString().includes("READY") && resolve()))
    const hanging = new Promise<string>((resolve) =>
      child.stdout.on("data", (chunk: Buffer) => {
        const match = /RECONCILING (\S+)/.exec(chunk.toString())
        if (match?.[1]) resolve(match[1])
      })
    )
    await ready
    // Only the child works this kind now: the replicas of earlier tests are stopped.
    for (const engine of engines.splice(0)) await engine.dispose()
    const created = await createResource("crash-me")
    assert.equal(await hanging, created.metadata.uid)
    child.kill("SIGKILL")
    await exited
    const survivor = await startEngine({ url: db.url, key }, [testController("survivor")])
    engines.push(survivor)
    await waitFor(() => calls.some((call) => call.uid === created.metadata.uid && call.engine === "survivor"), {
      timeoutMs: 45_000,
      what: "the survivor to take over the crashed key"
    })
  })

  test("shutdown lets an in-flight reconcile finish and completes its job", async () => {
    const c = await startEngine({ url: db.url, key, engine: { shutdownTimeoutMs: 30_000 } }, [testController("c")])
    for (const engine of engines.splice(0)) await engine.dispose()
    calls.length = 0
    const gate = deferred()
    const entered = deferred()
    let finished = false
    behaviour = async () => {
      entered.resolve()
      await gate.promise
      finished = true
      return "done"
    }
    const created = await createResource("draining")
    await entered.promise
    const disposing = c.dispose()
    gate.resolve()
    await disposing
    assert.equal(finished, true)
    const job = await db.pool.query(`SELECT state FROM pgboss.job WHERE name = $1 AND singleton_key = $2 ORDER BY created_on DESC LIMIT 1`, [
      queueName("Resource"),
      created.metadata.uid
    ])
    assert.equal(job.rows[0]?.state, "completed")
  })
})
