import assert from "node:assert/strict"
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises"
import { connect } from "node:net"
import os from "node:os"
import path from "node:path"
import { after, before, describe, test } from "node:test"
import { Effect, Exit, Fiber, ManagedRuntime } from "effect"
import { appPaths, buildDir, runtimeLogFile } from "./paths.ts"
import { detectSandbox, type SandboxSupport } from "./sandbox.ts"
import { StartFailed, Supervisor, type StartRequest, type SupervisorEvent } from "./supervisor.ts"
import { tailLog } from "./log-file.ts"

// The app under test: answers / with what it can see and do from inside the sandbox.
const SERVER_JS = `
const http = require("node:http")
const fs = require("node:fs")
const { spawn } = require("node:child_process")
const attempt = (f) => { try { f(); return "ok" } catch (e) { return e.code || String(e) } }
const server = http.createServer((req, res) => {
  if (req.url === "/fail") { res.statusCode = 500; return res.end("broken") }
  if (req.url === "/spawn") {
    let started = 0, failed = 0, done = 0
    for (let i = 0; i < 80; i++) {
      const child = spawn("sleep", ["5"])
      child.on("spawn", () => { started++; finish() })
      child.on("error", () => { failed++; finish() })
    }
    function finish() { if (++done === 80) res.end(JSON.stringify({ started, failed })) }
    return
  }
  const probe = JSON.parse(process.env.PROBE || "{}")
  res.setHeader("content-type", "application/json")
  res.end(JSON.stringify({
    env: process.env,
    uid: process.getuid(),
    cwd: process.cwd(),
    pids: fs.readdirSync("/proc").filter((name) => /^[0-9]+$/.test(name)).length,
    readKey: probe.key ? attempt(() => fs.readFileSync(probe.key)) : undefined,
    readOther: probe.other ? attempt(() => fs.readdirSync(probe.other)) : undefined,
    writeRoot: attempt(() => fs.writeFileSync("/escape", "x")),
    writeApp: attempt(() => fs.writeFileSync("/app/written", "x"))
  }))
})
server.listen(Number(process.env.PORT), process.env.HOST, () => console.log("listening on " + process.env.PORT))
`

const NODE = process.execPath

const get = async (port: number, pathname = "/") => {
  const response = await fetch(`http://127.0.0.1:${port}${pathname}`)
  return { status: response.status, body: await response.text() }
}

const portClosed = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, "127.0.0.1")
    socket.once("connect", () => {
      socket.destroy()
      resolve(false)
    })
    socket.once("error", () => resolve(true))
  })

/** Running, as opposed to gone or a zombie waiting for a reaper. */
const alive = async (pid: number) => {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "")
  return stat !== "" && !/^\d+ \(.*\) Z/.test(stat)
}

/** All descendants of a pid, from /proc. */
const descendants = async (root: number): Promise<Array<{ pid: number; args: string }>> => {
  const parents = new Map<number, Array<{ pid: number; args: string }>>()
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue
    const stat = await readFile(`/proc/${name}/stat`, "utf8").catch(() => "")
    const match = /^(\d+) \(.*\) \S+ (\d+)/.exec(stat)
    if (!match) continue
    const args = (await readFile(`/proc/${name}/cmdline`, "utf8").catch(() => "")).split("\0").join(" ").trim()
    const list = parents.get(Number(match[2])) ?? []
    list.push({ pid: Number(match[1]), args })
    parents.set(Number(match[2]), list)
  }
  const found: Array<{ pid: number; args: string }> = []
  const walk = (pid: number) => {
    for (const child of parents.get(pid) ?? []) {
      found.push(child)
      walk(child.pid)
    }
  }
  walk(root)
  return found
}

const until = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000) => {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

describe("Supervisor", () => {
  let dataDir: string
  let otherApp: string
  let sandbox: SandboxSupport
  let runtime: ManagedRuntime.ManagedRuntime<Supervisor, never>
  const events: Array<SupervisorEvent> = []
  let watching: Fiber.Fiber<never>

  before(async () => {
    // Not under /tmp: the sandbox's private /tmp would hide it anyway, and the point is that the
    // DATA_DIR hiding itself works.
    dataDir = await mkdtemp(path.join("/var/tmp", "deploy-mcp-supervisor-"))
    await chmod(dataDir, 0o755)
    await writeFile(path.join(dataDir, "data.key"), "secret key", { mode: 0o644 })
    otherApp = path.join(appPaths(dataDir, "other-app").builds, "d1")
    await mkdir(otherApp, { recursive: true })
    await writeFile(path.join(otherApp, "index.js"), "other tenant")
    sandbox = await Effect.runPromise(detectSandbox())
    runtime = ManagedRuntime.make(Supervisor.layer({ dataDir, sandbox, backoff: { initialMs: 50, maxMs: 200 }, shutdownGraceMs: 2_000 }))
    // The subscription lives for the whole suite.
    watching = runtime.runFork(Effect.scoped(Effect.flatMap(Effect.service(Supervisor), (s) => Effect.andThen(s.watch((event) => events.push(event)), Effect.never))))
  })
  after(async () => {
    await Effect.runPromise(Fiber.interrupt(watching))
    await runtime.dispose()
    await rm(dataDir, { recursive: true, force: true })
  })

  const appDir = async (appId: string, deploymentId: string, files: Record<string, string> = { "server.js": SERVER_JS }) => {
    const dir = buildDir(appPaths(dataDir, appId), deploymentId)
    await mkdir(dir, { recursive: true })
    for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text)
    return dir
  }
  const startRequest = async (appId: string, deploymentId: string, overrides: Partial<StartRequest> = {}): Promise<StartRequest> => ({
    appId,
    deploymentId,
    dir: await appDir(appId, deploymentId),
    command: `${NODE} server.js`,
    env: { GREETING: "hi" },
    health: { path: "/", timeoutMs: 10_000 },
    ...overrides
  })
  const run = <A, E>(use: (supervisor: Supervisor["Service"]) => Effect.Effect<A, E>) => runtime.runPromise(Effect.flatMap(Effect.service(Supervisor), use))
  const runStart = async (args: [string, string, Partial<StartRequest>?]) => {
    const request = await startRequest(...args)
    return run((s) => s.start(request))
  }
  const startFailure = async (request: StartRequest): Promise<StartFailed> => {
    const exit = await runtime.runPromiseExit(Effect.flatMap(Effect.service(Supervisor), (s) => s.start(request)))
    assert.ok(Exit.isFailure(exit), "start should fail")
    const reason = exit.cause.reasons.find((r) => r._tag === "Fail")
    assert.ok(reason && reason._tag === "Fail" && reason.error instanceof StartFailed)
    return reason.error
  }

  test("bubblewrap works on this machine", () => {
    assert.equal(sandbox.kind, "bwrap")
  })

  test("starts a Node server that answers, with PORT, HOST and only the given variables", async () => {
    const instance = await runStart(["app-env", "d1"])
    try {
      assert.equal(instance.sandboxed, true)
      const { status, body } = await get(instance.port)
      assert.equal(status, 200)
      const seen = JSON.parse(body)
      assert.equal(seen.env.PORT, String(instance.port))
      assert.equal(seen.env.HOST, "127.0.0.1")
      assert.equal(seen.env.GREETING, "hi")
      // Only what we set (plus the defaults PATH/HOME and the shell's PWD): none of the server's env.
      assert.deepEqual(Object.keys(seen.env).sort(), ["GREETING", "HOME", "HOST", "PATH", "PORT", "PWD"])
      assert.equal(seen.cwd, "/app")
      const status2 = await run((s) => s.status("app-env"))
      assert.equal(status2.state, "running")
      assert.equal(status2.instances[0]?.port, instance.port)
      assert.ok(events.some((e) => e.appId === "app-env" && e.kind === "Started"))
      await until("the runtime log", async () => (await tailLog(runtimeLogFile(appPaths(dataDir, "app-env")), 5)).includes(`[d1] listening on ${instance.port}`))
    } finally {
      await run((s) => s.stopApp("app-env"))
    }
  })

  test("inside the sandbox: DATA_DIR and other apps are invisible, / is read-only, /app is writable, uid is 65534, few pids", async () => {
    const request = await startRequest("app-iso", "d1", { env: { PROBE: JSON.stringify({ key: path.join(dataDir, "data.key"), other: otherApp }) } })
    const instance = await run((s) => s.start(request))
    try {
      const seen = JSON.parse((await get(instance.port)).body)
      assert.equal(seen.readKey, "ENOENT")
      assert.equal(seen.readOther, "ENOENT")
      assert.equal(seen.writeRoot, "EROFS")
      assert.equal(seen.writeApp, "ok")
      assert.equal(seen.uid, 65534)
      assert.ok(seen.pids <= 4, `pid namespace shows ${seen.pids} pids`)
      assert.equal(await readFile(path.join(request.dir, "written"), "utf8"), "x")
    } finally {
      await run((s) => s.stopApp("app-iso"))
    }
  })

  test("memory and pids limits are applied through cgroups from the first instruction", async () => {
    const instance = await runStart(["app-limits", "d1", { limits: { memoryBytes: 256 * 1024 * 1024, pids: 40 } }])
    try {
      assert.equal(instance.limits.mechanism, "cgroup")
      const cgroups = await readFile(`/proc/${instance.pid}/cgroup`, "utf8")
      const memory = /:memory:(.*)$/m.exec(cgroups)?.[1]
      const pids = /:pids:(.*)$/m.exec(cgroups)?.[1]
      assert.ok(memory?.endsWith("/deploy-mcp/app-app-limits-d1"), cgroups)
      assert.ok(pids?.endsWith("/deploy-mcp/app-app-limits-d1"), cgroups)
      assert.equal((await readFile(`/sys/fs/cgroup/memory${memory}/memory.limit_in_bytes`, "utf8")).trim(), String(256 * 1024 * 1024))
      assert.equal((await readFile(`/sys/fs/cgroup/pids${pids}/pids.max`, "utf8")).trim(), "40")
      const spawned = JSON.parse((await get(instance.port, "/spawn")).body)
      assert.ok(spawned.failed > 0, `80 children under pids.max=40: ${JSON.stringify(spawned)}`)
      await run((s) => s.stopApp("app-limits"))
      await until("the cgroup to be removed", async () => !(await readdir(`/sys/fs/cgroup/pids${path.dirname(pids!)}`)).includes("app-app-limits-d1"))
    } finally {
      await run((s) => s.stopApp("app-limits"))
    }
  })

  test("kill -9 of the app process: the supervisor restarts it on the same port and it answers again", async () => {
    const instance = await runStart(["app-crash", "d1"])
    try {
      const node = (await descendants(instance.pid)).find((p) => p.args.endsWith(" server.js") && !p.args.startsWith("/bin/sh"))
      assert.ok(node, "the app's node process")
      process.kill(node.pid, "SIGKILL")
      await until("a restart", async () => events.some((e) => e.appId === "app-crash" && e.kind === "Restarted"))
      const status = await run((s) => s.status("app-crash"))
      assert.equal(status.state, "running")
      assert.equal(status.instances[0]?.restarts, 1)
      assert.equal(status.instances[0]?.lastExit?.signal, "SIGKILL")
      assert.equal(status.instances[0]?.port, instance.port)
      assert.ok(events.some((e) => e.appId === "app-crash" && e.kind === "Crashed" && e.status.state === "restarting"))
      assert.equal((await get(instance.port)).status, 200)
    } finally {
      await run((s) => s.stopApp("app-crash"))
    }
  })

  test("a process exiting at once fails the start with Exited and its last output", async () => {
    const error = await startFailure(await startRequest("app-exit", "d1", { command: "echo cannot find module express >&2; exit 4" }))
    assert.equal(error.reason, "Exited")
    assert.equal(error.exitCode, 4)
    assert.deepEqual(error.logTail, ["cannot find module express"])
    assert.equal((await run((s) => s.status("app-exit"))).state, "stopped")
  })

  test("a process answering 500 fails the start with HealthCheckFailed and is stopped", async () => {
    const error = await startFailure(await startRequest("app-500", "d1", { health: { path: "/fail", timeoutMs: 1_000 } }))
    assert.equal(error.reason, "HealthCheckFailed")
    assert.equal(error.status, 500)
    assert.ok(error.logTail.some((line) => line.startsWith("listening on ")))
    assert.equal((await run((s) => s.status("app-500"))).state, "stopped")
  })

  test("a process that never listens fails the start with Timeout", async () => {
    const error = await startFailure(await startRequest("app-silent", "d1", { command: "echo warming up; exec sleep 60", health: { path: "/", timeoutMs: 700 } }))
    assert.equal(error.reason, "Timeout")
    assert.deepEqual(error.logTail, ["warming up"])
  })

  test("two deployments of one app run at once; stop closes the port and ends the process", async () => {
    const first = await runStart(["app-two", "d1"])
    const second = await runStart(["app-two", "d2"])
    assert.notEqual(first.port, second.port)
    assert.equal((await run((s) => s.instances("app-two"))).length, 2)
    await run((s) => s.stop("app-two", "d1", { graceMs: 2_000 }))
    assert.equal(await alive(first.pid), false)
    assert.equal(await portClosed(first.port), true)
    assert.equal((await get(second.port)).status, 200)
    assert.deepEqual((await run((s) => s.instances("app-two"))).map((i) => i.deploymentId), ["d2"])
    await run((s) => s.stopApp("app-two"))
    assert.equal(await portClosed(second.port), true)
    assert.equal((await run((s) => s.status("app-two"))).state, "stopped")
  })

  test("stop gives the app its SIGTERM grace period", async () => {
    const graceful = `process.on("SIGTERM", () => { console.log("draining"); setTimeout(() => { console.log("drained"); process.exit(0) }, 300) })\n${SERVER_JS}`
    const dir = await appDir("app-grace", "d1", { "server.js": graceful })
    await run((s) => s.start({ appId: "app-grace", deploymentId: "d1", dir, command: `${NODE} server.js`, env: {}, health: { path: "/", timeoutMs: 10_000 } }))
    await run((s) => s.stop("app-grace", "d1", { graceMs: 5_000 }))
    // The app outlived its shell's SIGTERM and finished draining before the sandbox closed. (The
    // shell between the runner and the app reports its own "Terminated" at any point meanwhile.)
    const lines = (await tailLog(runtimeLogFile(appPaths(dataDir, "app-grace")), 10)).filter((line) => line !== "[d1] Terminated")
    assert.deepEqual(lines.slice(-2), ["[d1] draining", "[d1] drained"])
  })

  test("releasing the layer kills everything it started", async () => {
    const release = await startRequest("app-release", "d1")
    const local = ManagedRuntime.make(Supervisor.layer({ dataDir, sandbox, shutdownGraceMs: 1_000 }))
    const instance = await local.runPromise(Effect.flatMap(Effect.service(Supervisor), (s) => s.start(release)))
    const tree = await descendants(instance.pid)
    assert.ok(tree.length > 0)
    await local.dispose()
    assert.equal(await alive(instance.pid), false)
    for (const p of tree) assert.equal(await alive(p.pid), false, `${p.args} ${p.pid} survived`)
    assert.equal(await portClosed(instance.port), true)
  })
})
