/**
 * The App controller (DESIGN.md §4–5): controller.ts places the app and wires its resources, then
 * the app runtime (runtime.ts, the port) converges it. The coolify runtime (coolify-runtime.ts):
 * observe (observe.ts, observations.ts) → create (create.ts) | update (desired.ts, env-sync.ts) |
 * deploy (deploy.ts) | delete (finalize.ts), its whole reconcile in reconcile.ts. Conditions in
 * conditions.ts. Registry entry: appControllerLayer.
 */
export { appControllerLayer, appProvidersLayer, coolifyRuntimeFromConfig, repoAccessLayerFor } from "./layer.ts"
export { coolifyRuntimeLayer } from "./coolify-runtime.ts"
export { AppRuntime, type AppRuntimeService, type RuntimeTarget } from "./runtime.ts"
export type { AppControllerLayerOptions, AppProvidersOptions } from "./layer.ts"
export { makeAppController, providerNotConfiguredController } from "./controller.ts"
export { defaultAppControllerSettings, resolveAppControllerSettings } from "./settings.ts"
export type { AppControllerSettings } from "./settings.ts"
export { CoolifyObservations } from "./observations.ts"
export { CoolifyTarget, CoolifySetupMissing } from "./target.ts"
export { RepoAccess, RepoAccessUnavailable } from "./source.ts"
export type { RepoAccessDecision } from "./source.ts"
export { coolifyAppLogsLayer, makeCoolifyAppLogs } from "./logs.ts"
export { COOLIFY_TAG, coolifyAppName, coolifyAppNameOf } from "./names.ts"
export { DEPLOY_PENDING_ANNOTATION } from "./deploy.ts"
