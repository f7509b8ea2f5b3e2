/**
 * The Coolify project, environment and server new apps go to, and the Coolify GitHub App source
 * that covers a GitHub installation. Configured (COOLIFY_PROJECT, COOLIFY_SERVER) or discovered
 * once per process from the instance and logged; placement may name another server per app.
 */
import { Context, Effect, Layer, Option, Schema, Semaphore } from "effect"
import { CoolifyApi } from "../../src/providers/coolify/index.ts"
import type { CoolifyError, CoolifyGithubApp, CoolifyProject } from "../../src/providers/coolify/index.ts"
import { AppLogger } from "../../src/log/service.ts"
import type { CoolifyPlace } from "./desired.ts"

/** The Coolify instance has nothing to create apps in (no project, environment or server). */
export class CoolifySetupMissing extends Schema.TaggedError<CoolifySetupMissing>()("CoolifySetupMissing", {
  message: Schema.String
}) {}

export interface CoolifyTargetOptions {
  /** COOLIFY_PROJECT: a project uuid; otherwise a project named "deploy-mcp", else the first. */
  readonly projectUuid?: string
  /** COOLIFY_SERVER: a server uuid; otherwise the first usable server. */
  readonly serverUuid?: string
  /** How long the GitHub App source list is trusted before a miss refreshes it. */
  readonly githubAppsMaxAgeMs?: number
}

export class CoolifyTarget extends Context.Service<CoolifyTarget, {
  /** Where a create goes; `serverUuid` (from placement) overrides the default server. */
  place(serverUuid?: string): Effect.Effect<CoolifyPlace, CoolifyError | CoolifySetupMissing>
  /** The Coolify GitHub App source for a GitHub installation, if Coolify has one. */
  githubAppFor(installationId: number): Effect.Effect<Option.Option<string>, CoolifyError>
}>()("deploy-mcp/controllers/app/CoolifyTarget") {
  static readonly layer = (options: CoolifyTargetOptions = {}): Layer.Layer<CoolifyTarget, never, CoolifyApi | AppLogger> =>
    Layer.effect(CoolifyTarget, makeCoolifyTarget(options))
}

const pickProject = (projects: ReadonlyArray<CoolifyProject>): CoolifyProject | undefined =>
  projects.find((project) => project.name === "deploy-mcp") ?? projects[0]

const makeCoolifyTarget = (options: CoolifyTargetOptions) =>
  Effect.gen(function*() {
    const api = yield* CoolifyApi
    const logger = yield* AppLogger
    let project: { readonly uuid: string; readonly environmentName: string } | undefined
    let defaultServer: string | undefined = options.serverUuid
    let githubApps: { readonly at: number; readonly apps: ReadonlyArray<CoolifyGithubApp> } | undefined
    const githubAppsMaxAgeMs = options.githubAppsMaxAgeMs ?? 60_000

    // One discovery at a time: a burst of first reconciles shares one set of calls.
    const discovery = yield* Semaphore.make(1)

    const resolveProject = Effect.gen(function*() {
      if (project) return project
      const uuid = options.projectUuid ?? pickProject(yield* api.listProjects())?.uuid
      if (uuid === undefined) {
        return yield* new CoolifySetupMissing({ message: "Coolify has no project to create apps in. Create one in Coolify (Projects → Add), or set COOLIFY_PROJECT to a project uuid." })
      }
      const detail = yield* api.getProject(uuid)
      const environments = detail.environments ?? []
      const environment = environments.find((env) => env.name === "production") ?? environments[0]
      if (!environment) {
        return yield* new CoolifySetupMissing({ message: `Coolify project ${detail.name} (${uuid}) has no environment. Add one (e.g. "production") in Coolify.` })
      }
      project = { uuid, environmentName: environment.name }
      if (options.projectUuid === undefined) logger.info({ coolifyProject: uuid, environment: environment.name }, "discovered the Coolify project for apps (set COOLIFY_PROJECT to choose another)")
      return project
    })

    const resolveServer = Effect.gen(function*() {
      if (defaultServer !== undefined) return defaultServer
      const servers = yield* api.listServers()
      const usable = servers.find((server) => server.settings?.is_usable !== false && server.settings?.is_reachable !== false) ?? servers[0]
      if (!usable) return yield* new CoolifySetupMissing({ message: "Coolify has no server to run apps on. Add one in Coolify (Servers → Add), or set COOLIFY_SERVER to a server uuid." })
      defaultServer = usable.uuid
      logger.info({ coolifyServer: usable.uuid, name: usable.name }, "discovered the Coolify server for apps (set COOLIFY_SERVER to choose another)")
      return usable.uuid
    })

    const place = (serverUuid?: string) =>
      Effect.gen(function*() {
        const { uuid, environmentName } = project ?? (yield* discovery.withPermits(1)(resolveProject))
        const server = serverUuid ?? defaultServer ?? (yield* discovery.withPermits(1)(resolveServer))
        return { projectUuid: uuid, environmentName, serverUuid: server }
      })

    const sources = yield* Semaphore.make(1)
    const githubAppFor = (installationId: number) =>
      sources.withPermits(1)(Effect.gen(function*() {
        const match = (apps: ReadonlyArray<CoolifyGithubApp>) => Option.fromNullishOr(apps.find((app) => app.installation_id === installationId)?.uuid)
        const now = Date.now()
        if (githubApps && (Option.isSome(match(githubApps.apps)) || now - githubApps.at < githubAppsMaxAgeMs)) return match(githubApps.apps)
        const apps = yield* api.listGithubApps()
        githubApps = { at: now, apps }
        return match(apps)
      }))

    return CoolifyTarget.of({ place, githubAppFor })
  })
