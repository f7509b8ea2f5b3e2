/**
 * How the local runtime runs a tenant's command: inside bubblewrap, as `nobody`, with the app folder
 * at /app read-write, the rest of the system read-only and DATA_DIR (encryption key, PostgreSQL,
 * other apps) hidden; under cgroup limits when we may create cgroups, rlimits otherwise. Without
 * bwrap the command still runs, and the launch says so (`sandboxed: false`), so the caller can warn.
 *
 * Process shape: node → /bin/sh wrapper (joins the cgroups, sets rlimits, then execs) → setpriv (drops
 * root to nobody) → bwrap → bwrap's init (pid 1 inside) → runner sh → /bin/sh -c COMMAND. Joining the cgroup
 * before exec means the limits hold from the command's first instruction.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process"
import { constants, existsSync, readdirSync, readlinkSync, realpathSync, statSync } from "node:fs"
import { chown, lstat, mkdir, readFile, readdir, rmdir, writeFile } from "node:fs/promises"
import path from "node:path"
import { Effect } from "effect"

/** The unprivileged identity tenant code runs as when the server is root. */
export const SANDBOX_UID = 65534
export const SANDBOX_GID = 65534
/** Where the app folder appears inside the sandbox. */
export const SANDBOX_APP_DIR = "/app"

export type SandboxSupport =
  | { readonly kind: "bwrap"; readonly path: string }
  | { readonly kind: "none"; readonly reason: string }

export interface Limits {
  readonly memoryBytes?: number
  /** CPU share in cores, e.g. 0.5. */
  readonly cpus?: number
  readonly pids?: number
}

/** Which mechanism enforced the limits, so status can tell the truth about them. */
export interface AppliedLimits {
  readonly mechanism: "cgroup" | "rlimit" | "none"
  readonly memoryBytes?: number
  readonly cpus?: number
  readonly pids?: number
  /** Why some requested limit is not enforced (e.g. rlimits have no CPU share). */
  readonly note?: string
}

const runningAsRoot = (): boolean => process.getuid?.() === 0
const findOnPath = (name: string): string | undefined => {
  for (const dir of (process.env.PATH ?? "/usr/bin:/bin").split(":")) {
    const candidate = path.join(dir, name)
    if (existsSync(candidate)) return candidate
  }
  return undefined
}

/**
 * As root, the app folder lies under DATA_DIR, which nobody (who runs bwrap) must not be able to
 * walk into — and bwrap's --bind-fd cannot help: it resolves /proc/self/fd/N by path as nobody.
 * So root binds the folder onto this mount point in a private mount namespace of the launch
 * (`unshare --mount`), and bwrap, now nobody, binds that. Each launch has its own namespace, so
 * one mount point serves them all; on the host it stays an empty folder.
 */
export const APP_MOUNT_POINT = "/run/deploy-mcp/app"

/** As root: `unshare --mount` + `mount --bind <dir> APP_MOUNT_POINT`, then the rest of the argv. */
const bindForNobodyArgv = (dir: string): ReadonlyArray<string> => [
  "unshare", "--mount", "--propagation", "private", "--",
  "/bin/sh", "-c", 'mount --bind -- "$1" "$2" || exit 125; shift 2; exec "$@"', "bind-app", dir, APP_MOUNT_POINT
]

/** Drop root before bwrap so the sandbox is really uid 65534, not root mapped to 65534 in a namespace. */
const dropPrivilegesArgv = (): ReadonlyArray<string> =>
  runningAsRoot() ? ["setpriv", `--reuid=${SANDBOX_UID}`, `--regid=${SANDBOX_GID}`, "--clear-groups", "--"] : []

// --- the bwrap argv (pure) ---------------------------------------------------------------------

export interface RootEntry {
  readonly name: string
  readonly kind: "dir" | "file" | "symlink"
  /** For symlinks (e.g. /bin -> usr/bin on merged-/usr systems). */
  readonly target?: string
}

export interface BwrapPlan {
  /** The host's top-level entries, re-created read-only around a fresh root that can hold /app. */
  readonly rootEntries: ReadonlyArray<RootEntry>
  /** Host folders the sandbox must not see (DATA_DIR, the folder of all apps): covered with a tmpfs. */
  readonly hide: ReadonlyArray<string>
  /** Host folders bound read-only after the hiding (the server's own Node, wherever it lives, e.g. under /tmp). */
  readonly expose?: ReadonlyArray<string>
  /** The host path bwrap binds as /app: the app folder, or (as root) the mount point it was bound to for nobody. */
  readonly appDir: string
  /** The fd bwrap reports the sandbox's pids on. */
  readonly infoFd: number
  readonly env: Readonly<Record<string, string>>
  /** Builds fetch dependencies; run processes must serve on loopback: neither may lose the network namespace. */
  readonly network: boolean
}

// Mounted by bwrap itself or replaced below; /app is ours.
const NOT_FROM_HOST = new Set(["proc", "dev", "tmp", "app"])

const isInside = (child: string, parent: string): boolean => child === parent || child.startsWith(parent.endsWith("/") ? parent : `${parent}/`)

/**
 * The bwrap options (without the command) for one sandboxed process. Pure: every host fact comes
 * in through the plan. Order matters: the private /tmp and the hiding tmpfs come after the
 * read-only system and before the app folder, so nothing of DATA_DIR shows through.
 */
export const bwrapArgs = (plan: BwrapPlan): Array<string> => {
  const args: Array<string> = []
  for (const entry of plan.rootEntries) {
    if (NOT_FROM_HOST.has(entry.name)) continue
    const target = `/${entry.name}`
    if (entry.kind === "symlink" && entry.target !== undefined) args.push("--symlink", entry.target, target)
    else args.push("--ro-bind-try", target, target)
  }
  args.push("--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp")
  const hidden = [...new Set(plan.hide.map((dir) => path.resolve(dir)))].sort((a, b) => a.length - b.length)
  const covering: Array<string> = ["/tmp"]
  for (const dir of hidden) {
    if (dir === "/" || covering.some((outer) => isInside(dir, outer))) continue
    covering.push(dir)
    args.push("--tmpfs", dir)
  }
  for (const dir of plan.expose ?? []) args.push("--ro-bind-try", dir, dir)
  args.push("--bind", plan.appDir, SANDBOX_APP_DIR)
  // The fresh root is a writable tmpfs: seal it, so "/" is as read-only as the system under it.
  args.push("--remount-ro", "/", "--chdir", SANDBOX_APP_DIR)
  args.push("--unshare-user", "--disable-userns", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try")
  if (!plan.network) args.push("--unshare-net")
  // The runner shell is pid 1 (not bwrap's init): outer bwrap then reaps it itself, so no zombie is
  // left to a pid 1 that may never reap, and none lingers in the cgroup.
  args.push("--as-pid-1", "--die-with-parent", "--new-session", "--info-fd", String(plan.infoFd), "--clearenv")
  for (const [name, value] of Object.entries(plan.env)) args.push("--setenv", name, value)
  return args
}

/** The host's top-level entries, read once: they do not change while we run. */
let rootEntriesCache: ReadonlyArray<RootEntry> | undefined
export const hostRootEntries = (): ReadonlyArray<RootEntry> => {
  rootEntriesCache ??= readdirSync("/", { withFileTypes: true }).map((entry): RootEntry => {
    if (entry.isSymbolicLink()) return { name: entry.name, kind: "symlink", target: readlinkSync(`/${entry.name}`) }
    return { name: entry.name, kind: entry.isDirectory() ? "dir" : "file" }
  })
  return rootEntriesCache
}

/**
 * Whether uid/gid 65534 can walk to `dir`. A folder nobody cannot reach needs no hiding — and bwrap
 * (running as nobody) could not mount over it anyway.
 */
const reachableByNobody = (dir: string): boolean => {
  let current = path.resolve(dir)
  const chain: Array<string> = []
  for (;;) {
    chain.push(current)
    const parent = path.dirname(current)
    if (parent === current) break
    current = parent
  }
  try {
    for (const folder of chain.slice(1)) {
      const info = statSync(folder)
      const bit = info.uid === SANDBOX_UID ? constants.S_IXUSR : info.gid === SANDBOX_GID ? constants.S_IXGRP : constants.S_IXOTH
      if ((info.mode & bit) === 0) return false
    }
    return existsSync(dir)
  } catch {
    return false
  }
}

// --- detection -----------------------------------------------------------------------------------

let detected: Promise<SandboxSupport> | undefined

const trial = (bwrap: string): SandboxSupport => {
  const argv = [...dropPrivilegesArgv(), bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-user", "--disable-userns", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent", "--new-session", "/bin/true"]
  const result = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", timeout: 10_000 })
  if (result.status === 0) return { kind: "bwrap", path: bwrap }
  const why = result.error ? String(result.error) : (result.stderr.trim().split("\n").at(-1) ?? `exit ${result.status}`)
  return { kind: "none", reason: `bubblewrap is installed at ${bwrap} but cannot create a sandbox here (${why}); apps run unsandboxed. Enable unprivileged user namespaces (kernel.unprivileged_userns_clone=1) to sandbox them.` }
}

/** Is bubblewrap usable here? Decided once per process. */
export const detectSandbox = (): Effect.Effect<SandboxSupport> =>
  Effect.promise(() => {
    detected ??= Promise.resolve().then((): SandboxSupport => {
      if (process.platform !== "linux") return { kind: "none", reason: `bubblewrap sandboxing needs Linux (this is ${process.platform}); apps run unsandboxed as the server's user.` }
      const bwrap = findOnPath("bwrap")
      if (!bwrap) return { kind: "none", reason: "bubblewrap (bwrap) is not installed; apps run unsandboxed. Install it (Debian: apt-get install bubblewrap) to isolate them." }
      if (runningAsRoot() && !findOnPath("setpriv")) return { kind: "none", reason: "setpriv (util-linux) is missing, so apps cannot be dropped from root to nobody; apps run unsandboxed. Install util-linux." }
      return trial(bwrap)
    })
    return detected
  })

// --- limits ----------------------------------------------------------------------------------------

const CGROUP_ROOT = "/sys/fs/cgroup"

/**
 * Our own cgroup in a v1 controller: nesting under it keeps tenant processes inside whatever
 * limits the server itself runs under (a container, a systemd unit).
 */
const ownCgroup = async (controller: string): Promise<string | undefined> => {
  const lines = (await readFile("/proc/self/cgroup", "utf8").catch(() => "")).split("\n")
  for (const line of lines) {
    const [, controllers, where] = line.split(":")
    if (controllers?.split(",").includes(controller) && where !== undefined) return path.join(CGROUP_ROOT, controller, where)
  }
  return undefined
}

interface CgroupSet {
  readonly dirs: ReadonlyArray<string>
}

const CGROUP_ID = /^[A-Za-z0-9_.-]{1,100}$/

const createCgroups = async (id: string, limits: Limits): Promise<CgroupSet | undefined> => {
  if (!CGROUP_ID.test(id)) throw new Error(`sandbox id "${id.slice(0, 120)}" must be 1-100 letters, digits, '.', '_' or '-'`)
  const wanted: Array<[controller: string, files: Array<[string, string]>]> = []
  if (limits.memoryBytes !== undefined) wanted.push(["memory", [["memory.limit_in_bytes", String(Math.floor(limits.memoryBytes))]]])
  if (limits.pids !== undefined) wanted.push(["pids", [["pids.max", String(Math.floor(limits.pids))]]])
  if (limits.cpus !== undefined) {
    const period = 100_000
    wanted.push(["cpu", [["cpu.cfs_period_us", String(period)], ["cpu.cfs_quota_us", String(Math.max(1000, Math.round(limits.cpus * period)))]]])
  }
  const dirs: Array<string> = []
  try {
    for (const [controller, files] of wanted) {
      const base = await ownCgroup(controller)
      if (!base) throw new Error(`no ${controller} cgroup`)
      const dir = path.join(base, "deploy-mcp", id)
      await mkdir(dir, { recursive: true })
      dirs.push(dir)
      for (const [file, value] of files) await writeFile(path.join(dir, file), value)
    }
    return { dirs }
  } catch {
    await removeCgroups({ dirs })
    return undefined
  }
}

const cgroupPids = async (set: CgroupSet): Promise<Array<number>> => {
  const pids = new Set<number>()
  for (const dir of set.dirs) {
    const text = await readFile(path.join(dir, "cgroup.procs"), "utf8").catch(() => "")
    for (const line of text.split("\n")) if (line.trim()) pids.add(Number(line))
  }
  return [...pids]
}

/** A cgroup can be removed only once empty; exiting processes leave it a moment after they are reaped. */
const removeCgroups = async (set: CgroupSet): Promise<void> => {
  for (const dir of set.dirs) {
    const deadline = Date.now() + 5_000
    for (;;) {
      try {
        await rmdir(dir)
        break
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code
        if (code === "ENOENT" || Date.now() > deadline) break
        for (const pid of await cgroupPids({ dirs: [dir] })) signal(pid, "SIGKILL")
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    }
  }
}

const signal = (pid: number, name: NodeJS.Signals): void => {
  try {
    process.kill(pid, name)
  } catch {
    // already gone
  }
}

// --- folders ---------------------------------------------------------------------------------------

/** Give the app folder to the sandbox user (when we are root), so builds and apps can write there. */
export const handOverDir = async (dir: string): Promise<void> => {
  if (!runningAsRoot()) return
  const walk = async (target: string): Promise<void> => {
    const info = await lstat(target)
    if (info.uid !== SANDBOX_UID || info.gid !== SANDBOX_GID) await chown(target, SANDBOX_UID, SANDBOX_GID).catch(() => {})
    if (!info.isDirectory()) return
    for (const entry of await readdir(target)) await walk(path.join(target, entry))
  }
  await walk(dir)
}

// --- launching -------------------------------------------------------------------------------------

export interface LaunchRequest {
  /** Names the cgroups: letters, digits, '.', '_' or '-'. Unique among running launches. */
  readonly id: string
  /** The host folder that becomes /app (the working directory). */
  readonly dir: string
  /** Run as `/bin/sh -c command`. */
  readonly command: string
  /** The whole environment of the command: nothing of the server's leaks in. */
  readonly env: Readonly<Record<string, string>>
  readonly sandbox: SandboxSupport
  /** The server's DATA_DIR: hidden from the sandbox. */
  readonly dataDir: string
  /** More host folders to hide. */
  readonly hide?: ReadonlyArray<string>
  readonly network?: boolean
  readonly limits?: Limits
}

export interface Exit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

export interface Launched {
  readonly child: ChildProcess
  /** The pid we spawned (bwrap's outer process when sandboxed). */
  readonly pid: number
  readonly sandboxed: boolean
  /** Set when not sandboxed: what to tell the operator. */
  readonly reason?: string
  readonly limits: AppliedLimits
  /** Resolves once the process has exited and its cgroups are removed. */
  readonly exited: Promise<Exit>
  /** Ask the command and everything it started to stop (SIGTERM), leaving the sandbox to wind down. */
  readonly terminate: () => void
  /** Kill the whole tree now. */
  readonly kill: () => void
}

const shellQuoteMb = (bytes: number) => Math.max(1, Math.floor(bytes / 1024))

/**
 * The wrapper joins the cgroups and applies rlimits, then execs the rest of its argv. Paths and
 * numbers arrive as arguments, never spliced into the script.
 * Usage: sh -c SCRIPT wrapper <n> <procs file>... <memKb|-> <nproc|-> argv...
 */
const WRAPPER = [
  'n=$1; shift',
  'while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n - 1)); done',
  'if [ "$1" != - ]; then ulimit -v "$1" || exit 125; fi; shift',
  'if [ "$1" != - ]; then ulimit -p "$1" || exit 125; fi; shift',
  'exec "$@"'
].join("\n")

/**
 * Runs the command as its child and outlives it. A stop's SIGTERM goes to the whole process group,
 * and the `sh -c` between us and the app dies of it at once; in the sandbox the runner is pid 1,
 * and its exit would end the namespace before the app had drained. So once told to stop, the
 * runner waits until it is alone in the sandbox's /proc (its private one: only with "1" as $1),
 * using builtins only, so the check itself adds no process. The exit status is the command's,
 * 128+n when a signal killed it.
 */
const RUNNER = [
  "stopping=",
  "trap 'stopping=1' TERM INT HUP",
  "others() { for f in /proc/[0-9]*/stat; do read -r s < \"$f\" 2>/dev/null || continue; case \"$s\" in \"$$ \"*|*\") Z \"*) ;; *) return 0;; esac; done; return 1; }",
  '/bin/sh -c "$2" &',
  "child=$!",
  'while :; do wait "$child"; status=$?; kill -0 "$child" 2>/dev/null || break; done',
  'if [ -n "$stopping" ] && [ "$1" = 1 ]; then while others; do sleep 0.05; done; fi',
  'exit "$status"'
].join("\n")
const runnerArgv = (command: string, sandboxed: boolean): Array<string> => ["/bin/sh", "-c", RUNNER, "runner", sandboxed ? "1" : "0", command]

const defaultEnv = (env: Readonly<Record<string, string>>): Record<string, string> => ({
  PATH: "/usr/local/bin:/usr/bin:/bin",
  HOME: SANDBOX_APP_DIR,
  ...env
})

/** Spawn one command, sandboxed when possible. The caller reads child.stdout/stderr. */
export const launch = async (request: LaunchRequest): Promise<Launched> => {
  const wantLimits = request.limits ?? {}
  const anyLimit = wantLimits.memoryBytes !== undefined || wantLimits.pids !== undefined || wantLimits.cpus !== undefined
  const cgroups = anyLimit && runningAsRoot() ? await createCgroups(request.id, wantLimits) : undefined
  let applied: AppliedLimits
  if (!anyLimit) applied = { mechanism: "none" }
  else if (cgroups) applied = { mechanism: "cgroup", ...wantLimits }
  else {
    const { cpus: _cpus, ...rest } = wantLimits
    applied = {
      mechanism: "rlimit",
      ...rest,
      note: "cgroups are not writable here: memory is an address-space rlimit and pids a per-user process rlimit" + (wantLimits.cpus !== undefined ? "; the CPU share is not enforced" : "")
    }
  }
  const procsFiles = cgroups ? cgroups.dirs.map((dir) => path.join(dir, "cgroup.procs")) : []
  const memKb = !cgroups && wantLimits.memoryBytes !== undefined ? String(shellQuoteMb(wantLimits.memoryBytes)) : "-"
  const nproc = !cgroups && wantLimits.pids !== undefined ? String(Math.floor(wantLimits.pids)) : "-"
  const wrapperArgs = [String(procsFiles.length), ...procsFiles, memKb, nproc]
  const env = defaultEnv(request.env)

  let child: ChildProcess
  let sandboxed: boolean
  let reason: string | undefined
  let infoPid: Promise<number | undefined> = Promise.resolve(undefined)
  if (request.sandbox.kind === "bwrap") {
    sandboxed = true
    const asRoot = runningAsRoot()
    if (asRoot) await mkdir(APP_MOUNT_POINT, { recursive: true, mode: 0o755 })
    const hide = [request.dataDir, ...(request.hide ?? []), path.dirname(path.resolve(request.dir))].filter(reachableByNobody)
    // In the child, fd 3 carries bwrap's options (so env values never show in `ps`), fd 4 is the info pipe.
    // The server's Node is on the apps' PATH; its folder may sit under /tmp (a fresh clone), which the sandbox replaces.
    const expose = [...new Set([path.dirname(process.execPath), path.dirname(realpathSync(process.execPath))])]
    const options = bwrapArgs({ rootEntries: hostRootEntries(), hide, expose, appDir: asRoot ? APP_MOUNT_POINT : path.resolve(request.dir), infoFd: 4, env, network: request.network ?? true })
    const bind = asRoot ? bindForNobodyArgv(path.resolve(request.dir)) : []
    child = spawn("/bin/sh", ["-c", WRAPPER, "wrapper", ...wrapperArgs, ...bind, ...dropPrivilegesArgv(), request.sandbox.path, "--args", "3", ...runnerArgv(request.command, true)], {
      env: { PATH: "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin" },
      stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"],
      detached: false
    })
    const argsPipe = child.stdio[3] as NodeJS.WritableStream | null
    argsPipe?.on("error", () => {})
    argsPipe?.end(options.map((arg) => `${arg}\0`).join(""))
    const infoPipe = child.stdio[4] as NodeJS.ReadableStream | null
    infoPid = new Promise((resolve) => {
      if (!infoPipe) return resolve(undefined)
      let text = ""
      infoPipe.on("data", (chunk: Buffer) => {
        text += chunk.toString("utf8")
        try {
          const pid = (JSON.parse(text) as { "child-pid"?: unknown })["child-pid"]
          resolve(typeof pid === "number" ? pid : undefined)
        } catch {
          // not complete yet
        }
      })
      infoPipe.on("error", () => resolve(undefined))
      infoPipe.on("close", () => resolve(undefined))
    })
  } else {
    sandboxed = false
    reason = request.sandbox.reason
    // Own process group, so stop and timeout reach everything the command started.
    child = spawn("/bin/sh", ["-c", WRAPPER, "wrapper", ...wrapperArgs, ...dropPrivilegesArgv(), ...runnerArgv(request.command, false)], {
      cwd: request.dir,
      env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true
    })
  }

  // After "exit", give the pipes a moment to drain so the last output lines reach the log; a
  // stray holder of stdout (possible only unsandboxed) must not keep the exit from being seen.
  const exitedRaw = new Promise<Exit>((resolve) => {
    child.once("error", () => resolve({ code: 127, signal: null }))
    child.once("exit", (code, sig) => {
      const drained = setTimeout(() => resolve({ code, signal: sig }), 500)
      child.once("close", () => {
        clearTimeout(drained)
        resolve({ code, signal: sig })
      })
    })
  })
  let gone = false
  const exited = exitedRaw.then(async (exit) => {
    gone = true
    if (cgroups) await removeCgroups(cgroups)
    return exit
  })
  const pid = child.pid ?? -1

  const terminate = () => {
    if (gone || pid < 0) return
    if (!sandboxed) return signal(-pid, "SIGTERM")
    // bwrap does not forward signals and its init ignores SIGTERM: signal the sandbox's process
    // group (init's), which holds the command and whatever it started in the foreground.
    void infoPid.then((init) => {
      if (!gone && init !== undefined) signal(-init, "SIGTERM")
    })
  }
  let killing = false
  const kill = () => {
    if (gone || pid < 0 || killing) return
    killing = true
    if (!sandboxed) return signal(-pid, "SIGKILL")
    // Killing the sandbox's init ends its whole pid namespace, and outer bwrap then reaps it and
    // exits. Killing outer bwrap first would orphan init (--die-with-parent still kills it, but
    // leaves a zombie for whoever is pid 1), so that is only the fallback.
    const outer = setTimeout(() => signal(pid, "SIGKILL"), 1_000)
    void exitedRaw.then(() => clearTimeout(outer))
    void Promise.race([infoPid, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 200))]).then((init) => {
      if (gone) return
      if (init === undefined) signal(pid, "SIGKILL")
      else signal(init, "SIGKILL")
    })
    if (cgroups) void cgroupPids(cgroups).then((pids) => pids.forEach((p) => p !== pid && signal(p, "SIGKILL")))
  }

  return { child, pid, sandboxed, ...(reason !== undefined ? { reason } : {}), limits: applied, exited, terminate, kill }
}
