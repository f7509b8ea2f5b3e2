/**
 * Crash at each step of a Resource's life: an engine replica in a child process is SIGKILLed while
 * the Turso fake holds one of its calls open (before the call took effect, or after — the "lost
 * answer"), then a fresh replica takes over. Whatever the step, the result is exactly the databases
 * the desired state asks for: never a second one, never an orphan, and working credentials.
 *
 * The scenarios run at once, each with its own PostgreSQL database and Turso fake, because each
 * waits out the queue's heartbeat (10 s) before the survivor may take the killed replica's job.
 */
import assert from "node:assert/strict"
import { spawn } from "node:child_process"
import { once } from "node:events"
import { fileURLToPath } from "node:url"
import { describe, test } from "node:test"
import { Annotations } from "../../schemas/index.ts"
import { createObject, deleteObject, updateObjectSpec } from "../../src/desired/write.ts"
import { startTursoFake, type FaultPhase, type TursoFake } from "../fakes/turso/index.ts"
import { startEngine } from "../support/engine.ts"
import { createTestDatabase, type TestDatabase } from "../support/postgres.ts"
import { waitFor } from "../support/wait.ts"
import {
  captureLogs,
  condition,
  ensureUser,
  findResource,
  newKey,
  ORG,
  run,
  startResourceEngine,
  storedCredentials,
  waitForGone,
  waitForReady
} from "./support.ts"

const CHILD = fileURLToPath(new URL("./resource-engine-child.ts", import.meta.url))
const NAME = "crash-db"
/** Heartbeat (10 s) + monitor + retry backoff, with room for a loaded machine. */
const TAKEOVER_MS = 60_000

interface World {
  readonly db: TestDatabase
  readonly fake: TursoFake
  readonly key: Buffer
  readonly owner: string
  readonly writer: Awaited<ReturnType<typeof startEngine>>
  /** Every token the scenario saw stored: none may appear in any log of either replica. */
  readonly tokens: Array<string>
  readonly logs: Array<() => string>
  /** Survivors to stop when the scenario ends. */
  readonly engines: Array<{ readonly dispose: () => Promise<void> }>
}

const setUp = async (): Promise<World> => {
  const db = await createTestDatabase()
  const fake = await startTursoFake({ org: ORG })
  const key = newKey()
  // Writes like an API-only replica: it enqueues but runs no controllers.
  const writer = await startEngine({ url: db.url, key, queue: { max: 2 } }, [])
  const owner = await ensureUser(writer.runtime, "crash-test")
  return { db, fake, key, owner, writer, tokens: [], logs: [], engines: [] }
}

const tearDown = async (world: World) => {
  for (const engine of world.engines) await engine.dispose()
  await world.writer.dispose()
  await world.fake.close()
  await world.db.drop()
}

/** Starts the replica to be killed and resolves once its workers listen. */
const startVictim = async (world: World) => {
  const child = spawn(process.execPath, [CHILD], {
    env: {
      ...process.env,
      RESOURCE_CHILD_DATABASE_URL: world.db.url,
      RESOURCE_CHILD_KEY: world.key.toString("base64"),
      RESOURCE_CHILD_TURSO_URL: world.fake.url,
      RESOURCE_CHILD_TURSO_TOKEN: world.fake.token
    },
    stdio: ["ignore", "pipe", "inherit"]
  })
  let output = ""
  const exited = once(child, "exit")
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString()
      if (output.includes("READY\n")) resolve()
    })
    child.once("exit", (code) => reject(new Error(`the victim replica exited early (${code})`)))
  })
  await ready
  world.logs.push(() => output)
  return {
    kill: async () => {
      child.kill("SIGKILL")
      await exited
    }
  }
}

/** The replica that takes over, in this process, with its logs captured. */
const startSurvivor = async (world: World) => {
  const logs = captureLogs()
  world.logs.push(logs.text)
  const survivor = await startResourceEngine({
    databaseUrl: world.db.url,
    key: world.key,
    provider: { turso: { url: world.fake.url, token: world.fake.token } },
    logDestination: logs.destination
  })
  world.engines.push(survivor)
}

const resource = (world: World) => findResource(world.writer.runtime, world.owner, NAME)

/** Hang one call of `operation` at `phase`, wait until the victim makes it, then kill the victim. */
const killDuring = async (world: World, victim: { kill: () => Promise<void> }, operation: string, phase: FaultPhase, act: () => Promise<unknown>) => {
  const before = world.fake.calls.entries.filter((call) => call.operation === operation && call.outcome === "hang").length
  world.fake.faults.hang({ operation, phase, times: 1 })
  await act()
  await waitFor(() => world.fake.calls.entries.filter((call) => call.operation === operation && call.outcome === "hang").length > before, {
    what: `the victim to call ${operation}`
  })
  await victim.kill()
}

/** The survivor's end state: one database, the one the status names, opened by the stored token. */
const assertOneWorkingDatabase = async (world: World, credentialsVersion?: number) => {
  const ready = await waitForReady(world.writer.runtime, world.owner, NAME, { timeoutMs: TAKEOVER_MS, ...(credentialsVersion ? { credentialsVersion } : {}) })
  assert.deepEqual([...world.fake.state.databases.keys()], [ready.status.externalId], "exactly one database, the one in status")
  assert.equal(ready.metadata.annotations[Annotations.createPending], undefined)
  assert.equal(ready.metadata.annotations[Annotations.externalName], ready.status.externalId)
  const credentials = await storedCredentials(world.writer.runtime, world.owner, ready.metadata.uid)
  assert.ok(credentials?.authToken)
  world.tokens.push(credentials.authToken)
  assert.equal(await world.fake.verifyDatabaseToken(ready.status.externalId ?? "", credentials.authToken), true, "the stored token works")
  return { ready, credentials }
}

const assertNoTokenLogged = (world: World) => {
  const text = world.logs.map((logs) => logs()).join("\n")
  for (const token of world.tokens) assert.equal(text.includes(token), false, "a token leaked into a replica's logs")
}

/** Runs a scenario in its own world and always cleans up. */
const scenario = (body: (world: World) => Promise<void>) => async () => {
  const world = await setUp()
  try {
    await body(world)
    assert.deepEqual(world.fake.violations, [])
    assertNoTokenLogged(world)
  } finally {
    await tearDown(world)
  }
}
const createResource = (world: World) => run(world.writer.runtime, createObject(world.owner, { kind: "Resource", name: NAME, spec: { type: "sqlite" } }))

describe("Resource controller: SIGKILL at each step, then restart", { concurrency: true }, () => {
  test(
    "killed while the create call had not reached Turso: the create-pending mark was written first; the survivor creates one database",
    scenario(async (world) => {
      const victim = await startVictim(world)
      await killDuring(world, victim, "createDatabase", "before", () => createResource(world))
      const pending = await resource(world)
      assert.ok(pending?.metadata.annotations[Annotations.createPending], "create-pending was written before the provider call")
      assert.equal(pending?.metadata.annotations[Annotations.externalName], undefined)
      assert.equal(world.fake.state.databases.size, 0)
      await startSurvivor(world)
      const { ready } = await assertOneWorkingDatabase(world)
      assert.equal(condition(ready, "Synced")?.reason, "Created")
    })
  )

  test(
    "killed after Turso created the database but before the answer arrived: the survivor adopts it instead of creating a second",
    scenario(async (world) => {
      const victim = await startVictim(world)
      await killDuring(world, victim, "createDatabase", "after", () => createResource(world))
      assert.equal(world.fake.state.databases.size, 1, "the database exists; its creator never heard")
      await startSurvivor(world)
      const { ready } = await assertOneWorkingDatabase(world)
      assert.equal(condition(ready, "Synced")?.reason, "Adopted")
      assert.equal(world.fake.calls.count("createDatabase"), 1, "no second create call")
    })
  )

  test(
    "killed while minting the token (minted, answer lost): the survivor revokes it by rotating, then stores a fresh one",
    scenario(async (world) => {
      const victim = await startVictim(world)
      await killDuring(world, victim, "createDatabaseToken", "after", () => createResource(world))
      await startSurvivor(world)
      await assertOneWorkingDatabase(world)
      assert.equal(world.fake.calls.count("createDatabase"), 1)
      assert.ok(world.fake.calls.count("invalidateDatabaseTokens") >= 1, "the lost token was revoked before minting the kept one")
    })
  )

  test(
    "killed during a rotation (rotated, answer lost): the survivor finishes it; the old token no longer works",
    scenario(async (world) => {
      const victim = await startVictim(world)
      await createResource(world)
      const { credentials: old } = await assertOneWorkingDatabase(world)
      await killDuring(world, victim, "invalidateDatabaseTokens", "after", () =>
        run(world.writer.runtime, updateObjectSpec(world.owner, { kind: "Resource", name: NAME }, (spec) => ({ ...spec, rotationNonce: 1 })))
      )
      await startSurvivor(world)
      const { ready, credentials } = await assertOneWorkingDatabase(world, old.version + 1)
      assert.equal(ready.status.appliedRotationNonce, 1)
      assert.equal(await world.fake.verifyDatabaseToken(ready.status.externalId ?? "", old.authToken ?? ""), false, "the old token is revoked")
      assert.notEqual(credentials.authToken, old.authToken)
    })
  )

  test(
    "killed while deleting (deleted, answer lost): the survivor finishes the delete; no database, credentials or row is left",
    scenario(async (world) => {
      const victim = await startVictim(world)
      await createResource(world)
      const { ready } = await assertOneWorkingDatabase(world)
      await killDuring(world, victim, "deleteDatabase", "after", () => run(world.writer.runtime, deleteObject(world.owner, { kind: "Resource", name: NAME })))
      assert.equal(world.fake.state.databases.size, 0)
      assert.ok(await resource(world), "the row waits for its finalizer")
      await startSurvivor(world)
      await waitForGone(world.writer.runtime, world.owner, NAME, TAKEOVER_MS)
      assert.equal(world.fake.state.databases.size, 0)
      const credentials = await world.db.pool.query(`SELECT 1 FROM resource_credentials WHERE resource_uid = $1`, [ready.metadata.uid])
      assert.equal(credentials.rowCount, 0)
    })
  )
})
