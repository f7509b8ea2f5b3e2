/**
 * Real PostgreSQL for tests: one server per test run (started by e2e/run-tests.ts and passed in
 * TEST_DATABASE_URL), a fresh database per test file. A file run on its own starts its own server.
 */
import { randomBytes } from "node:crypto"
import { mkdtemp, rm } from "node:fs/promises"
import os from "node:os"
import path from "node:path"
import pg from "pg"
import { startEmbeddedPostgres } from "../../src/db/embedded.ts"
import { migrate } from "../../src/db/migrate.ts"

let ownServer: Promise<string> | undefined

/** URL of the test run's server (its `postgres` maintenance database). */
export const testServerUrl = async (): Promise<string> => {
  const given = process.env.TEST_DATABASE_URL
  if (given) return given
  ownServer ??= (async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "deploy-mcp-pg-"))
    const server = await startEmbeddedPostgres({ dataDir: dir, database: "postgres" })
    process.once("exit", () => {
      // Best effort: the cluster dies with its postmaster when the process group ends.
      void server.stop()
    })
    process.env.TEST_DATABASE_URL = server.url
    return server.url
  })()
  return ownServer
}

export interface TestDatabase {
  readonly url: string
  readonly pool: pg.Pool
  /** Closes the pool and drops the database. */
  readonly drop: () => Promise<void>
}

const withDatabase = (url: string, database: string) => {
  const parsed = new URL(url)
  parsed.pathname = `/${database}`
  return parsed.toString()
}

/** A new, empty database; migrated unless `migrated: false`. */
export const createTestDatabase = async (options: { migrated?: boolean } = {}): Promise<TestDatabase> => {
  const server = await testServerUrl()
  const name = `test_${randomBytes(6).toString("hex")}`
  const admin = new pg.Client({ connectionString: server })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const url = withDatabase(server, name)
  const pool = new pg.Pool({ connectionString: url, max: 10 })
  pool.on("error", () => {})
  if (options.migrated !== false) await migrate(pool)
  return {
    url,
    pool,
    drop: async () => {
      await pool.end()
      const client = new pg.Client({ connectionString: server })
      await client.connect()
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await client.end()
    }
  }
}

export const tempDir = (prefix: string) => mkdtemp(path.join(os.tmpdir(), `deploy-mcp-${prefix}-`))
export const removeDir = (dir: string) => rm(dir, { recursive: true, force: true })
