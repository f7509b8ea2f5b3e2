import assert from "node:assert/strict"
import { mkdtemp, readFile, rm } from "node:fs/promises"
import os from "node:os"
import path from "node:path"
import { after, before, describe, test } from "node:test"
import { AppendLog, tailLog } from "./log-file.ts"

describe("AppendLog and tailLog", () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "deploy-mcp-log-"))
  })
  after(() => rm(dir, { recursive: true, force: true }))

  test("creates folders, appends, and rotates to .1 once past the size cap", async () => {
    const file = path.join(dir, "logs", "runtime.log")
    const log = new AppendLog(file, 100)
    for (let i = 0; i < 15; i++) log.write(`line ${String(i).padStart(2, "0")}\n`)
    log.close()
    // 8 bytes a line: the 13th write passes 100 bytes and moves lines 00-12 aside
    assert.deepEqual(await tailLog(`${file}.1`, 100), Array.from({ length: 13 }, (_, i) => `line ${String(i).padStart(2, "0")}`))
    assert.equal(await readFile(file, "utf8"), "line 13\nline 14\n")
  })

  test("tailLog returns the last lines, and nothing for a missing file", async () => {
    const file = path.join(dir, "build.log")
    const log = new AppendLog(file)
    log.write("a\nb\nc\n")
    log.write("d")
    log.close()
    assert.deepEqual(await tailLog(file, 2), ["c", "d"])
    assert.deepEqual(await tailLog(file, 10), ["a", "b", "c", "d"])
    assert.deepEqual(await tailLog(path.join(dir, "missing.log"), 5), [])
  })
})
