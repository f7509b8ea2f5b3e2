/**
 * The embedded default (no DATABASE_URL): the first start creates a local user and prints a ready
 * `claude mcp add` line with a working key; later starts mint nothing; the CLI, given only
 * DATA_DIR, joins the cluster the running server started instead of starting a second one.
 */
import { test } from "node:test"
import assert from "node:assert/strict"
import { startSystem } from "../../src/system/boot.ts"
import { spawnSync } from "node:child_process"
import { existsSync } from "node:fs"
import { readFile, writeFile } from "node:fs/promises"
import path from "node:path"
import { runCli } from "../operator/cli.ts"
import { initializeRequest, rawPost } from "./support.ts"
import { removeDir, tempDir } from "../support/postgres.ts"

test("first start prints a ready claude mcp add line; later starts do not mint keys; the CLI joins the running cluster", async () => {
  const dataDir = await tempDir("embedded-mcp")
  const env = { DATA_DIR: dataDir, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent" }
  const captured: Array<string> = []
  const write = process.stderr.write.bind(process.stderr)
  const capture = (chunk: string | Uint8Array) => {
    captured.push(String(chunk))
    return true
  }
  try {
    process.stderr.write = capture as typeof process.stderr.write
    const system = await startSystem({ env }).finally(() => {
      process.stderr.write = write
    })
    try {
      const printed = captured.join("")
      const port = new URL(system.url).port
      const line = new RegExp(`claude mcp add --transport http deploy http://localhost:${port}/mcp --header "Authorization: Bearer (dk_live_[0-9A-Za-z]{40})"`)
      const key = line.exec(printed)?.[1]
      assert.ok(key, `expected a claude mcp add line, got: ${printed}`)
      assert.equal((await rawPost(`${system.url}/mcp`, initializeRequest, { authorization: `Bearer ${key}` })).status, 200)

      // The CLI, given only DATA_DIR, talks to the cluster the server runs (no second cluster).
      const login = /created local user '([^']+)'/.exec(printed)?.[1] ?? ""
      const listed = await runCli(["apikey", "list"], { DATA_DIR: dataDir })
      assert.equal(listed.code, 0, listed.stderr)
      assert.match(listed.stdout, new RegExp(`${key.slice(0, 16)}\\s+${login}\\s`))
      const another = await runCli(["apikey", "create", "--user", login], { DATA_DIR: dataDir })
      assert.equal(another.code, 0, another.stderr)
      assert.equal((await rawPost(`${system.url}/mcp`, initializeRequest, { authorization: `Bearer ${another.stdout.trim()}` })).status, 200)
    } finally {
      await system.stop()
    }

    captured.length = 0
    process.stderr.write = capture as typeof process.stderr.write
    const again = await startSystem({ env }).finally(() => {
      process.stderr.write = write
    })
    try {
      const printed = captured.join("")
      assert.doesNotMatch(printed, /dk_live_/, "no new key on later starts")
      assert.match(printed, /Make an API key with: npm run cli -- apikey create --user \S+/)
      const keys = await again.pool.query<{ n: string }>("SELECT count(*) AS n FROM api_keys")
      assert.equal(Number(keys.rows[0]?.n), 2)
    } finally {
      await again.stop()
    }
  } finally {
    process.stderr.write = write
    await removeDir(dataDir)
  }
})

test("a second start on the same DATA_DIR stops with one clear line naming the running server; a lock left by a dead server is taken over", async () => {
  const dataDir = await tempDir("embedded-lock")
  const env = { DATA_DIR: dataDir, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent" }
  try {
    const first = await startSystem({ env })
    try {
      await assert.rejects(startSystem({ env }), (error: Error) => {
        assert.equal(error.name, "StartupError")
        assert.equal(error.message, `DATA_DIR ${dataDir} is in use by another server (pid ${process.pid}). Stop that server first, or start this one with its own DATA_DIR.`)
        return true
      })
      assert.equal((await fetch(`${first.url}/readyz`)).status, 200, "the running server is untouched")
    } finally {
      await first.stop()
    }
    // A server killed without stopping leaves its pid file behind: a pid that no longer runs.
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" })
    await writeFile(path.join(dataDir, "server.pid"), `${dead.stdout}\n`)
    const next = await startSystem({ env })
    assert.equal((await readFile(path.join(dataDir, "server.pid"), "utf8")).trim(), String(process.pid))
    await next.stop()
    assert.equal(existsSync(path.join(dataDir, "server.pid")), false, "a clean stop removes the lock")
  } finally {
    await removeDir(dataDir)
  }
})
