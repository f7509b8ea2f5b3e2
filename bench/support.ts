/**
 * Shared bench plumbing: a real PostgreSQL for the run (embedded, in a temp folder), fresh databases,
 * percentiles, and a report line format. Benches report ratios against a baseline measured in the
 * same run on the same database — never absolute pass/fail thresholds.
 */
import { randomBytes } from "node:crypto"
import { mkdtemp, rm } from "node:fs/promises"
import os from "node:os"
import path from "node:path"
import pg from "pg"
import { startEmbeddedPostgres } from "../src/db/embedded.ts"
import { migrate } from "../src/db/migrate.ts"

export interface BenchDatabase {
  readonly url: string
  readonly pool: pg.Pool
  readonly close: () => Promise<void>
}

/**
 * `--quick` (from `npm run bench -- --quick`, passed down by bench/run.ts): small sizes, a few
 * seconds per bench, so CI proves every bench still runs end to end. The numbers it prints are
 * too small to compare; full runs are for that.
 */
export const quick = process.argv.includes("--quick")

/** A size knob: the environment variable when set, otherwise the full or the quick default. */
export const sized = (variable: string, full: number, quickSize: number): number => {
  const given = process.env[variable]
  return given !== undefined && given !== "" ? Number(given) : quick ? quickSize : full
}

/** A migrated database on a server of its own (or on BENCH_DATABASE_URL's server). */
export const benchDatabase = async (): Promise<BenchDatabase> => {
  let serverUrl = process.env.BENCH_DATABASE_URL
  let stopServer = async () => {}
  if (!serverUrl) {
    const dir = await mkdtemp(path.join(os.tmpdir(), "deploy-mcp-bench-"))
    const server = await startEmbeddedPostgres({ dataDir: dir, database: "postgres" })
    serverUrl = server.url
    stopServer = async () => {
      await server.stop()
      await rm(dir, { recursive: true, force: true })
    }
  }
  const name = `bench_${randomBytes(4).toString("hex")}`
  const admin = new pg.Client({ connectionString: serverUrl })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  const pool = new pg.Pool({ connectionString: url.toString(), max: 20 })
  // Stopping the server at the end ends idle pooled connections (pg-pool's end() resolves before
  // their sockets close): an 'error' nobody listens to would crash the bench after it reported.
  pool.on("error", () => {})
  await migrate(pool)
  return {
    url: url.toString(),
    pool,
    close: async () => {
      await pool.end()
      await stopServer()
    }
  }
}

export const percentile = (values: ReadonlyArray<number>, p: number): number => {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number
}

export const timed = async <T>(run: () => Promise<T>): Promise<{ value: T; seconds: number }> => {
  const started = performance.now()
  const value = await run()
  return { value, seconds: (performance.now() - started) / 1000 }
}

/** Run `count` tasks with at most `concurrency` in flight. */
export const pooled = async (count: number, concurrency: number, task: (index: number) => Promise<void>) => {
  let next = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await task(next++)
    })
  )
}

export const report = (bench: string, rows: ReadonlyArray<Record<string, string | number>>) => {
  process.stdout.write(`\n## ${bench}\n`)
  for (const row of rows) {
    process.stdout.write(
      Object.entries(row)
        .map(([key, value]) => `${key}=${typeof value === "number" ? (Number.isInteger(value) ? value : value.toFixed(value < 10 ? 3 : 1)) : value}`)
        .join("  ") + "\n"
    )
  }
}
