import assert from "node:assert/strict"
import { execSync } from "node:child_process"
import { chmod, mkdir, mkdtemp, readFile, rm } from "node:fs/promises"
import os from "node:os"
import path from "node:path"
import { after, before, describe, test } from "node:test"
import { Effect, Exit, Fiber } from "effect"
import { BuildFailed, runBuild, type BuildRequest } from "./build.ts"
import { appPaths, buildDir, buildLogFile } from "./paths.ts"
import { detectSandbox, type SandboxSupport } from "./sandbox.ts"

describe("runBuild", () => {
  let dataDir: string
  let sandbox: SandboxSupport
  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), "deploy-mcp-build-"))
    await chmod(dataDir, 0o755)
    sandbox = await Effect.runPromise(detectSandbox())
  })
  after(() => rm(dataDir, { recursive: true, force: true }))

  const request = async (deploymentId: string, steps: BuildRequest["steps"], timeoutMs = 20_000): Promise<BuildRequest> => {
    const paths = appPaths(dataDir, "app-1")
    const dir = buildDir(paths, deploymentId)
    await mkdir(dir, { recursive: true })
    return { id: deploymentId, dir, steps, env: { GREETING: "hello" }, timeoutMs, logFile: buildLogFile(paths, deploymentId), sandbox, dataDir }
  }
  const failure = async (req: BuildRequest): Promise<BuildFailed> => {
    const exit = await Effect.runPromiseExit(runBuild(req))
    assert.ok(Exit.isFailure(exit), "the build should fail")
    const error = exit.cause.reasons.find((reason) => reason._tag === "Fail")
    assert.ok(error && error._tag === "Fail" && error.error instanceof BuildFailed)
    return error.error
  }

  test("runs every step in the app folder with the given env, writing output to the log", async () => {
    const req = await request("d-ok", [
      { name: "install", command: "echo installing $GREETING; echo built > out.txt" },
      { name: "build", command: "cat out.txt; echo to-stderr >&2" }
    ])
    const result = await Effect.runPromise(runBuild(req))
    assert.equal(sandbox.kind, "bwrap", "bubblewrap must work on the test machine")
    assert.equal(result.sandboxed, true)
    assert.equal(await readFile(path.join(req.dir, "out.txt"), "utf8"), "built\n")
    const log = await readFile(req.logFile, "utf8")
    for (const line of ["==> install: echo installing $GREETING; echo built > out.txt", "installing hello", "==> build:", "built", "to-stderr"]) assert.match(log, new RegExp(line.replace(/[$.*>;]/g, "\\$&")))
  })

  test("a failing step stops the build with its exit code and the last log lines; later steps do not run", async () => {
    const req = await request("d-fail", [
      { name: "install", command: "echo line-a; echo line-b; echo npm ERR! missing script >&2; exit 3" },
      { name: "build", command: "touch should-not-exist" }
    ])
    const error = await failure(req)
    assert.equal(error.step, "install")
    assert.equal(error.exitCode, 3)
    assert.equal(error.timedOut, false)
    assert.ok(error.logTail.includes("npm ERR! missing script"), error.logTail.join("\n"))
    assert.match(error.message, /exited with code 3/)
    await assert.rejects(readFile(path.join(req.dir, "should-not-exist")))
  })

  test("a step exceeding the time limit is killed, with everything it started", async () => {
    const req = await request("d-slow", [{ name: "build", command: "sleep 30 & echo started-$!; wait" }], 1_500)
    const begun = Date.now()
    const error = await failure(req)
    assert.equal(error.timedOut, true)
    assert.equal(error.step, "build")
    assert.ok(Date.now() - begun < 10_000)
    const started = error.logTail.find((line) => line.startsWith("started-"))
    assert.ok(started, error.logTail.join("\n"))
    const sleeps = execSync("ps -eo args").toString().split("\n").filter((line) => line === "sleep 30")
    assert.deepEqual(sleeps, [], "the step's background sleep must be gone")
  })

  test("interrupting the build kills the running step", async () => {
    const req = await request("d-interrupt", [{ name: "build", command: "echo running; exec sleep 31" }])
    const fiber = Effect.runFork(runBuild(req))
    const deadline = Date.now() + 10_000
    while (!(await readFile(req.logFile, "utf8").catch(() => "")).includes("running")) {
      assert.ok(Date.now() < deadline, "the step never started")
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    await Effect.runPromise(Fiber.interrupt(fiber))
    const sleeps = execSync("ps -eo args").toString().split("\n").filter((line) => line === "sleep 31")
    assert.deepEqual(sleeps, [])
  })
})
