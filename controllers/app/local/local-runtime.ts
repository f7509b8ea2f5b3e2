/**
 * The local app runtime: apps built and run on this machine (DESIGN.md §5 App runtimes), behind the
 * AppRuntime port. A reconcile observes what is real here — the deployment job this process runs,
 * the live build on disk (live.json), the supervised process — and acts on the difference:
 *
 * - a deployment is due (new revision, redeploy, config or credentials) → record it, then run it in
 *   the background (deployment.ts); the job wakes the app when it ends;
 * - a recorded deployment this process does not run (it restarted mid-build) → run it again;
 * - nothing due → keep the live build serving: start it again after a restart (no rebuild), report
 *   a crash loop with the exit code and log tail.
 *
 * Processes die with the server; builds and live.json survive it.
 */
import { createHash, randomBytes } from "node:crypto"
import path from "node:path"
import { Clock, Effect } from "effect"
import type { AppStatus, BuildPlan, DeploymentRecord } from "../../../schemas/index.ts"
import type { Plan } from "../../../src/providers/local/plan.ts"
import { canonicalJson } from "../../../src/store/canonical-json.ts"
import type { StoredObject } from "../../../src/store/objects.ts"
import { appPaths, buildDir } from "../../../src/providers/local/paths.ts"
import { tailLog } from "../../../src/providers/local/log-file.ts"
import { runtimeLogFile } from "../../../src/providers/local/paths.ts"
import { Done, RequeueAfter } from "../../engine/result.ts"
import { condition, describeRevision, logTail, unlessServing, present } from "../conditions.ts"
import { deploymentDue, deploymentRecord, isInFlight, type DeployKey } from "../deploy.ts"
import type { RuntimeTarget } from "../runtime.ts"
import { updateAppStatus } from "../status.ts"
import type { DeploymentOutcome, DeploymentRequest, DeploymentStep, FetchSource } from "./deployment.ts"
import { readLive } from "./live.ts"
import type { InstanceState, Limits, LocalProcesses, LocalRoutes } from "./ports.ts"

type App = StoredObject<"App">

export interface LocalRuntimeSettings {
  readonly pollMs: number
  readonly crashRecheckMs: number
  readonly logLines: number
  readonly healthTimeoutMs: number
  /** PATH inside the sandbox (the server's own Node first). */
  readonly path: string
}

/** A deployment this process runs or ran: its step while running, its outcome once ended. */
export interface DeploymentJob {
  readonly step: DeploymentStep
  readonly outcome?: DeploymentOutcome
}

export interface LocalRuntimeDeps {
  readonly dataDir: string
  readonly processes: LocalProcesses
  readonly routes: LocalRoutes
  readonly settings: LocalRuntimeSettings
  /** Where the app's code comes from, or why it cannot be fetched yet (waiting for a push). */
  readonly sourceOf: (app: App) => Effect.Effect<{ readonly _tag: "Source"; readonly source: FetchSource } | { readonly _tag: "Waiting"; readonly reason: string; readonly message: string }, unknown>
  /** Removes everything the app has on disk (its folder under DATA_DIR/apps, its pushed repository). */
  readonly removeFiles: (uid: string) => Promise<void>
  /** Runs a deployment in the background; its job is readable until the process ends. */
  readonly jobs: {
    readonly get: (deploymentId: string) => DeploymentJob | undefined
    readonly start: (request: DeploymentRequest) => void
    /** Interrupts the app's running deployment (it is being deleted). */
    readonly cancelApp: (uid: string) => Effect.Effect<void>
  }
}

/** The plan as the deployment record keeps it: what was installed, built and started. */
const planRecord = (plan: Plan | undefined): { readonly plan?: BuildPlan } => {
  if (plan === undefined) return {}
  const commands = { ...(plan.install ? { install: plan.install } : {}), ...(plan.build ? { build: plan.build } : {}) }
  return plan.kind === "static"
    ? { plan: { kind: "static", ...commands, ...(plan.root ? { root: plan.root } : {}) } }
    : { plan: { kind: "process", detectedFrom: plan.detectedFrom, ...commands, start: plan.start } }
}

const newDeploymentId = (now: number) => `${now.toString(36)}-${randomBytes(4).toString("hex")}`

const MEMORY_UNITS: Readonly<Record<string, number>> = { M: 1024 ** 2, G: 1024 ** 3 }

/** The spec's cpu/memory as sandbox limits, with a pids bound every app gets (a fork bomb stays its own). */
export const limitsOf = (app: App): Limits => {
  const memory = app.spec.resources?.memory
  const cpu = app.spec.resources?.cpu
  const unit = memory ? MEMORY_UNITS[memory.slice(-1)] : undefined
  return {
    pids: 256,
    ...(memory && unit ? { memoryBytes: Number(memory.slice(0, -1)) * unit } : {}),
    ...(cpu ? { cpus: Number(cpu) } : {})
  }
}

/** Everything a deployment depends on besides revision and nonce: a change deploys again. */
const localConfigHash = (app: App, target: RuntimeTarget): string =>
  createHash("sha256")
    .update(app.metadata.uid)
    .update(canonicalJson({ buildPack: app.spec.buildPack, commands: app.spec.commands ?? null, port: app.spec.port ?? null, resources: app.spec.resources ?? null, env: target.env, repo: app.spec.repo ?? null, branch: app.spec.branch }))
    .digest("hex")
    .slice(0, 24)

const STEP_WORDS: Readonly<Record<DeploymentStep, string>> = {
  fetching: "fetching the code",
  building: "installing and building",
  starting: "starting the new version and waiting for its health check",
  switching: "switching traffic to the new version"
}

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1)

const what = (app: App, record: Pick<DeploymentRecord, "id" | "revision">) => `deployment ${record.id} of ${describeRevision(record.revision, app.spec.branch)}`

export const makeLocalRuntime = (deps: LocalRuntimeDeps) => {
  const { settings } = deps

  const reconcile = (object: App, target: RuntimeTarget) =>
    Effect.gen(function*() {
      const placed = (status: AppStatus): AppStatus => ({ ...status, url: target.url, host: "local" })
      const synced = condition("Synced", "True", "Applied", "The local runtime runs this app on this machine with the spec's settings.")
      const write = (app: App, update: (status: AppStatus) => AppStatus, conditions: ReadonlyArray<ReturnType<typeof condition> | undefined>) =>
        updateAppStatus(app, (status) => update(placed(status)), [synced, ...conditions.filter(present)])
      const paths = appPaths(deps.dataDir, object.metadata.uid)

      const source = yield* deps.sourceOf(object)
      if (source._tag === "Waiting") {
        const live = yield* Effect.promise(() => readLive(paths.root))
        if (!live) deps.routes.set(target.hostName, { kind: "unavailable", message: source.message })
        yield* write(object, (status) => status, [condition("Deployed", "False", source.reason, source.message), unlessServing(object, source.reason, source.message)])
        return Done
      }

      const key: DeployKey = {
        revision: object.spec.revision,
        redeployNonce: object.spec.redeployNonce,
        configHash: localConfigHash(object, target),
        resourceCredentials: target.resourceCredentials
      }
      const now = yield* Clock.currentTimeMillis
      let current = object
      let latest = current.status.latestDeployment

      const request = (record: DeploymentRecord): DeploymentRequest => ({
        owner: current.metadata.owner,
        uid: current.metadata.uid,
        deploymentId: record.id,
        spec: current.spec,
        source: source.source,
        hostName: target.hostName,
        env: target.env,
        limits: limitsOf(current)
      })

      // ---- deploy
      if (deploymentDue(latest, key) && !(latest && isInFlight(latest))) {
        const record = deploymentRecord(newDeploymentId(now), key, now, "in_progress")
        // Recorded before the job starts: a crash after this line reruns the same deployment, never a second one.
        current = yield* write(current, (status) => ({ ...status, latestDeployment: record }), [
          condition("Deployed", "False", "Building", `${capitalize(what(current, record))} started.`),
          unlessServing(current, "Building", `${what(current, record)} started.`)
        ])
        deps.jobs.start(request(record))
        return RequeueAfter(settings.pollMs)
      }

      // ---- follow the deployment in flight
      if (latest && isInFlight(latest)) {
        const job = deps.jobs.get(latest.id)
        if (!job) {
          // Recorded but not running here: this process restarted mid-deployment. Run it again (same id).
          deps.jobs.start(request(latest))
          yield* write(current, (status) => status, [condition("Deployed", "False", "Building", `${capitalize(what(current, latest!))} was interrupted by a restart; running it again.`)])
          return RequeueAfter(settings.pollMs)
        }
        if (!job.outcome) {
          const message = `${capitalize(what(current, latest))}: ${STEP_WORDS[job.step]}.`
          yield* write(current, (status) => status, [condition("Deployed", "False", "Building", message), unlessServing(current, "Building", message)])
          return RequeueAfter(settings.pollMs)
        }
        const outcome = job.outcome
        const finishedAt = new Date(now).toISOString()
        if (outcome._tag === "Succeeded") {
          const revision = outcome.revision ?? null
          const deployed = `${capitalize(describeRevision(revision, current.spec.branch))} is deployed (deployment ${latest.id}).`
          const unsandboxed = outcome.sandboxNote ? ` Warning: it runs WITHOUT a sandbox (${outcome.sandboxNote}).` : ""
          current = yield* write(current, (status) => ({ ...status, deployedRevision: revision, latestDeployment: { ...latest!, state: "finished", finishedAt, ...planRecord(outcome.plan) } }), [
            condition("Deployed", "True", "Deployed", deployed),
            condition("Ready", "True", "Running", `Serving ${target.url} (${describeRevision(revision, current.spec.branch)}).${unsandboxed}`)
          ])
          return RequeueAfter(settings.crashRecheckMs)
        }
        const evidence = outcome.logTail && outcome.logTail.length > 0 ? ` Last log lines:\n${logTail(outcome.logTail, settings.logLines)}` : ""
        const message = `${capitalize(what(current, latest))} failed: ${outcome.message}${evidence}\nFix it and push (or update_app), or redeploy.`
        const serving = (yield* Effect.promise(() => readLive(paths.root))) !== undefined
        const reason = outcome.reason ?? "BuildFailed"
        yield* write(current, (status) => ({ ...status, latestDeployment: { ...latest!, state: "failed", finishedAt, ...planRecord(outcome.plan) } }), [
          condition("Deployed", "False", reason, message),
          serving
            ? condition("Ready", "True", "Running", `Still serving the previously deployed ${describeRevision(current.status.deployedRevision ?? null, current.spec.branch)} at ${target.url}; the latest deployment failed (see Deployed).`)
            : condition("Ready", "False", reason, `Not serving: ${message}`)
        ])
        if (!serving) deps.routes.set(target.hostName, { kind: "unavailable", message: `Not serving: ${outcome.message}` })
        return Done
      }

      // ---- keep the live build serving
      const live = yield* Effect.promise(() => readLive(paths.root))
      if (!live) {
        yield* write(current, (status) => status, [])
        return Done
      }
      const liveDir = buildDir(paths, live.deploymentId)
      if (live.staticRoot !== undefined) {
        deps.routes.set(target.hostName, { kind: "static", root: path.resolve(liveDir, live.staticRoot) })
        yield* write(current, (status) => status, [condition("Ready", "True", "Running", `Serving ${target.url} (${describeRevision(live.revision, current.spec.branch)}).`)])
        return Done
      }
      let instance: InstanceState | undefined = deps.processes.instance(current.metadata.uid, live.deploymentId)
      if (!instance || instance.state === "stopped") {
        // Not running here (the server restarted): start the kept build again, no rebuild.
        const started = yield* deps.processes
          .start({
            appId: current.metadata.uid,
            deploymentId: live.deploymentId,
            dir: liveDir,
            command: live.start ?? "",
            env: { ...target.env, PATH: settings.path, NODE_ENV: target.env["NODE_ENV"] ?? "production" },
            limits: limitsOf(current),
            healthPath: live.healthPath,
            healthTimeoutMs: settings.healthTimeoutMs
          })
          .pipe(Effect.result)
        if (started._tag === "Failure") {
          const message = `The deployed ${describeRevision(live.revision, current.spec.branch)} did not start again: ${started.failure.message}${started.failure.logTail.length ? ` Last log lines:\n${logTail(started.failure.logTail, settings.logLines)}` : ""}`
          deps.routes.set(target.hostName, { kind: "unavailable", message })
          yield* write(current, (status) => status, [condition("Ready", "False", "Crashed", message)])
          return RequeueAfter(settings.crashRecheckMs)
        }
        instance = started.success
      }
      if (instance.state === "restarting") {
        const exit = instance.lastExit
        const how = exit ? (exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`) : "stopped"
        const lines = yield* Effect.promise(() => tailLog(runtimeLogFile(paths), settings.logLines)).pipe(Effect.orElseSucceed(() => [] as Array<string>))
        const message = `The app's process ${how} and is being restarted (restart ${instance.restarts}, with backoff). Last log lines:\n${logTail(lines, settings.logLines)}`
        deps.routes.set(target.hostName, { kind: "unavailable", message })
        yield* write(current, (status) => status, [condition("Ready", "False", "Crashed", message)])
        return RequeueAfter(settings.pollMs)
      }
      deps.routes.set(target.hostName, { kind: "proxy", port: instance.port })
      const unsandboxed = instance.sandboxed ? "" : ` Warning: it runs WITHOUT a sandbox (${instance.sandboxNote ?? "bubblewrap is not available"}).`
      yield* write(current, (status) => status, [condition("Ready", "True", "Running", `Serving ${target.url} (${describeRevision(live.revision, current.spec.branch)}).${unsandboxed}`)])
      return Done
    })

  /** Stop every process of the app, drop its route, and remove its mirror, builds, logs and pushed repository. */
  const finalize = (object: App) =>
    Effect.gen(function*() {
      yield* deps.jobs.cancelApp(object.metadata.uid)
      yield* deps.processes.stopApp(object.metadata.uid)
      const url = object.status.url
      if (url !== undefined) deps.routes.remove(new URL(url).hostname)
      yield* Effect.promise(() => deps.removeFiles(object.metadata.uid))
      return Done
    })

  return { reconcile, finalize }
}
