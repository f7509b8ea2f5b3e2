/**
 * The App controller with its providers, from configuration: CoolifyApi (paced under Coolify's
 * rate limit), the shared observations, the Coolify target, and repository access through
 * GitHub when GITHUB_* is set. Placement comes from the caller (the registry), so the host-aware
 * layer can replace the single-server default without touching this module.
 */
import { GitHubInstallations } from "../../src/github/installations.ts"
import { Layer } from "effect"
import type { AppConfigValues } from "../../src/config/config.ts"
import { CoolifyApi } from "../../src/providers/coolify/index.ts"
import type { CoolifyApiConfig } from "../../src/providers/coolify/index.ts"
import { GitHubApi } from "../../src/providers/github/index.ts"
import type { Platform } from "../../src/system/platform.ts"
import { runControllers, type EngineOptions } from "../engine/engine.ts"
import { localRuntimeNotWiredController, makeAppController, providerNotConfiguredController } from "./controller.ts"
import { CoolifyObservations } from "./observations.ts"
import { appRuntimeName } from "../../src/config/runtime.ts"
import { coolifyRuntimeLayer } from "./coolify-runtime.ts"
import { localRuntimeLayer, type LocalRuntimeOptions } from "./local/layer.ts"
import { Placement } from "../placement/Placement.ts"
import { resolveAppControllerSettings, type AppControllerSettings } from "./settings.ts"
import { RepoAccess } from "./source.ts"
import { CoolifyTarget } from "./target.ts"

/** Retry-After longer than this is not waited out inside a call: the reconcile requeues instead of holding a worker. */
const MAX_RETRY_AFTER_IN_CALL_MS = 5_000

export interface AppProvidersOptions {
  readonly coolify: CoolifyApiConfig
  readonly projectUuid?: string
  readonly serverUuid?: string
  readonly settings?: Partial<AppControllerSettings>
}

/** Everything the App controller needs besides the platform, Placement and RepoAccess. */
export const appProvidersLayer = (options: AppProvidersOptions) => {
  const settings = resolveAppControllerSettings(options.settings)
  return Layer.mergeAll(
    CoolifyObservations.layer({ maxAgeMs: settings.observeMaxAgeMs, minIntervalMs: settings.listMinIntervalMs }),
    CoolifyTarget.layer({
      githubAppsMaxAgeMs: settings.githubSourcesMaxAgeMs,
      ...(options.projectUuid === undefined ? {} : { projectUuid: options.projectUuid }),
      ...(options.serverUuid === undefined ? {} : { serverUuid: options.serverUuid })
    })
  ).pipe(Layer.provideMerge(CoolifyApi.layer({ maxRetryAfterMs: MAX_RETRY_AFTER_IN_CALL_MS, ...options.coolify })))
}

const githubConfigured = (config: AppConfigValues) =>
  config.GITHUB_APP_ID !== undefined &&
  config.GITHUB_APP_PRIVATE_KEY !== undefined &&
  config.GITHUB_CLIENT_ID !== undefined &&
  config.GITHUB_CLIENT_SECRET !== undefined

/** GitHub decides public vs. App installation when configured; otherwise every repo is taken as public. */
export const repoAccessLayerFor = (config: AppConfigValues) =>
  githubConfigured(config)
    ? RepoAccess.layerFromGitHub.pipe(Layer.provide(Layer.mergeAll(GitHubApi.layerFromAppConfig, GitHubInstallations.layer)))
    : RepoAccess.layerAssumePublic

export interface AppControllerLayerOptions {
  readonly config: AppConfigValues
  readonly engine?: EngineOptions
  /** Where apps run: Placement.layerSingleServer(APP_DNS_SUFFIX) by default in the registry. */
  readonly placement: Layer.Layer<Placement, never, Platform>
  readonly settings?: Partial<AppControllerSettings>
  /** The local runtime's wiring to the HTTP server (route table, public origin); absent: apps cannot be served here. */
  readonly local?: Omit<LocalRuntimeOptions, "config">
}

/** The coolify runtime with its providers, from configuration (COOLIFY_* must be set). */
export const coolifyRuntimeFromConfig = (config: AppConfigValues & { readonly COOLIFY_URL: string; readonly COOLIFY_TOKEN: string }, settings?: Partial<AppControllerSettings>) =>
  coolifyRuntimeLayer(resolveAppControllerSettings(settings)).pipe(
    Layer.provide(
      Layer.mergeAll(
        appProvidersLayer({
          coolify: { url: config.COOLIFY_URL, token: config.COOLIFY_TOKEN, requestsPerMinute: config.COOLIFY_REQUESTS_PER_MINUTE },
          ...(config.COOLIFY_PROJECT === undefined ? {} : { projectUuid: config.COOLIFY_PROJECT }),
          ...(config.COOLIFY_SERVER === undefined ? {} : { serverUuid: config.COOLIFY_SERVER }),
          ...(settings === undefined ? {} : { settings })
        }),
        repoAccessLayerFor(config)
      )
    )
  )

/** Runs the App controller on the configured runtime (or the not-configured stand-in) for as long as the layer lives. */
export const appControllerLayer = (options: AppControllerLayerOptions): Layer.Layer<never, unknown, Platform> => {
  const { config } = options
  if (appRuntimeName(config) === "local") {
    // The local runtime serves apps through the HTTP server's route table; without one (a server
    // started without HTTP) nothing could reach them, so apps say so instead of half-deploying.
    if (options.local === undefined) return runControllers([localRuntimeNotWiredController], options.engine)
    const runtime = localRuntimeLayer({ config, ...options.local }).pipe(Layer.provide(repoAccessLayerFor(config)))
    return runControllers([makeAppController(options.settings)], options.engine).pipe(
      Layer.provide(Layer.mergeAll(runtime, Placement.layerLocal(config.APP_DNS_SUFFIX)))
    )
  }
  const { COOLIFY_URL, COOLIFY_TOKEN } = config
  if (COOLIFY_URL === undefined || COOLIFY_TOKEN === undefined) return runControllers([providerNotConfiguredController], options.engine)
  return runControllers([makeAppController(options.settings)], options.engine).pipe(
    Layer.provide(Layer.mergeAll(coolifyRuntimeFromConfig({ ...config, COOLIFY_URL, COOLIFY_TOKEN }, options.settings), options.placement))
  )
}
