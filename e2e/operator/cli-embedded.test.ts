/**
 * The CLI on the embedded default (no DATABASE_URL): it finds the cluster and key in DATA_DIR,
 * uses the running cluster, or starts it itself and stops it again; exit codes survive either way.
 */
import assert from "node:assert/strict"
import { after, before, test } from "node:test"
import { Effect, ManagedRuntime } from "effect"
import pg from "pg"
import { loadOrCreateDataKey } from "../../src/crypto/data-key.ts"
import { startEmbeddedPostgres, type EmbeddedDatabase } from "../../src/db/embedded.ts"
import { migrate } from "../../src/db/migrate.ts"
import { ObjectStore } from "../../src/store/objects.ts"
import { UserStore } from "../../src/store/users.ts"
import { storeLayer } from "../support/layers.ts"
import { removeDir, tempDir } from "../support/postgres.ts"
import { runCli } from "./cli.ts"

let dataDir: string
let cluster: EmbeddedDatabase | undefined

const accepts = async (url: string) => {
  const client = new pg.Client({ connectionString: url })
  client.on("error", () => {})
  try {
    await client.connect()
    return true
  } catch {
    return false
  } finally {
    await client.end().catch(() => {})
  }
}

before(async () => {
  dataDir = await tempDir("cli-embedded")
  cluster = await startEmbeddedPostgres({ dataDir })
  const pool = new pg.Pool({ connectionString: cluster.url })
  await migrate(pool)
  const runtime = ManagedRuntime.make(storeLayer(pool, await loadOrCreateDataKey(dataDir)))
  await runtime.runPromise(
    Effect.gen(function*() {
      const local = yield* (yield* UserStore).ensure("local")
      yield* (yield* ObjectStore).create(local.id, {
        kind: "App",
        name: "site",
        spec: { repo: "local/site", branch: "main", revision: null, buildPack: "static", runtimeMode: "static", env: { TOKEN: "sealed" }, resourceRefs: [], redeployNonce: 0 }
      })
    })
  )
  await runtime.dispose()
  await pool.end()
})

after(async () => {
  await cluster?.stop()
  await removeDir(dataDir)
})

test("uses the embedded cluster the server runs, with the key from DATA_DIR", async () => {
  const result = await runCli(["get", "apps"], { DATA_DIR: dataDir })
  assert.equal(result.code, 0, result.stderr)
  assert.match(result.stdout, /^site\s+Unknown\s+Pending/m)
})

test("starts a stopped cluster itself, stops it afterwards, and still exits non-zero on failure", async () => {
  const url = cluster?.url as string
  await cluster?.stop()
  cluster = undefined
  assert.equal(await accepts(url), false)

  const missing = await runCli(["describe", "app", "nope"], { DATA_DIR: dataDir })
  assert.equal(missing.code, 1, missing.stdout)
  assert.equal(missing.stderr, "error: app 'nope' not found for user 'local'; apps: site\n")

  const described = await runCli(["describe", "app", "site"], { DATA_DIR: dataDir })
  assert.equal(described.code, 0, described.stderr)
  assert.match(described.stdout, /^ {4}TOKEN: \(redacted\)$/m)
  assert.equal(await accepts(url), false, "the CLI stopped the cluster it started")
})

test("a DATA_DIR without a database says what to do", async () => {
  const empty = await tempDir("cli-empty")
  try {
    const result = await runCli(["get", "apps"], { DATA_DIR: empty })
    assert.equal(result.code, 1)
    assert.match(result.stderr, /^error: no database: DATABASE_URL is not set and .* holds no embedded database/)
  } finally {
    await removeDir(empty)
  }
})
