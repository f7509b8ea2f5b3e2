/**
 * Which controllers run in this process, and the provider layers they need, from configuration.
 * Each controller module adds itself here; the engine itself knows nothing about kinds.
 */
import { Layer } from "effect"
import type { AppConfigValues } from "../src/config/config.ts"
import type { Platform } from "../src/system/platform.ts"
import { runControllers, type EngineOptions } from "./engine/engine.ts"
import type { AnyController } from "./engine/controller.ts"
import { resourceController } from "./resource/index.ts"
import { DatabaseProviderFromConfig, type DatabaseProvider } from "../src/providers/database/index.ts"

export interface ControllerSettings {
  readonly config: AppConfigValues
  readonly engine?: EngineOptions
  /** Controllers run beside the built-in ones (tests: e.g. one that flips an App's conditions). */
  readonly extraControllers?: ReadonlyArray<AnyController<Platform>>
}

/** A layer that runs every controller for as long as it lives. */
export const controllersLayer = (settings: ControllerSettings): Layer.Layer<never, unknown, Platform> =>
  runControllers<Platform | DatabaseProvider>([resourceController, ...(settings.extraControllers ?? [])], { concurrency: settings.config.WORKER_CONCURRENCY, ...settings.engine }).pipe(
    Layer.provide(DatabaseProviderFromConfig)
  )
