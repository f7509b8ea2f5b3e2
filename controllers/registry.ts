/**
 * Which controllers run in this process, and the provider layers they need, from configuration.
 * Each controller module adds itself here; the engine itself knows nothing about kinds.
 */
import { Layer } from "effect"
import { createHash } from "node:crypto"
import { appRuntimeName } from "../src/config/runtime.ts"
import type { AppConfigValues } from "../src/config/config.ts"
import type { Platform } from "../src/system/platform.ts"
import { runControllers, type EngineOptions } from "./engine/engine.ts"
import type { AnyController } from "./engine/controller.ts"
import { resourceController } from "./resource/index.ts"
import { DatabaseProviderFromConfig, type DatabaseProvider } from "../src/providers/database/index.ts"
import { hostControllerFromConfig, hostProvidersLayer, placementLayerFromConfig, type HostProviders } from "./host/index.ts"
import { appControllerLayer, type AppControllerLayerOptions } from "./app/index.ts"
import { githubSourceLayer } from "./github-source/index.ts"

export interface ControllerSettings {
  readonly config: AppConfigValues
  readonly engine?: EngineOptions
  /**
   * Test hook: controllers to run as well; one for a kind replaces the built-in controller of that
   * kind (e.g. an App controller that flips conditions on cue).
   */
  readonly extraControllers?: ReadonlyArray<AnyController<Platform>>
  /** The local runtime's wiring: the route table shared with the HTTP server's app router, and the origin apps are reached at. */
  readonly localRuntime?: AppControllerLayerOptions["local"]
}

const withExtras = <R>(builtIn: ReadonlyArray<AnyController<R>>, extras: ReadonlyArray<AnyController<R>> = []) =>
  [...builtIn.filter((controller) => !extras.some((extra) => extra.kind === controller.kind)), ...extras]

/**
 * Digest of what decides how objects are reconciled (runtime, providers and their credentials,
 * the URLs apps get): a change reconciles every object at start-up (engine.configFingerprint).
 */
export const configFingerprint = (config: AppConfigValues): string =>
  createHash("sha256")
    .update(
      JSON.stringify([
        appRuntimeName(config),
        config.COOLIFY_URL, config.COOLIFY_TOKEN, config.COOLIFY_PROJECT, config.COOLIFY_SERVER,
        config.TURSO_API_URL, config.TURSO_ORG, config.TURSO_GROUP, config.TURSO_API_TOKEN,
        config.GITHUB_APP_ID, config.APP_DNS_SUFFIX, config.PUBLIC_URL, config.PORT
      ])
    )
    .digest("hex")

/** A layer that runs every controller for as long as it lives. */
export const controllersLayer = (settings: ControllerSettings): Layer.Layer<never, unknown, Platform> => {
  const engine = { concurrency: settings.config.WORKER_CONCURRENCY, configFingerprint: configFingerprint(settings.config), ...settings.engine }
  const others = runControllers(withExtras<Platform | DatabaseProvider | HostProviders>([resourceController, hostControllerFromConfig(settings.config)], settings.extraControllers), engine).pipe(
    Layer.provide(DatabaseProviderFromConfig),
    Layer.provide(hostProvidersLayer(settings.config))
  )
  // Apps run with their own providers (Coolify, GitHub; ProviderNotConfigured without COOLIFY_*); a test's App controller replaces it.
  const replaced = settings.extraControllers?.some((extra) => extra.kind === "App") ?? false
  // Coolify GitHub App sources for installations (nothing without COOLIFY_* and GITHUB_*).
  const sources = githubSourceLayer(settings.config)
  return replaced ? Layer.mergeAll(others, sources) : Layer.mergeAll(others, sources, appControllerLayer({ config: settings.config, engine, placement: placementLayerFromConfig(settings.config), ...(settings.localRuntime ? { local: settings.localRuntime } : {}) }))
}
