/**
 * Supervisor: owns every app process the local runtime starts. An instance is one deployment of one
 * app, listening on its own loopback port; two instances of one app may run at once (the caller
 * starts the new one, switches the route once it is healthy, then stops the old one). A crash after
 * a healthy start restarts the instance with exponential backoff; listeners hear of every change, so
 * the App controller can reconcile. Releasing the layer stops every process it started.
 *
 * The bookkeeping is plain callbacks and timers (child processes are event-based); the service
 * surface is Effect.
 */
import { request as httpRequest } from "node:http"
import { createServer } from "node:net"
import { Context, Effect, Layer, Schema, type Scope } from "effect"
import { freePort } from "../../db/embedded.ts"
import { AppendLog } from "./log-file.ts"
import { appPaths, runtimeLogFile } from "./paths.ts"
import { detectSandbox, handOverDir, launch, type AppliedLimits, type Exit, type Launched, type Limits, type SandboxSupport } from "./sandbox.ts"

export interface HealthCheck {
  /** Path of the HTTP GET, e.g. "/" or "/healthz". */
  readonly path: string
  /** How long the instance may take to answer healthily. */
  readonly timeoutMs: number
  /** Statuses below this count as healthy (default 500). */
  readonly expectBelow?: number
}

export interface StartRequest {
  readonly appId: string
  readonly deploymentId: string
  readonly dir: string
  readonly command: string
  /** The app's environment; PORT and HOST are set by the supervisor. */
  readonly env: Readonly<Record<string, string>>
  readonly limits?: Limits
  readonly health: HealthCheck
}

export interface Instance {
  readonly appId: string
  readonly deploymentId: string
  readonly port: number
  readonly pid: number
  readonly sandboxed: boolean
  /** Why not sandboxed: the caller emits it as a Warning. */
  readonly reason?: string
  readonly limits: AppliedLimits
}

export interface LastExit {
  readonly code: number | null
  readonly signal: string | null
  readonly at: string
}

export interface InstanceStatus {
  readonly deploymentId: string
  readonly state: "running" | "restarting"
  readonly port: number
  readonly pid: number
  readonly restarts: number
  readonly lastExit?: LastExit
}

export interface AppStatus {
  /** running: some instance serves; restarting: none serves, some are coming back; stopped: none. */
  readonly state: "running" | "restarting" | "stopped"
  readonly instances: ReadonlyArray<InstanceStatus>
}

export interface SupervisorEvent {
  readonly appId: string
  readonly deploymentId: string
  readonly kind: "Started" | "Crashed" | "Restarted" | "Stopped"
  readonly status: AppStatus
}

export class StartFailed extends Schema.TaggedError<StartFailed>()("StartFailed", {
  appId: Schema.String,
  deploymentId: Schema.String,
  reason: Schema.Literals(["Exited", "HealthCheckFailed", "Timeout"]),
  exitCode: Schema.optional(Schema.Number),
  signal: Schema.optional(Schema.String),
  status: Schema.optional(Schema.Number),
  logTail: Schema.Array(Schema.String),
  message: Schema.String
}) {}

export interface SupervisorConfig {
  /** The server's DATA_DIR: hidden from apps, and where their runtime logs go. */
  readonly dataDir: string
  /** Detected when absent. */
  readonly sandbox?: SandboxSupport
  /** Restart backoff: initial delay, doubled per consecutive crash, capped; reset after stableAfterMs up. */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number; readonly stableAfterMs?: number }
  /** Grace period when the layer is released (default 5 s). */
  readonly shutdownGraceMs?: number
  /** Runtime log size before it rotates to `.1` (default 1 MiB). */
  readonly maxLogBytes?: number
}

export class Supervisor extends Context.Service<Supervisor, {
  /** Start one instance and resolve once its health check passes. A failed start leaves nothing running. */
  start(request: StartRequest): Effect.Effect<Instance, StartFailed>
  /** SIGTERM, then SIGKILL after graceMs; completes when the process has exited. */
  stop(appId: string, deploymentId: string, options?: { readonly graceMs?: number }): Effect.Effect<void>
  /** Stop every instance of the app. */
  stopApp(appId: string, options?: { readonly graceMs?: number }): Effect.Effect<void>
  instances(appId: string): Effect.Effect<ReadonlyArray<InstanceStatus>>
  status(appId: string): Effect.Effect<AppStatus>
  /** Hear of every start, crash, restart and stop, for the lifetime of the scope. */
  watch(listener: (event: SupervisorEvent) => void): Effect.Effect<void, never, Scope.Scope>
}>()("deploy-mcp/providers/local/Supervisor") {
  static readonly layer = (config: SupervisorConfig): Layer.Layer<Supervisor> =>
    Layer.effect(
      Supervisor,
      Effect.gen(function*() {
        const sandbox = config.sandbox ?? (yield* detectSandbox())
        const table = yield* Effect.acquireRelease(
          Effect.sync(() => new ProcessTable(config, sandbox)),
          (table) => Effect.promise(() => table.shutdown())
        )
        return Supervisor.of({
          start: (request) =>
            Effect.tryPromise({
              try: (signal) => table.start(request, signal),
              catch: (error) =>
                error instanceof StartFailed
                  ? error
                  : new StartFailed({ appId: request.appId, deploymentId: request.deploymentId, reason: "Exited", logTail: [], message: `Could not start the app: ${String(error)}` })
            }).pipe(Effect.withSpan("Supervisor.start", { attributes: { appId: request.appId, deploymentId: request.deploymentId } })),
          stop: (appId, deploymentId, options) => Effect.promise(() => table.stop(appId, deploymentId, options?.graceMs ?? 10_000)),
          stopApp: (appId, options) => Effect.promise(() => table.stopApp(appId, options?.graceMs ?? 10_000)),
          instances: (appId) => Effect.sync(() => table.status(appId).instances),
          status: (appId) => Effect.sync(() => table.status(appId)),
          watch: (listener) =>
            Effect.acquireRelease(
              Effect.sync(() => table.listeners.add(listener)),
              () => Effect.sync(() => table.listeners.delete(listener))
            ).pipe(Effect.asVoid)
        })
      })
    )
}

// --- bookkeeping -----------------------------------------------------------------------------------

const TAIL_LINES = 50
const POLL_MS = 100

interface InstanceRecord {
  readonly request: StartRequest
  port: number
  launched: Launched
  state: "starting" | "running" | "restarting" | "stopping"
  restarts: number
  consecutiveCrashes: number
  upSince: number
  lastExit?: LastExit
  timer?: NodeJS.Timeout
  readonly tail: Array<string>
}

/** bwrap reports a command killed by a signal as exit 128+n, like a shell: name the signal. */
const SIGNALS: ReadonlyArray<[NodeJS.Signals, number]> = [["SIGKILL", 9], ["SIGTERM", 15], ["SIGINT", 2], ["SIGSEGV", 11], ["SIGABRT", 6], ["SIGHUP", 1], ["SIGQUIT", 3], ["SIGBUS", 7], ["SIGPIPE", 13]]
const describeExit = (exit: Exit, sandboxed: boolean): { code: number | null; signal: string | null } => {
  if (sandboxed && exit.code !== null && exit.code > 128) {
    const named = SIGNALS.find(([, number]) => number === exit.code! - 128)
    if (named) return { code: null, signal: named[0] }
  }
  return { code: exit.code, signal: exit.signal }
}

const portIsFree = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const server = createServer()
    server.once("error", () => resolve(false))
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)))
  })

/** One GET; the status, or undefined when nothing answered. */
const probe = (port: number, path: string): Promise<number | undefined> =>
  new Promise((resolve) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, method: "GET", agent: false, timeout: 2_000 }, (res) => {
      res.resume()
      resolve(res.statusCode)
    })
    req.once("timeout", () => req.destroy())
    req.once("error", () => resolve(undefined))
    req.end()
  })

const key = (appId: string, deploymentId: string) => `${appId}\u0000${deploymentId}`
const SAFE_ID = /^[A-Za-z0-9_.-]{1,64}$/

class ProcessTable {
  readonly listeners = new Set<(event: SupervisorEvent) => void>()
  private readonly records = new Map<string, InstanceRecord>()
  private readonly logs = new Map<string, AppendLog>()
  private closed = false
  private readonly config: SupervisorConfig
  private readonly sandbox: SandboxSupport

  constructor(config: SupervisorConfig, sandbox: SandboxSupport) {
    this.config = config
    this.sandbox = sandbox
  }

  status(appId: string): AppStatus {
    const instances: Array<InstanceStatus> = []
    for (const record of this.records.values()) {
      if (record.request.appId !== appId || record.state === "starting" || record.state === "stopping") continue
      instances.push({
        deploymentId: record.request.deploymentId,
        state: record.state,
        port: record.port,
        pid: record.launched.pid,
        restarts: record.restarts,
        ...(record.lastExit ? { lastExit: record.lastExit } : {})
      })
    }
    const state = instances.some((i) => i.state === "running") ? "running" : instances.length ? "restarting" : "stopped"
    return { state, instances }
  }

  async start(request: StartRequest, abort: AbortSignal): Promise<Instance> {
    const fail = (reason: StartFailed["reason"], message: string, extra: Partial<Pick<StartFailed, "exitCode" | "signal" | "status">> = {}, tail: ReadonlyArray<string> = []) =>
      new StartFailed({ appId: request.appId, deploymentId: request.deploymentId, reason, ...extra, logTail: [...tail], message })
    if (this.closed) throw fail("Exited", "The supervisor is shutting down; start the app again after the server restarts.")
    if (!SAFE_ID.test(request.appId) || !SAFE_ID.test(request.deploymentId)) throw fail("Exited", "appId and deploymentId must be 1-64 letters, digits, '.', '_' or '-'.")
    const id = key(request.appId, request.deploymentId)
    if (this.records.has(id)) throw fail("Exited", `Deployment ${request.deploymentId} of app ${request.appId} is already running; stop it first or start a new deployment.`)

    await handOverDir(request.dir)
    const port = await freePort()
    const tail: Array<string> = []
    const launched = await this.spawn(request, port, tail)
    const record: InstanceRecord = { request, port, launched, state: "starting", restarts: 0, consecutiveCrashes: 0, upSince: Date.now(), tail }
    this.records.set(id, record)
    const onAbort = () => launched.kill()
    abort.addEventListener("abort", onAbort)
    try {
      const outcome = await this.awaitHealthy(record)
      if (outcome.ok) {
        record.state = "running"
        record.upSince = Date.now()
        this.watchForCrash(record)
        this.emit(record, "Started")
        return {
          appId: request.appId,
          deploymentId: request.deploymentId,
          port,
          pid: launched.pid,
          sandboxed: launched.sandboxed,
          ...(launched.reason !== undefined ? { reason: launched.reason } : {}),
          limits: launched.limits
        }
      }
      // Not healthy: nothing may keep running.
      launched.kill()
      const exit = await launched.exited
      const lines = tail.slice(-TAIL_LINES)
      if (outcome.exit) {
        const how = describeExit(outcome.exit, launched.sandboxed)
        throw fail("Exited", `The app exited during start-up (${how.signal ? `killed by ${how.signal}` : `exit code ${how.code}`}) before answering on ${request.health.path}. Its last output lines say why; check the start command and that it listens on $PORT.`, {
          ...(how.code !== null ? { exitCode: how.code } : {}),
          ...(how.signal ? { signal: how.signal } : {})
        }, lines)
      }
      if (outcome.status !== undefined) {
        throw fail("HealthCheckFailed", `GET ${request.health.path} answered ${outcome.status} for ${request.health.timeoutMs} ms after start; a healthy app answers below ${request.health.expectBelow ?? 500}. Fix the error the log shows, or point the health check at a path that works.`, { status: outcome.status }, lines)
      }
      void exit
      throw fail("Timeout", `The app did not answer GET ${request.health.path} on 127.0.0.1:$PORT within ${request.health.timeoutMs} ms. Make it listen on process.env.PORT (host 0.0.0.0 or $HOST), or allow a longer start.`, {}, lines)
    } finally {
      abort.removeEventListener("abort", onAbort)
      if (record.state === "starting") {
        launched.kill()
        this.records.delete(id)
        void launched.exited
      }
    }
  }

  async stop(appId: string, deploymentId: string, graceMs: number): Promise<void> {
    const record = this.records.get(key(appId, deploymentId))
    if (!record) return
    record.state = "stopping"
    if (record.timer) clearTimeout(record.timer)
    const { launched } = record
    launched.terminate()
    const timer = setTimeout(() => launched.kill(), graceMs)
    await launched.exited
    clearTimeout(timer)
    if (this.records.get(key(appId, deploymentId)) === record) this.records.delete(key(appId, deploymentId))
    this.emit(record, "Stopped")
  }

  async stopApp(appId: string, graceMs: number): Promise<void> {
    const mine = [...this.records.values()].filter((record) => record.request.appId === appId)
    await Promise.all(mine.map((record) => this.stop(appId, record.request.deploymentId, graceMs)))
  }

  async shutdown(): Promise<void> {
    this.closed = true
    const grace = this.config.shutdownGraceMs ?? 5_000
    await Promise.all([...this.records.values()].map((record) => this.stop(record.request.appId, record.request.deploymentId, grace)))
    for (const log of this.logs.values()) log.close()
    this.logs.clear()
  }

  private spawn(request: StartRequest, port: number, tail: Array<string>): Promise<Launched> {
    return launch({
      id: `app-${request.appId}-${request.deploymentId}`,
      dir: request.dir,
      command: request.command,
      env: { ...request.env, PORT: String(port), HOST: "127.0.0.1" },
      sandbox: this.sandbox,
      dataDir: this.config.dataDir,
      network: true,
      ...(request.limits ? { limits: request.limits } : {})
    }).then((launched) => {
      const log = this.logOf(request.appId)
      const prefix = `[${request.deploymentId}] `
      for (const stream of [launched.child.stdout, launched.child.stderr]) {
        let partial = ""
        const line = (text: string) => {
          tail.push(text)
          if (tail.length > TAIL_LINES) tail.shift()
          log.write(`${prefix}${text}\n`)
        }
        stream?.on("data", (chunk: Buffer) => {
          const lines = (partial + chunk.toString("utf8")).split("\n")
          partial = lines.pop() ?? ""
          lines.forEach(line)
        })
        stream?.on("end", () => {
          if (partial) line(partial)
          partial = ""
        })
      }
      return launched
    })
  }

  private logOf(appId: string): AppendLog {
    let log = this.logs.get(appId)
    if (!log) {
      log = new AppendLog(runtimeLogFile(appPaths(this.config.dataDir, appId)), this.config.maxLogBytes ?? 1024 * 1024)
      this.logs.set(appId, log)
    }
    return log
  }

  /** Poll the health path until it answers healthily, the process exits, or the time is up. */
  private async awaitHealthy(record: InstanceRecord): Promise<{ ok: true } | { ok: false; exit?: Exit; status?: number }> {
    const { health } = record.request
    const deadline = Date.now() + health.timeoutMs
    let exit: Exit | undefined
    void record.launched.exited.then((e) => {
      exit = e
    })
    let lastStatus: number | undefined
    for (;;) {
      if (exit) return { ok: false, exit }
      if (record.state === "stopping") return { ok: false }
      const status = await probe(record.port, health.path)
      if (exit) return { ok: false, exit }
      if (status !== undefined && status < (health.expectBelow ?? 500)) return { ok: true }
      if (status !== undefined) lastStatus = status
      if (Date.now() >= deadline) return { ok: false, ...(lastStatus !== undefined ? { status: lastStatus } : {}) }
      // Wake at the next poll, or at once when the process exits.
      await Promise.race([new Promise((resolve) => setTimeout(resolve, POLL_MS)), record.launched.exited])
    }
  }

  private watchForCrash(record: InstanceRecord): void {
    const launched = record.launched
    void launched.exited.then((exit) => {
      if (record.launched !== launched || record.state === "stopping" || this.closed) return
      const how = describeExit(exit, launched.sandboxed)
      record.lastExit = { code: how.code, signal: how.signal, at: new Date().toISOString() }
      this.crashed(record)
    })
  }

  private crashed(record: InstanceRecord): void {
    const backoff = this.config.backoff ?? {}
    const stableAfter = backoff.stableAfterMs ?? 60_000
    if (Date.now() - record.upSince >= stableAfter) record.consecutiveCrashes = 0
    const delay = Math.min((backoff.initialMs ?? 1_000) * 2 ** record.consecutiveCrashes, backoff.maxMs ?? 60_000)
    record.consecutiveCrashes++
    record.restarts++
    record.state = "restarting"
    this.emit(record, "Crashed")
    record.timer = setTimeout(() => void this.restart(record), delay)
  }

  private async restart(record: InstanceRecord): Promise<void> {
    record.timer = undefined
    if (record.state !== "restarting" || this.closed) return
    // Keep the port when we can, so the route stays valid; otherwise the Restarted event carries the new one.
    if (!(await portIsFree(record.port))) record.port = await freePort()
    const launched = await this.spawn(record.request, record.port, record.tail).catch(() => undefined)
    if (record.state !== "restarting" || this.closed) {
      launched?.kill()
      return
    }
    if (!launched) return this.crashed(record)
    record.launched = launched
    record.upSince = Date.now()
    const outcome = await this.awaitHealthy(record)
    if (record.launched !== launched || record.state !== "restarting") return
    if (!outcome.ok) {
      launched.kill()
      const exit = await launched.exited
      if (record.state !== "restarting") return
      const how = describeExit(outcome.exit ?? exit, launched.sandboxed)
      record.lastExit = { code: how.code, signal: how.signal, at: new Date().toISOString() }
      return this.crashed(record)
    }
    record.state = "running"
    this.watchForCrash(record)
    this.emit(record, "Restarted")
  }

  private emit(record: InstanceRecord, kind: SupervisorEvent["kind"]): void {
    const event: SupervisorEvent = { appId: record.request.appId, deploymentId: record.request.deploymentId, kind, status: this.status(record.request.appId) }
    for (const listener of this.listeners) {
      try {
        listener(event)
      } catch {
        // A listener's failure is its own; the supervisor keeps going.
      }
    }
  }
}
