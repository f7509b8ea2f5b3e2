/**
 * The server outlives its database restarting. A PostgreSQL cluster of the test's own (so stopping
 * it disturbs no other test) is fast-shut-down — every backend gets 57P01 "terminating connection
 * due to administrator command", as in a real restart — while MCP calls are in flight and a
 * `wait: true` call is parked on a reconcile and a transaction is held open. The process must not die; /readyz says 503 without
 * leaking the driver's error and 200 again after; tools, writes, the controllers (pg-boss
 * workers) and the LISTEN connection (the parked wait ends when its app turns Ready) all recover.
 */
import assert from "node:assert/strict"
import { randomBytes } from "node:crypto"
import { Writable } from "node:stream"
import { after, before, test } from "node:test"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { Effect, Exit } from "effect"
import { ApiKeyStore } from "../../src/auth/api-key-store.ts"
import { Database } from "../../src/db/database.ts"
import { startEmbeddedPostgres, type EmbeddedDatabase } from "../../src/db/embedded.ts"
import { UserStore } from "../../src/store/users.ts"
import { startSystem, type RunningSystem } from "../../src/system/boot.ts"
import { release, scriptedAppController } from "../mcp/test-controllers.ts"
import { removeDir, tempDir } from "../support/postgres.ts"
import { deferred, waitFor } from "../support/wait.ts"

interface WaitResult {
  readonly app: { readonly name: string; readonly ready: { readonly status: string } }
  readonly wait: { readonly outcome: string; readonly message: string }
}

/** Every uncaught exception or unhandled rejection: an unhandled pg 'error' event lands here. */
const crashes: Array<unknown> = []
const recordCrash = (error: unknown) => void crashes.push(error)

/** The server's log lines (warn and above), to wait on each part having seen the outage. */
const logLines: Array<string> = []
const logDestination = new Writable({
  write(chunk: Buffer, _encoding, done) {
    logLines.push(chunk.toString())
    done()
  }
})
const logged = (message: string) => logLines.some((line) => line.includes(message))

let pgDir: string
let dataDir: string
let cluster: EmbeddedDatabase
let system: RunningSystem
let client: Client

const readyz = async () => {
  const response = await fetch(`${system.url}/readyz`)
  return { status: response.status, text: await response.text() }
}

before(async () => {
  process.on("uncaughtException", recordCrash)
  process.on("unhandledRejection", recordCrash)
  pgDir = await tempDir("restart-pg")
  dataDir = await tempDir("restart-data")
  cluster = await startEmbeddedPostgres({ dataDir: pgDir, database: "deploy" })
  system = await startSystem({
    env: {
      DATABASE_URL: cluster.url,
      DATA_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
      DATA_DIR: dataDir,
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn"
    },
    controllers: [scriptedAppController],
    engine: { pollingIntervalSeconds: 0.5 },
    logDestination
  })
  const key = await system.runtime.runPromise(
    Effect.gen(function*() {
      const user = yield* (yield* UserStore).upsertGitHub(4242, "restarter")
      return (yield* (yield* ApiKeyStore).create(user.id, "e2e")).key
    }).pipe(Effect.provide(ApiKeyStore.layer))
  )
  client = new Client({ name: "restart", version: "1.0.0" })
  await client.connect(new StreamableHTTPClientTransport(new URL(`${system.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${key}` } } }))
})

after(async () => {
  await client?.close().catch(() => undefined)
  await system?.stop()
  await cluster?.stop()
  await removeDir(pgDir)
  await removeDir(dataDir)
  process.off("uncaughtException", recordCrash)
  process.off("unhandledRejection", recordCrash)
})

test("a fast shutdown and restart of PostgreSQL under load: the server lives, reports not-ready, then serves, writes and reconciles again", async () => {
  assert.equal((await readyz()).status, 200)
  const before = await client.callTool({ name: "create_app", arguments: { repo: "octocat/before", name: "before", wait: true, wait_timeout_seconds: 30 } })
  assert.equal((before.structuredContent as unknown as WaitResult).wait.outcome, "ready", JSON.stringify(before.content))

  // A wait parked across the outage: its reconcile writes Building, then holds until released.
  const building = deferred<void>()
  const parked = client.callTool({ name: "create_app", arguments: { repo: "octocat/slow", name: "slow-across", wait: true, wait_timeout_seconds: 120 } }, undefined, {
    timeout: 120_000,
    onprogress: (progress) => {
      if (progress.message?.includes("Deployed=False (Building)")) building.resolve()
    }
  })
  await building.promise

  // MCP calls in flight the whole time; during the outage they may fail, never crash anything.
  let calling = true
  const outcomes = { ok: 0, failed: 0 }
  const load = (async () => {
    for (let i = 0; calling; i++) {
      try {
        // Writes too: each is a transaction (a checked-out client), and each enqueues a reconcile.
        const result =
          i % 3 === 0
            ? await client.listTools()
            : await client.callTool(i % 3 === 1 ? { name: "list_apps", arguments: {} } : { name: "create_app", arguments: { repo: "octocat/load", name: `load-${i}` } })
        if (result.isError === true) throw new Error("tool error")
        outcomes.ok++
      } catch {
        outcomes.failed++
      }
    }
  })()
  await waitFor(() => outcomes.ok >= 5, { what: "calls succeeding before the outage" })

  // A transaction of the server's own held open across the shutdown: its client is checked out
  // and idle when the server ends the connection (the case pg-pool leaves unguarded).
  const inTransaction = deferred<void>()
  const finishTransaction = deferred<void>()
  const held = system.runtime.runPromiseExit(
    Effect.gen(function*() {
      const db = yield* Database
      return yield* db.transaction(
        Effect.gen(function*() {
          yield* db.query("SELECT 1")
          inTransaction.resolve()
          yield* Effect.promise(() => finishTransaction.promise)
          yield* db.query("SELECT 1")
        })
      )
    })
  )
  await inTransaction.promise

  await cluster.stop()
  const down = await waitFor(async () => {
    const answer = await readyz()
    return answer.status === 503 && answer
  }, { what: "/readyz 503 while the database is down" })
  assert.deepEqual(JSON.parse(down.text).checks, { database: "unreachable", migrations: "unknown" })
  assert.doesNotMatch(down.text, /ECONNREFUSED|127\.0\.0\.1|postgres|terminat/i, "the public answer must not carry the driver's error")
  // Every connection owner has met the outage before the database comes back.
  await waitFor(() => logged("LISTEN connection lost"), { what: "the LISTEN connection noticing the outage" })
  await waitFor(() => logged("job queue database error"), { what: "pg-boss reporting the outage" })
  const failedWhileDown = outcomes.failed
  await waitFor(() => outcomes.failed > failedWhileDown, { what: "an MCP call failing while the database is down" })
  finishTransaction.resolve()
  const heldExit = await held
  assert.ok(Exit.isFailure(heldExit), "the transaction whose connection was ended fails")
  assert.match(String(heldExit.cause), /DatabaseError/)

  cluster = await startEmbeddedPostgres({ dataDir: pgDir, database: "deploy" })
  await waitFor(async () => (await readyz()).status === 200, { timeoutMs: 30_000, what: "/readyz 200 after the restart" })
  const okAfterRestart = outcomes.ok
  await waitFor(() => outcomes.ok >= okAfterRestart + 5, { timeoutMs: 30_000, what: "MCP calls succeeding again" })
  calling = false
  await load

  // The parked wait resumes: its reconcile finishes, and the status NOTIFY reaches it over the
  // re-established LISTEN connection.
  release("slow-across")
  const resumed = await parked
  assert.notEqual(resumed.isError, true, JSON.stringify(resumed.content))
  assert.equal((resumed.structuredContent as unknown as WaitResult).wait.outcome, "ready")

  const tools = await client.listTools()
  assert.ok(tools.tools.some((tool) => tool.name === "create_app"))
  // A write after the restart, reconciled by the controllers (pg-boss workers resumed).
  const afterRestart = await client.callTool({ name: "create_app", arguments: { repo: "octocat/after", name: "after", wait: true, wait_timeout_seconds: 30 } })
  assert.notEqual(afterRestart.isError, true, JSON.stringify(afterRestart.content))
  const outcome = afterRestart.structuredContent as unknown as WaitResult
  assert.equal(outcome.wait.outcome, "ready", outcome.wait.message)
  assert.equal(outcome.app.ready.status, "True")
  const conditions = await system.pool.query<{ n: number }>(
    `SELECT jsonb_array_length(status->'conditions')::int AS n FROM objects WHERE kind = 'App' AND name = 'after'`
  )
  assert.ok((conditions.rows[0]?.n ?? 0) > 0, "the controller wrote the new app's conditions")

  assert.deepEqual(crashes, [])
})
