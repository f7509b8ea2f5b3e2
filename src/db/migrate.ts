/**
 * Plain numbered SQL migrations (migrations/NNN_name.sql), applied at start-up.
 * A session-level advisory lock serialises replicas starting together, so each file runs once;
 * each file runs in its own transaction and is recorded in `schema_migrations` in that transaction.
 */
import { createHash } from "node:crypto"
import { readdir, readFile } from "node:fs/promises"
import path from "node:path"
import { fileURLToPath } from "node:url"
import type pg from "pg"
import { Schema } from "effect"
import { checkOut } from "./checkout.ts"

export const MIGRATIONS_DIR = fileURLToPath(new URL("../../migrations/", import.meta.url))

/** Arbitrary constant; every replica of this product takes the same lock. */
const MIGRATION_LOCK_KEY = 7_301_991_042

export class MigrationError extends Schema.TaggedError<MigrationError>()("MigrationError", {
  file: Schema.String,
  message: Schema.String
}) {}

export interface MigrationFile {
  readonly name: string
  readonly sql: string
  readonly checksum: string
}

export const readMigrations = async (dir = MIGRATIONS_DIR): Promise<ReadonlyArray<MigrationFile>> => {
  const names = (await readdir(dir)).filter((name) => /^\d{3,}_[a-z0-9_]+\.sql$/.test(name)).sort()
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(path.join(dir, name), "utf8")
      return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") }
    })
  )
}

export interface MigrationResult {
  readonly applied: ReadonlyArray<string>
}

/** Applies pending migrations; throws MigrationError naming the file and the database error. */
export const migrate = async (pool: pg.Pool, dir = MIGRATIONS_DIR): Promise<MigrationResult> => {
  const files = await readMigrations(dir)
  const checkout = await checkOut(pool)
  const client = checkout.client
  const applied: Array<string> = []
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY])
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        name text PRIMARY KEY,
        checksum text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`)
      const done = new Map(
        (await client.query<{ name: string; checksum: string }>("SELECT name, checksum FROM schema_migrations")).rows.map((row) => [row.name, row.checksum])
      )
      for (const file of files) {
        const recorded = done.get(file.name)
        if (recorded !== undefined) {
          if (recorded !== file.checksum) {
            throw new MigrationError({ file: file.name, message: "was changed after it was applied; add a new migration instead of editing an applied one" })
          }
          continue
        }
        try {
          await client.query("BEGIN")
          await client.query(file.sql)
          await client.query("INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)", [file.name, file.checksum])
          await client.query("COMMIT")
          applied.push(file.name)
        } catch (cause) {
          await client.query("ROLLBACK").catch(() => {})
          throw new MigrationError({ file: file.name, message: (cause as Error).message })
        }
      }
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]).catch(() => {})
    }
  } finally {
    checkout.release()
  }
  return { applied }
}

/** True when every migration file has been applied (what /readyz checks). */
export const migrationsApplied = async (pool: pg.Pool, dir = MIGRATIONS_DIR): Promise<boolean> => {
  const files = await readMigrations(dir)
  const result = await pool.query<{ name: string }>("SELECT name FROM schema_migrations").catch(() => undefined)
  if (!result) return false
  const names = new Set(result.rows.map((row) => row.name))
  return files.every((file) => names.has(file.name))
}
