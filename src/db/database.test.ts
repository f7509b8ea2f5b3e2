import assert from "node:assert/strict"
import { after, before, test } from "node:test"
import { Effect, Exit } from "effect"
import pg from "pg"
import { createTestDatabase, type TestDatabase } from "../../e2e/support/postgres.ts"
import { CurrentTransaction, DatabaseError, makeDatabase } from "./database.ts"

let db: TestDatabase
/** Every uncaught exception while the tests run: an unhandled pg 'error' event lands here. */
const uncaught: Array<unknown> = []
const recordUncaught = (error: unknown) => void uncaught.push(error)

before(async () => {
  db = await createTestDatabase()
  process.on("uncaughtException", recordUncaught)
})
after(async () => {
  process.off("uncaughtException", recordUncaught)
  await db.drop()
})

/** Ends a backend from another connection, as a restart or an operator would. */
const terminate = (pid: number) => db.pool.query("SELECT pg_terminate_backend($1)", [pid])

const backendPid = (client: pg.ClientBase) => client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid").then((result) => result.rows[0]?.pid as number)

const failureOf = <A>(exit: Exit.Exit<A, unknown>): unknown => {
  assert.ok(Exit.isFailure(exit), "the transaction should have failed")
  const error = exit.cause.reasons.find((reason) => reason._tag === "Fail")
  assert.ok(error && error._tag === "Fail", `expected a typed failure, got ${String(exit.cause)}`)
  return error.error
}

test("a transaction whose connection is terminated between two statements fails with DatabaseError; the process and the pool live on", async () => {
  const pool = new pg.Pool({ connectionString: db.url, max: 2 })
  pool.on("error", () => {})
  const database = makeDatabase(pool)
  let terminatedPid = 0
  try {
    const exit = await Effect.runPromiseExit(
      database.transaction(
        Effect.gen(function*() {
          const client = yield* CurrentTransaction
          assert.ok(client)
          terminatedPid = yield* Effect.promise(() => backendPid(client))
          // No statement is running when the server ends the connection: pg emits 'error' on the
          // client, which pg-pool does not listen to while it is checked out.
          const ended = new Promise<void>((resolve) => client.once("end", () => resolve()))
          yield* Effect.promise(() => terminate(terminatedPid))
          yield* Effect.promise(() => ended)
          yield* database.query("SELECT 1")
        })
      )
    )
    const error = failureOf(exit)
    assert.ok(error instanceof DatabaseError, `expected DatabaseError, got ${String(error)}`)
    assert.match(error.message, /connection/i)
    assert.deepEqual(uncaught, [])
    // The broken connection was destroyed, not pooled: the next statement runs on a new backend.
    const next = await Effect.runPromise(database.transaction(database.currentClient.pipe(Effect.flatMap((client) => Effect.promise(() => backendPid(client as pg.ClientBase))))))
    assert.notEqual(next, terminatedPid)
    assert.deepEqual(uncaught, [])
  } finally {
    await pool.end()
  }
})

test("a transaction whose connection is terminated during a statement rejects that statement with the server's error", async () => {
  const pool = new pg.Pool({ connectionString: db.url, max: 2 })
  pool.on("error", () => {})
  const database = makeDatabase(pool)
  try {
    const exit = await Effect.runPromiseExit(
      database.transaction(
        Effect.gen(function*() {
          const client = yield* CurrentTransaction
          assert.ok(client)
          const pid = yield* Effect.promise(() => backendPid(client))
          const sleeping = Effect.runPromiseExit(database.query("SELECT pg_sleep(30)").pipe(Effect.provideService(CurrentTransaction, client)))
          // Terminate only once the sleep is what the backend is running.
          yield* Effect.promise(async () => {
            const deadline = Date.now() + 10_000
            for (;;) {
              const state = await db.pool.query<{ query: string }>("SELECT query FROM pg_stat_activity WHERE pid = $1", [pid])
              if (state.rows[0]?.query.includes("pg_sleep")) break
              if (Date.now() > deadline) throw new Error("the sleep never started")
              await new Promise((resolve) => setTimeout(resolve, 10))
            }
            await terminate(pid)
          })
          const slept = yield* Effect.promise(() => sleeping)
          return yield* slept
        })
      )
    )
    const error = failureOf(exit)
    assert.ok(error instanceof DatabaseError)
    assert.equal(error.code, "57P01", `expected admin_shutdown, got ${error.message}`)
    // The socket closing after the error message arrives too; it must not crash either.
    await pool.query("SELECT 1")
    assert.deepEqual(uncaught, [])
  } finally {
    await pool.end()
  }
})
