/**
 * The App controller (DESIGN.md §4–5): observe (observe.ts, observations.ts) → create (create.ts) |
 * update (desired.ts, env-sync.ts) | deploy (deploy.ts) | delete (finalize.ts), conditions in
 * conditions.ts, the whole reconcile in reconcile.ts. Registry entry: appControllerLayer.
 */
export { appControllerLayer, appProvidersLayer, repoAccessLayerFor } from "./layer.ts"
export type { AppControllerLayerOptions, AppProvidersOptions } from "./layer.ts"
export { makeAppController, providerNotConfiguredController } from "./controller.ts"
export { defaultAppControllerSettings, resolveAppControllerSettings } from "./settings.ts"
export type { AppControllerSettings } from "./settings.ts"
export { CoolifyObservations } from "./observations.ts"
export { CoolifyTarget, CoolifySetupMissing } from "./target.ts"
export { RepoAccess, RepoAccessUnavailable } from "./source.ts"
export type { RepoAccessDecision } from "./source.ts"
export { coolifyAppLogsLayer, makeCoolifyAppLogs, LOG_LINES_MAX } from "./logs.ts"
export { COOLIFY_TAG, coolifyAppName, coolifyAppNameOf } from "./names.ts"
export { DEPLOY_PENDING_ANNOTATION } from "./deploy.ts"
