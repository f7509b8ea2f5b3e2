/**
 * One deployment on the local runtime, as kamal-proxy does a deploy: fetch the exact commit, detect
 * the plan, build it sandboxed, start the new version beside the old, switch the route once its
 * health check passes, then retire the old one. Any failure leaves the old version serving. Each
 * step is a named function; `runDeployment` only strings them together and says where it is.
 */
import { readdir, rm, stat } from "node:fs/promises"
import path from "node:path"
import { Effect } from "effect"
import { runBuild, type BuildFailed } from "../../../src/providers/local/build.ts"
import { checkout, ensureCommit, fetchBranch, type GitCredentials, type GitError } from "../../../src/providers/local/git.ts"
import { appPaths, buildDir, buildLogFile } from "../../../src/providers/local/paths.ts"
import { detectPlan, resolveStaticRoot, type Plan, type PlanError } from "../../../src/providers/local/plan.ts"
import type { SandboxSupport } from "../../../src/providers/local/sandbox.ts"
import type { AppSpec } from "../../../schemas/index.ts"
import { readLive, writeLive, type LiveDeployment } from "./live.ts"
import type { Limits, LocalProcesses, LocalRoutes } from "./ports.ts"

/** Where the code comes from: a git URL (https, file) or the built-in remote's bare repository. */
export interface FetchSource {
  readonly url: string
  /**
   * Asked only when the deployment fetches (a private GitHub repo: a fresh read-only installation
   * token), so reconciles that deploy nothing mint nothing; the answer lives only in git's child env.
   */
  readonly credentials?: Effect.Effect<GitCredentials, { readonly message: string }>
}

export interface DeploymentRequest {
  readonly owner: string
  readonly uid: string
  readonly deploymentId: string
  readonly spec: AppSpec
  readonly source: FetchSource
  readonly hostName: string
  readonly env: Readonly<Record<string, string>>
  readonly limits: Limits
}

export interface DeploymentEnvironment {
  readonly dataDir: string
  readonly sandbox: SandboxSupport
  readonly processes: LocalProcesses
  readonly routes: LocalRoutes
  readonly buildTimeoutMs: number
  readonly healthTimeoutMs: number
  /** PATH inside the sandbox: the server's own Node first, so `node` and `npm` are what the server runs on. */
  readonly path: string
  /** Builds kept per app (the live one always), for restarts and rollback. */
  readonly keepBuilds: number
}

/** How long in-flight requests to the old version may take to finish before it is stopped anyway. */
const DRAIN_TIMEOUT_MS = 10_000

export type DeploymentStep = "fetching" | "building" | "starting" | "switching"

export type DeploymentFailureReason = "SourceFailed" | "RuntimeUnsupported" | "PlanFailed" | "BuildFailed" | "HealthCheckFailed" | "Crashed"

export interface DeploymentOutcome {
  readonly _tag: "Succeeded" | "Failed"
  readonly revision?: string
  /** The detected plan, recorded on the deployment. */
  readonly plan?: Plan
  readonly reason?: DeploymentFailureReason
  readonly message?: string
  readonly logTail?: ReadonlyArray<string>
  readonly sandboxNote?: string
}

const failed = (reason: DeploymentFailureReason, message: string, extra: Partial<DeploymentOutcome> = {}): DeploymentOutcome => ({
  _tag: "Failed",
  reason,
  message,
  ...extra
})

const HEALTH_PATH = "/"

/** The commit to deploy: the spec's revision, or the branch head now. */
const fetchRevision = (request: DeploymentRequest, mirror: string) =>
  Effect.gen(function*() {
    const credentials = request.source.credentials === undefined ? undefined : yield* request.source.credentials
    const input = { mirror, url: request.source.url, branch: request.spec.branch, ...(credentials ? { credentials } : {}) }
    return request.spec.revision !== null
      ? yield* ensureCommit({ ...input, sha: request.spec.revision }).pipe(Effect.as(request.spec.revision))
      : yield* fetchBranch(input).pipe(Effect.map((fetched) => fetched.head))
  })

const gitMessage = (error: GitError | { readonly message: string }): string => error.message

const planMessage = (error: PlanError): string => error.message

const buildMessage = (error: BuildFailed): string => error.message

/** Old build folders go, newest `keep` and the live one stay. */
const pruneBuilds = (request: DeploymentRequest, environment: DeploymentEnvironment, live: string) =>
  Effect.promise(async () => {
    const paths = appPaths(environment.dataDir, request.uid)
    const entries = await readdir(paths.builds).catch(() => [] as Array<string>)
    const dated = await Promise.all(entries.map(async (entry) => ({ entry, at: (await stat(path.join(paths.builds, entry)).catch(() => undefined))?.mtimeMs ?? 0 })))
    const ordered = dated.sort((a, b) => b.at - a.at).map((item) => item.entry)
    const keep = new Set([live, ...ordered.slice(0, environment.keepBuilds)])
    await Promise.all(ordered.filter((entry) => !keep.has(entry)).map((entry) => rm(path.join(paths.builds, entry), { recursive: true, force: true })))
  })

export const runDeployment = (request: DeploymentRequest, environment: DeploymentEnvironment, progress: (step: DeploymentStep) => void) =>
  Effect.gen(function*() {
    const paths = appPaths(environment.dataDir, request.uid)
    const dir = buildDir(paths, request.deploymentId)
    const logFile = buildLogFile(paths, request.deploymentId)

    progress("fetching")
    const fetched = yield* fetchRevision(request, paths.mirror).pipe(Effect.result)
    if (fetched._tag === "Failure") return failed("SourceFailed", `Could not fetch the code: ${gitMessage(fetched.failure)}`)
    const revision = fetched.success
    const checkedOut = yield* checkout({ mirror: paths.mirror, sha: revision, into: dir }).pipe(Effect.result)
    if (checkedOut._tag === "Failure") return failed("SourceFailed", `Could not check out ${revision.slice(0, 7)}: ${gitMessage(checkedOut.failure)}`, { revision })

    const spec = { buildPack: request.spec.buildPack, commands: request.spec.commands, port: request.spec.port }
    // Python is looked for where the build will run: a python3 only on the server's own PATH (pyenv) is not there.
    const planned = yield* detectPlan(dir, spec, { searchPath: environment.path }).pipe(Effect.result)
    if (planned._tag === "Failure") {
      const reason = planned.failure._tag === "RuntimeUnsupported" ? "RuntimeUnsupported" : "PlanFailed"
      return failed(reason, planMessage(planned.failure), { revision })
    }
    const plan = planned.success

    progress("building")
    const runEnv = { ...request.env, PATH: environment.path, NODE_ENV: request.env["NODE_ENV"] ?? "production" }
    const steps = [
      ...(plan.install ? [{ name: "install", command: plan.install }] : []),
      ...(plan.build ? [{ name: "build", command: plan.build }] : [])
    ]
    let sandboxNote: string | undefined
    if (steps.length > 0) {
      // Dependencies install with dev tools; only the running app gets NODE_ENV=production by default.
      const built = yield* runBuild({
        id: `${request.deploymentId}-build`,
        dir,
        steps,
        env: { ...request.env, PATH: environment.path },
        timeoutMs: environment.buildTimeoutMs,
        logFile,
        sandbox: environment.sandbox,
        dataDir: environment.dataDir,
        limits: request.limits
      }).pipe(Effect.result)
      if (built._tag === "Failure") return failed("BuildFailed", buildMessage(built.failure), { revision, plan, logTail: built.failure.logTail })
      if (!built.success.sandboxed) sandboxNote = built.success.reason
    }

    const previous = yield* Effect.promise(() => readLive(paths.root))
    if (plan.kind === "static") {
      const resolved = plan.root !== undefined ? plan.root : yield* resolveStaticRoot(dir).pipe(Effect.orElseSucceed(() => undefined))
      if (resolved === undefined) return failed("PlanFailed", "The static build produced no folder with an index.html (looked in dist, build, public and the repository root).", { revision, plan })
      progress("switching")
      const live: LiveDeployment = { owner: request.owner, uid: request.uid, deploymentId: request.deploymentId, revision, staticRoot: resolved, healthPath: HEALTH_PATH }
      yield* Effect.promise(() => writeLive(paths.root, live))
      environment.routes.set(request.hostName, { kind: "static", root: path.resolve(dir, resolved) })
      if (previous && previous.start !== undefined) yield* environment.processes.stop(request.uid, previous.deploymentId)
      yield* pruneBuilds(request, environment, request.deploymentId)
      return { _tag: "Succeeded", revision, plan, ...(sandboxNote ? { sandboxNote } : {}) } satisfies DeploymentOutcome
    }

    progress("starting")
    const started = yield* environment.processes
      .start({
        appId: request.uid,
        deploymentId: request.deploymentId,
        dir,
        command: plan.start,
        env: runEnv,
        limits: request.limits,
        healthPath: HEALTH_PATH,
        healthTimeoutMs: environment.healthTimeoutMs
      })
      .pipe(Effect.result)
    if (started._tag === "Failure") {
      const reason = started.failure.reason === "Exited" ? "Crashed" : "HealthCheckFailed"
      return failed(reason, started.failure.message, { revision, plan, logTail: started.failure.logTail })
    }

    progress("switching")
    const live: LiveDeployment = { owner: request.owner, uid: request.uid, deploymentId: request.deploymentId, revision, start: plan.start, healthPath: HEALTH_PATH }
    yield* Effect.promise(() => writeLive(paths.root, live))
    environment.routes.set(request.hostName, { kind: "proxy", port: started.success.port })
    // Only now is the old version out of new traffic: let the requests it still serves finish, then
    // retire it (SIGTERM, then SIGKILL after the grace period).
    if (previous && previous.deploymentId !== request.deploymentId && previous.start !== undefined) {
      const oldPort = environment.processes.instance(request.uid, previous.deploymentId)?.port
      if (oldPort !== undefined) yield* Effect.promise(() => environment.routes.drained(oldPort, DRAIN_TIMEOUT_MS))
      yield* environment.processes.stop(request.uid, previous.deploymentId)
    }
    yield* pruneBuilds(request, environment, request.deploymentId)
    const note = sandboxNote ?? (started.success.sandboxed ? undefined : started.success.sandboxNote)
    return { _tag: "Succeeded", revision, plan, ...(note ? { sandboxNote: note } : {}) } satisfies DeploymentOutcome
  })
