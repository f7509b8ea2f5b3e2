/**
 * The embedded default: with no Turso credentials, a sqlite Resource is a real libSQL file under
 * DATA_DIR, with the same lifecycle and conditions, that a client on this machine can use.
 */
import assert from "node:assert/strict"
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { after, before, describe, test } from "node:test"
import { createClient } from "@libsql/client"
import { createObject, deleteObject, updateObjectSpec } from "../../src/desired/write.ts"
import type { RunningSystem } from "../../src/system/boot.ts"
import { createTestDatabase, removeDir, tempDir, type TestDatabase } from "../support/postgres.ts"
import { condition, ensureUser, newKey, run, storedCredentials, waitForGone, waitForReady } from "./support.ts"
import { startTestSystem } from "./system.ts"

let db: TestDatabase
let system: RunningSystem
let dataDir: string
let owner: string

before(async () => {
  db = await createTestDatabase()
  dataDir = await tempDir("resources-local")
  system = await startTestSystem({ databaseUrl: db.url, key: newKey(), dataDir })
  owner = await ensureUser(system.runtime, "resource-local")
})
after(async () => {
  await system?.stop()
  await db?.drop()
  await removeDir(dataDir)
})

describe("Resources on local libSQL files (no Turso configured)", () => {
  test("create → Ready with a file: url under DATA_DIR that accepts CREATE TABLE, INSERT and SELECT; delete removes the file", async () => {
    const created = await run(system.runtime, createObject(owner, { kind: "Resource", name: "notes", spec: { type: "sqlite" } }))
    const ready = await waitForReady(system.runtime, owner, "notes")
    assert.equal(condition(ready, "Synced")?.reason, "Created")
    assert.match(ready.status.url ?? "", /^file:\/\//)
    const file = fileURLToPath(ready.status.url ?? "")
    assert.ok(file.startsWith(dataDir), `${file} is under DATA_DIR`)

    const credentials = await storedCredentials(system.runtime, owner, created.metadata.uid)
    assert.equal(credentials?.url, ready.status.url)
    assert.equal(credentials?.authToken, undefined, "local files need no token")

    const client = createClient({ url: credentials?.url ?? "" })
    try {
      await client.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
      await client.execute({ sql: "INSERT INTO notes (body) VALUES (?)", args: ["hello from an app"] })
      const rows = await client.execute("SELECT body FROM notes")
      assert.deepEqual(rows.rows.map((row) => row["body"]), ["hello from an app"])
    } finally {
      client.close()
    }

    // Rotation has nothing to revoke for local files: Ready stays, the settings stay the same.
    await run(system.runtime, updateObjectSpec(owner, { kind: "Resource", name: "notes" }, (spec) => ({ ...spec, rotationNonce: 1 })))
    const rotated = await waitForReady(system.runtime, owner, "notes")
    assert.equal(rotated.status.appliedRotationNonce, 1)
    assert.equal(rotated.status.credentialsVersion, credentials?.version)
    assert.match(condition(rotated, "Synced")?.message ?? "", /have no tokens/)

    await run(system.runtime, deleteObject(owner, { kind: "Resource", name: "notes" }))
    await waitForGone(system.runtime, owner, "notes")
    assert.equal(existsSync(file), false, "the database file is gone")
    const left = await db.pool.query(`SELECT 1 FROM resource_credentials WHERE resource_uid = $1`, [created.metadata.uid])
    assert.equal(left.rowCount, 0)
  })
})
