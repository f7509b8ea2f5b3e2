import assert from "node:assert/strict"
import { spawn } from "node:child_process"
import { once } from "node:events"
import { existsSync } from "node:fs"
import path from "node:path"
import { test } from "node:test"
import { fileURLToPath } from "node:url"
import { createTestDatabase, removeDir, tempDir } from "../../e2e/support/postgres.ts"

const MAIN = fileURLToPath(new URL("../main.ts", import.meta.url))

const startMain = (env: Record<string, string>) => {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] })
  let stdout = ""
  let stderr = ""
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
  const listening = new Promise<string>((resolve, reject) => {
    child.stdout.on("data", () => {
      const match = /"url":"(http:\/\/[^"]+)"[^\n]*deploy-mcp is listening/.exec(stdout)
      if (match?.[1]) resolve(match[1])
    })
    child.once("exit", (code) => reject(new Error(`exited with ${code}: ${stderr}`)))
  })
  listening.catch(() => {})
  const exit = once(child, "exit").then(([code]) => code as number | null)
  return { child, listening, exit, output: () => ({ stdout, stderr }) }
}

test("npm start on the embedded default serves /healthz and /readyz and stops cleanly on SIGTERM", async () => {
  const dataDir = await tempDir("boot")
  try {
    const main = startMain({ DATA_DIR: dataDir, PORT: "0", LOG_LEVEL: "info" })
    const url = await main.listening
    const health = await fetch(`${url}/healthz`)
    assert.equal(health.status, 200)
    const ready = await fetch(`${url}/readyz`)
    assert.equal(ready.status, 200)
    assert.deepEqual(await ready.json(), { status: "ready", checks: { database: "ok", migrations: "ok" } })
    assert.ok(existsSync(path.join(dataDir, "postgres", "PG_VERSION")), "the cluster lives in DATA_DIR")
    assert.ok(existsSync(path.join(dataDir, "data-encryption.key")), "the data key was generated in DATA_DIR")
    main.child.kill("SIGTERM")
    assert.equal(await main.exit, 0, main.output().stderr)
    assert.ok(!main.output().stdout.includes("idle database connection failed"), `PostgreSQL outlived every connection: ${main.output().stdout.split("\n").filter((line) => line.includes("shutting down") || line.includes("idle database") || line.includes("shutdown step")).join("\n")}`)
    assert.match(main.output().stdout, /shutting down/)
  } finally {
    await removeDir(dataDir)
  }
})

test("a bad config value stops start-up with one line naming the variable and a good example", async () => {
  for (const [env, variable] of [
    [{ PORT: "eighty" }, "PORT"],
    [{ LOG_LEVEL: "loud" }, "LOG_LEVEL"],
    [{ DATABASE_URL: "mysql://x" }, "DATABASE_URL"],
    [{ DATA_ENCRYPTION_KEY: "short" }, "DATA_ENCRYPTION_KEY"]
  ] as const) {
    const main = startMain({ ...env })
    const code = await main.exit
    assert.notEqual(code, 0)
    const lines = main.output().stderr.trim().split("\n")
    assert.equal(lines.length, 1, `one line, got: ${main.output().stderr}`)
    assert.match(lines[0] as string, new RegExp(`^deploy-mcp: ${variable}=.*Example of a good value: ${variable}=`))
    assert.ok(!(lines[0] as string).includes("short"), "secret values are not echoed")
  }
})

test("an external database requires DATA_ENCRYPTION_KEY, so replicas share one key", async () => {
  const db = await createTestDatabase({ migrated: false })
  try {
    const main = startMain({ DATABASE_URL: db.url, PORT: "0" })
    assert.notEqual(await main.exit, 0)
    assert.match(main.output().stderr, /^deploy-mcp: DATA_ENCRYPTION_KEY is required when DATABASE_URL is set/)
  } finally {
    await db.drop()
  }
})
