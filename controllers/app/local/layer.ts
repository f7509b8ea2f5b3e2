/**
 * The local runtime behind the AppRuntime port, from configuration: the process supervisor
 * (sandboxed, scoped to this layer: every app process dies with it), the route table the HTTP
 * server shares, background deployment jobs, and where each app's code comes from. At start it
 * wakes every app that has a live build on this machine, so they serve again without a rebuild.
 */
import { rm } from "node:fs/promises"
import path from "node:path"
import { Effect, Layer } from "effect"
import { repoSource } from "../../../schemas/repo-source.ts"
import type { AppConfigValues } from "../../../src/config/config.ts"
import { appPaths, pushRemoteDir } from "../../../src/providers/local/paths.ts"
import type { RouteTable } from "../../../src/providers/local/router.ts"
import { detectSandbox } from "../../../src/providers/local/sandbox.ts"
import { Supervisor } from "../../../src/providers/local/supervisor.ts"
import type { StoredObject } from "../../../src/store/objects.ts"
import { ReconcileQueue } from "../../engine/queue.ts"
import { AppRuntime } from "../runtime.ts"
import { RepoAccess } from "../source.ts"
import type { FetchSource } from "./deployment.ts"
import { makeDeploymentJobs } from "./jobs.ts"
import { listLive } from "./live.ts"
import { makeLocalRuntime, type LocalRuntimeSettings } from "./local-runtime.ts"
import type { LocalProcesses } from "./ports.ts"
import { pushCommands, remoteHasBranch } from "./push-source.ts"

type App = StoredObject<"App">

export interface LocalRuntimeOptions {
  readonly config: AppConfigValues
  /** Shared with the HTTP server's app router. */
  readonly routes: RouteTable
  /** Scheme, host and port apps are reached at: `http://<name>.localhost:8081`. */
  readonly publicOrigin: { readonly protocol: string; readonly port: string }
  readonly settings?: Partial<LocalRuntimeSettings>
  /** Supervisor restart backoff (tests shorten it). */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number; readonly stableAfterMs?: number }
}

const UNSUPPORTED_BUILD_PACKS = new Set(["dockerfile", "dockercompose"])

/** PATH inside the sandbox: the server's own Node first, so `node` and `npm` are what the server runs on. */
const sandboxPath = () => [path.dirname(process.execPath), "/usr/local/bin", "/usr/bin", "/bin"].join(":")

/** The Supervisor as the runtime's LocalProcesses port. */
const processesFrom = (supervisor: Supervisor["Service"], listeners: Set<(appId: string) => void>): LocalProcesses => {
  // The supervisor says whether an instance is sandboxed when it starts it; later statuses do not repeat it.
  const sandboxing = new Map<string, { readonly sandboxed: boolean; readonly sandboxNote?: string }>()
  return {
    start: (request) =>
      supervisor
        .start({
          appId: request.appId,
          deploymentId: request.deploymentId,
          dir: request.dir,
          command: request.command,
          env: request.env,
          limits: request.limits,
          health: { path: request.healthPath, timeoutMs: request.healthTimeoutMs }
        })
        .pipe(
          Effect.tap((instance) => Effect.sync(() => sandboxing.set(instance.deploymentId, { sandboxed: instance.sandboxed, ...(instance.reason ? { sandboxNote: instance.reason } : {}) }))),
          Effect.map((instance) => ({
            deploymentId: instance.deploymentId,
            port: instance.port,
            state: "running" as const,
            restarts: 0,
            sandboxed: instance.sandboxed,
            ...(instance.reason ? { sandboxNote: instance.reason } : {})
          })),
          Effect.mapError((failure) => ({ reason: failure.reason, message: failure.message, logTail: failure.logTail }))
        ),
    stop: (appId, deploymentId) => supervisor.stop(appId, deploymentId).pipe(Effect.ensuring(Effect.sync(() => sandboxing.delete(deploymentId)))),
    stopApp: (appId) => supervisor.stopApp(appId),
    instance: (appId, deploymentId) => {
      const found = Effect.runSync(supervisor.instances(appId)).find((instance) => instance.deploymentId === deploymentId)
      return found === undefined
        ? undefined
        : {
            deploymentId: found.deploymentId,
            port: found.port,
            state: found.state,
            restarts: found.restarts,
            ...(found.lastExit ? { lastExit: found.lastExit } : {}),
            ...(sandboxing.get(deploymentId) ?? { sandboxed: false })
          }
    },
    onChange: (listener) => {
      listeners.add(listener)
    }
  }
}

export const localRuntimeLayer = (options: LocalRuntimeOptions) =>
  Layer.effect(
    AppRuntime,
    Effect.gen(function*() {
      const { config, routes } = options
      const dataDir = path.resolve(config.DATA_DIR)
      const supervisor = yield* Supervisor
      const queue = yield* ReconcileQueue
      const access = yield* RepoAccess
      const sandbox = yield* detectSandbox()
      const owners = new Map<string, string>()
      const wake = (owner: string, uid: string) => {
        Effect.runFork(queue.enqueue("App", { owner, uid }).pipe(Effect.ignore))
      }
      const listeners = new Set<(appId: string) => void>([(uid) => {
        const owner = owners.get(uid)
        if (owner !== undefined) wake(owner, uid)
      }])
      yield* supervisor.watch((event) => {
        if (event.kind === "Crashed" || event.kind === "Restarted") for (const listener of listeners) listener(event.appId)
      })
      const processes = processesFrom(supervisor, listeners)
      const settings: LocalRuntimeSettings = {
        pollMs: 2_000,
        crashRecheckMs: 30_000,
        logLines: 20,
        healthTimeoutMs: 30_000,
        path: sandboxPath(),
        ...options.settings
      }
      const jobs = makeDeploymentJobs(
        {
          dataDir,
          sandbox,
          processes,
          routes,
          buildTimeoutMs: config.LOCAL_BUILD_TIMEOUT_SECONDS * 1000,
          healthTimeoutMs: settings.healthTimeoutMs,
          path: settings.path,
          keepBuilds: 3
        },
        wake
      )
      yield* Effect.addFinalizer(() => jobs.stopAll)

      const githubUrl = config.GITHUB_URL.replace(/\/$/, "")
      const sourceOf = (app: App) =>
        Effect.gen(function*() {
          const source = repoSource(app.spec.repo)
          switch (source._tag) {
            case "Git":
              return { _tag: "Source", source: { url: source.url } satisfies FetchSource } as const
            case "Local":
              return { _tag: "Source", source: { url: source.path } } as const
            case "Push": {
              const remote = pushRemoteDir(dataDir, app.metadata.uid)
              if (!(yield* Effect.promise(() => remoteHasBranch(remote, app.spec.branch)))) {
                const message = `Waiting for the first push. ${pushCommands(config, app)}`
                return { _tag: "Waiting", reason: "WaitingForPush", message } as const
              }
              return { _tag: "Source", source: { url: remote } } as const
            }
            case "GitHub": {
              const decision = yield* access.decide(app.metadata.owner, source.fullName)
              if (decision._tag === "NotInstalled") return { _tag: "Waiting", reason: "WaitingForGitHubApp", message: decision.message } as const
              const url = `${githubUrl}/${source.fullName}.git`
              if (decision._tag === "Public") return { _tag: "Source", source: { url } satisfies FetchSource } as const
              // Through the tenant's installation: a read-only token for this one repository, minted per fetch.
              const credentials = access
                .readToken(decision.installationId, source.fullName)
                .pipe(Effect.map((token) => ({ username: "x-access-token", password: token })))
              return { _tag: "Source", source: { url, credentials } satisfies FetchSource } as const
            }
          }
        })

      const runtime = makeLocalRuntime({
        dataDir,
        processes,
        routes,
        settings,
        sourceOf,
        jobs,
        removeFiles: async (uid) => {
          await rm(appPaths(dataDir, uid).root, { recursive: true, force: true })
          await rm(pushRemoteDir(dataDir, uid), { recursive: true, force: true })
        }
      })

      // After a restart nothing runs: wake every app with a live build, so each starts it again.
      for (const live of yield* Effect.promise(() => listLive(dataDir))) {
        owners.set(live.uid, live.owner)
        wake(live.owner, live.uid)
      }

      const portSuffix = options.publicOrigin.port === "" ? "" : `:${options.publicOrigin.port}`
      return AppRuntime.of({
        name: "local",
        urlFor: (hostName) => `${options.publicOrigin.protocol}//${hostName}${portSuffix}`,
        refuse: (app) => {
          if (app.spec.image !== undefined) {
            return { reason: "RuntimeUnsupported", message: "The local runtime runs apps from source and has no Docker engine for an image; run image apps on the coolify runtime (APP_RUNTIME=coolify)." }
          }
          if (UNSUPPORTED_BUILD_PACKS.has(app.spec.buildPack)) {
            return {
              reason: "RuntimeUnsupported",
              message: `build_pack "${app.spec.buildPack}" needs a Docker engine, which the local runtime does not have. Use build_pack "nixpacks" (Node, Procfile or Python, detected from the repository) or "static", or run it on the coolify runtime (APP_RUNTIME=coolify).`
            }
          }
          return undefined
        },
        reconcile: (app, target) => {
          owners.set(app.metadata.uid, app.metadata.owner)
          return runtime.reconcile(app, target)
        },
        finalize: (app) => runtime.finalize(app).pipe(Effect.tap(() => Effect.sync(() => owners.delete(app.metadata.uid))))
      })
    })
  ).pipe(Layer.provide(Supervisor.layer({ dataDir: path.resolve(options.config.DATA_DIR), ...(options.backoff ? { backoff: options.backoff } : {}) })))
