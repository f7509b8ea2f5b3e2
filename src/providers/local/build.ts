/**
 * Runs a build plan's install and build commands in the deployment's folder, one `/bin/sh -c` per
 * step, sandboxed, all output appended to the build log. One time limit covers the whole build; on
 * timeout or interruption the whole process tree is killed before the effect completes.
 */
import { Effect, Schema } from "effect"
import { AppendLog, tailLog } from "./log-file.ts"
import { handOverDir, launch, type AppliedLimits, type Exit, type Launched, type Limits, type SandboxSupport } from "./sandbox.ts"

export interface BuildStep {
  /** Short label for the log and the failure, e.g. "install", "build". */
  readonly name: string
  readonly command: string
}

export interface BuildRequest {
  /** Names the build's cgroups (the deployment id): letters, digits, '.', '_' or '-'. */
  readonly id: string
  readonly dir: string
  readonly steps: ReadonlyArray<BuildStep>
  readonly env: Readonly<Record<string, string>>
  readonly timeoutMs: number
  readonly logFile: string
  readonly sandbox: SandboxSupport
  /** The server's DATA_DIR, hidden from the build. */
  readonly dataDir: string
  readonly limits?: Limits
  /** Builds usually fetch dependencies; default true. */
  readonly network?: boolean
  /** How many log lines a failure carries (default 40). */
  readonly tailLines?: number
}

export interface BuildSucceeded {
  readonly sandboxed: boolean
  /** Why not sandboxed, for the caller's Warning. */
  readonly reason?: string
  readonly limits: AppliedLimits
  readonly durationMs: number
}

export class BuildFailed extends Schema.TaggedError<BuildFailed>()("BuildFailed", {
  step: Schema.String,
  exitCode: Schema.optional(Schema.Number),
  signal: Schema.optional(Schema.String),
  timedOut: Schema.Boolean,
  logTail: Schema.Array(Schema.String),
  message: Schema.String
}) {}

const KILLED_FOR_TIMEOUT = Symbol("timeout")

/** Wait for the step to exit, killing it at the deadline. Interruption kills it (see release). */
const awaitExit = (launched: Launched, remainingMs: number) =>
  Effect.callback<Exit | typeof KILLED_FOR_TIMEOUT>((resume) => {
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      launched.kill()
    }, Math.max(0, remainingMs))
    void launched.exited.then((exit) => {
      clearTimeout(timer)
      resume(Effect.succeed(timedOut ? KILLED_FOR_TIMEOUT : exit))
    })
    return Effect.sync(() => clearTimeout(timer))
  })

export const runBuild = Effect.fn("LocalBuild.runBuild")(function*(request: BuildRequest) {
  const started = Date.now()
  const deadline = started + request.timeoutMs
  const log = new AppendLog(request.logFile)
  const tail = () => Effect.promise(() => tailLog(request.logFile, request.tailLines ?? 40))
  yield* Effect.addFinalizer(() => Effect.sync(() => log.close()))
  yield* Effect.promise(() => handOverDir(request.dir))
  let last: Pick<Launched, "sandboxed" | "reason" | "limits"> = { sandboxed: request.sandbox.kind === "bwrap", limits: { mechanism: "none" } }

  for (const [index, step] of request.steps.entries()) {
    log.write(`==> ${step.name}: ${step.command}\n`)
    const outcome = yield* Effect.acquireUseRelease(
      Effect.promise(() =>
        launch({
          id: `build-${request.id}-${index}`,
          dir: request.dir,
          command: step.command,
          env: request.env,
          sandbox: request.sandbox,
          dataDir: request.dataDir,
          network: request.network ?? true,
          ...(request.limits ? { limits: request.limits } : {})
        }).then((launched) => {
          launched.child.stdout?.on("data", (chunk: Buffer) => log.write(chunk))
          launched.child.stderr?.on("data", (chunk: Buffer) => log.write(chunk))
          return launched
        })
      ),
      (launched) => {
        last = launched
        if (!launched.sandboxed && index === 0) log.write(`warning: not sandboxed: ${launched.reason ?? "unknown reason"}\n`)
        return awaitExit(launched, deadline - Date.now())
      },
      (launched, exit) =>
        exit._tag === "Success"
          ? Effect.void
          : Effect.promise(() => {
              launched.kill()
              return launched.exited
            })
    )
    if (outcome === KILLED_FOR_TIMEOUT) {
      log.write(`==> ${step.name}: killed after the build's ${request.timeoutMs} ms time limit\n`)
      return yield* new BuildFailed({
        step: step.name,
        signal: "SIGKILL",
        timedOut: true,
        logTail: yield* tail(),
        message: `Build step "${step.name}" was still running when the build's time limit of ${Math.round(request.timeoutMs / 1000)} s ran out, and was killed. Make the build faster or raise LOCAL_BUILD_TIMEOUT_SECONDS.`
      })
    }
    if (outcome.code !== 0) {
      const how = outcome.signal ? `was killed by ${outcome.signal}` : `exited with code ${outcome.code}`
      log.write(`==> ${step.name}: ${how}\n`)
      return yield* new BuildFailed({
        step: step.name,
        ...(outcome.code !== null ? { exitCode: outcome.code } : {}),
        ...(outcome.signal ? { signal: outcome.signal } : {}),
        timedOut: false,
        logTail: yield* tail(),
        message: `Build step "${step.name}" (${step.command.slice(0, 200)}) ${how}. The last lines of the build log say why.`
      })
    }
  }
  const succeeded: BuildSucceeded = { sandboxed: last.sandboxed, ...(last.reason !== undefined ? { reason: last.reason } : {}), limits: last.limits, durationMs: Date.now() - started }
  return succeeded
}, Effect.scoped)
