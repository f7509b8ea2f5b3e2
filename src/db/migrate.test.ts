import assert from "node:assert/strict"
import { mkdtemp, writeFile } from "node:fs/promises"
import os from "node:os"
import path from "node:path"
import { test } from "node:test"
import pg from "pg"
import { createTestDatabase } from "../../e2e/support/postgres.ts"
import { migrate, MigrationError, migrationsApplied } from "./migrate.ts"

test("two replicas starting together apply each migration exactly once", async () => {
  const db = await createTestDatabase({ migrated: false })
  const other = new pg.Pool({ connectionString: db.url })
  try {
    const [a, b] = await Promise.all([migrate(db.pool), migrate(other)])
    const applied = [...a.applied, ...b.applied].sort()
    const unique = [...new Set(applied)]
    assert.deepEqual(applied, unique, "no file applied twice")
    assert.ok(applied.includes("001_objects.sql"))
    const recorded = await db.pool.query("SELECT name FROM schema_migrations ORDER BY name")
    assert.deepEqual(recorded.rows.map((row) => row.name), unique)
    assert.equal(await migrationsApplied(db.pool), true)
    assert.deepEqual((await migrate(db.pool)).applied, [], "a restart applies nothing")
  } finally {
    await other.end()
    await db.drop()
  }
})

test("a failing migration rolls back and names the file and the database error", async () => {
  const db = await createTestDatabase({ migrated: false })
  const dir = await mkdtemp(path.join(os.tmpdir(), "deploy-mcp-migrations-"))
  await writeFile(path.join(dir, "001_good.sql"), "CREATE TABLE good (id int);")
  await writeFile(path.join(dir, "002_bad.sql"), "CREATE TABLE half (id int); SELECT * FROM missing_table;")
  try {
    await assert.rejects(migrate(db.pool, dir), (error: unknown) => {
      assert.ok(error instanceof MigrationError)
      assert.equal(error.file, "002_bad.sql")
      assert.match(error.message, /missing_table/)
      return true
    })
    const tables = await db.pool.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    assert.deepEqual(tables.rows.map((row) => row.tablename), ["good", "schema_migrations"], "the failed file left nothing behind")
  } finally {
    await db.drop()
  }
})
