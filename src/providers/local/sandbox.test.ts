import assert from "node:assert/strict"
import { spawn } from "node:child_process"
import { chmod, mkdtemp, readFile, readdir, rm } from "node:fs/promises"
import os from "node:os"
import path from "node:path"
import { describe, test } from "node:test"
import { Effect } from "effect"
import { bwrapArgs, detectSandbox, type BwrapPlan } from "./sandbox.ts"

const plan = (overrides: Partial<BwrapPlan> = {}): BwrapPlan => ({
  rootEntries: [
    { name: "usr", kind: "dir" },
    { name: "bin", kind: "symlink", target: "usr/bin" },
    { name: "srv", kind: "dir" },
    { name: "proc", kind: "dir" },
    { name: "tmp", kind: "dir" }
  ],
  hide: ["/srv/deploy/data", "/srv/deploy/data/apps/u1/builds", "/tmp/elsewhere"],
  appDir: "/run/deploy-mcp/app",
  infoFd: 4,
  env: { PORT: "4000", SECRET: "s3cret" },
  network: true,
  ...overrides
})

describe("bwrapArgs", () => {
  test("re-creates the system read-only, then hides DATA_DIR, then binds the app folder at /app and seals /", () => {
    const args = bwrapArgs(plan())
    const at = (...needle: Array<string>) => args.findIndex((_, i) => needle.every((part, j) => args[i + j] === part))
    assert.ok(at("--ro-bind-try", "/usr", "/usr") >= 0)
    assert.ok(at("--symlink", "usr/bin", "/bin") >= 0)
    // bwrap mounts its own /proc and /tmp: never the host's
    assert.equal(at("--ro-bind-try", "/proc", "/proc"), -1)
    assert.equal(at("--ro-bind-try", "/tmp", "/tmp"), -1)
    const hide = at("--tmpfs", "/srv/deploy/data")
    const bind = at("--bind", "/run/deploy-mcp/app", "/app")
    assert.ok(at("--ro-bind-try", "/srv", "/srv") < hide && hide < bind, "DATA_DIR is hidden after the system is mounted and before the app folder")
    assert.ok(at("--tmpfs", "/tmp") < hide)
    assert.ok(bind < at("--remount-ro", "/"))
    // covered by DATA_DIR's or /tmp's tmpfs: nothing more to mount
    assert.equal(at("--tmpfs", "/srv/deploy/data/apps/u1/builds"), -1)
    assert.equal(at("--tmpfs", "/tmp/elsewhere"), -1)
  })

  test("isolates pid, ipc, uts and user namespaces, dies with its parent, and passes only the given env", () => {
    const args = bwrapArgs(plan())
    for (const flag of ["--unshare-user", "--disable-userns", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent", "--new-session", "--clearenv"]) assert.ok(args.includes(flag), flag)
    assert.ok(args.indexOf("--clearenv") < args.indexOf("--setenv"))
    assert.deepEqual(args.slice(args.indexOf("--setenv")), ["--setenv", "PORT", "4000", "--setenv", "SECRET", "s3cret"])
    assert.deepEqual(args.slice(args.indexOf("--info-fd"), args.indexOf("--info-fd") + 2), ["--info-fd", "4"])
    assert.equal(args.indexOf("--chdir") > 0 && args[args.indexOf("--chdir") + 1], "/app")
  })

  test("keeps the network for run processes (they serve on loopback) and drops it only when asked", () => {
    assert.equal(bwrapArgs(plan()).includes("--unshare-net"), false)
    assert.equal(bwrapArgs(plan({ network: false })).includes("--unshare-net"), true)
  })

  test("never hides / itself", () => {
    assert.equal(bwrapArgs(plan({ hide: ["/"] })).filter((arg, i, all) => arg === "/" && all[i - 1] === "--tmpfs").length, 0)
  })
})

describe("detectSandbox", () => {
  test("finds a working bubblewrap here, and answers the same on every call", async () => {
    const first = await Effect.runPromise(detectSandbox())
    assert.deepEqual(first, { kind: "bwrap", path: "/usr/bin/bwrap" })
    assert.deepEqual(await Effect.runPromise(detectSandbox()), first)
  })
})

describe("launch", () => {
  test("sandboxed processes die when the server process that started them is killed", async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "deploy-mcp-launch-"))
    await chmod(dataDir, 0o755)
    try {
      // A stand-in server: launches a long sleep in the sandbox, prints bwrap's pid, then waits.
      const script = `
        import { Effect } from "effect"
        import { detectSandbox, launch } from ${JSON.stringify(path.join(import.meta.dirname, "sandbox.ts"))}
        const sandbox = await Effect.runPromise(detectSandbox())
        const launched = await launch({ id: "orphan-test", dir: ${JSON.stringify(dataDir)}, command: "exec sleep 300", env: {}, sandbox, dataDir: ${JSON.stringify(dataDir)} })
        console.log(launched.pid)
        setInterval(() => {}, 1000)
      `
      const server = spawn(process.execPath, ["--input-type=module", "-e", script], { cwd: import.meta.dirname, stdio: ["ignore", "pipe", "inherit"] })
      const bwrapPid = await new Promise<number>((resolve) => server.stdout!.once("data", (chunk: Buffer) => resolve(Number(chunk.toString().trim()))))
      const sleeps = async () => {
        const found: Array<number> = []
        for (const name of await readdir("/proc")) {
          if (!/^\d+$/.test(name)) continue
          const args = await readFile(`/proc/${name}/cmdline`, "utf8").catch(() => "")
          const state = await readFile(`/proc/${name}/stat`, "utf8").catch(() => "")
          if (args === "sleep\u0000300\u0000" && !/^\d+ \(.*\) Z/.test(state)) found.push(Number(name))
        }
        return found
      }
      const deadline = Date.now() + 10_000
      while ((await sleeps()).length === 0) {
        assert.ok(Date.now() < deadline, "the sandboxed sleep never started")
        await new Promise((resolve) => setTimeout(resolve, 25))
      }
      assert.ok(bwrapPid > 0)
      server.kill("SIGKILL")
      while ((await sleeps()).length > 0) {
        assert.ok(Date.now() < deadline + 10_000, "the sandboxed process outlived the server")
        await new Promise((resolve) => setTimeout(resolve, 25))
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  })
})
