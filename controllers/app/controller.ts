/**
 * The App controller as the engine sees it (controllers/engine/controller.ts): reconcile and
 * finalize under the `deploy.mcp/provider` finalizer, provider failures reported in status. And
 * its stand-in when no Coolify is configured: every App says so, nothing crashes.
 */
import { Effect } from "effect"
import { Annotations, Finalizers } from "../../schemas/index.ts"
import type { StoredObject } from "../../src/store/objects.ts"
import type { Controller } from "../engine/controller.ts"
import { Done, RequeueAfter } from "../engine/result.ts"
import { condition, PROVIDER_NOT_CONFIGURED_MESSAGE } from "./conditions.ts"
import { isAppProviderFailure, reportFailure } from "./failure.ts"
import { finalizeApp } from "./finalize.ts"
import { reconcileApp } from "./reconcile.ts"
import { resolveAppControllerSettings, type AppControllerSettings } from "./settings.ts"
import { updateAppStatus } from "./status.ts"

type App = StoredObject<"App">

export const makeAppController = (overrides: Partial<AppControllerSettings> = {}) => {
  const settings = resolveAppControllerSettings(overrides)
  return {
    kind: "App",
    finalizer: Finalizers.provider,
    reconcile: (object: App) => reconcileApp(settings, object).pipe(Effect.catchIf(isAppProviderFailure, (error) => reportFailure(object, error, "reconcile"))),
    finalize: (object: App) => finalizeApp(settings, object).pipe(Effect.catchIf(isAppProviderFailure, (error) => reportFailure(object, error, "delete")))
  } satisfies Controller<"App", unknown, unknown>
}

const everCreated = (app: App) =>
  app.metadata.annotations[Annotations.externalName] !== undefined ||
  app.metadata.annotations[Annotations.createPending] !== undefined ||
  app.status.externalId !== undefined

/** No COOLIFY_URL/COOLIFY_TOKEN: Apps get Synced=False ProviderNotConfigured naming them. */
export const providerNotConfiguredController = {
  kind: "App",
  finalizer: Finalizers.provider,
  reconcile: (object: App) =>
    updateAppStatus(object, (status) => status, [
      condition("Synced", "False", "ProviderNotConfigured", PROVIDER_NOT_CONFIGURED_MESSAGE),
      condition("Ready", "False", "ProviderNotConfigured", PROVIDER_NOT_CONFIGURED_MESSAGE)
    ]).pipe(Effect.as(Done)),
  // An app that never reached Coolify has nothing to clean up; one that did waits for the provider.
  finalize: (object: App) =>
    everCreated(object)
      ? updateAppStatus(object, (status) => status, [
          condition("Synced", "False", "ProviderNotConfigured", `The app exists in Coolify and cannot be deleted there until the provider is configured again. ${PROVIDER_NOT_CONFIGURED_MESSAGE}`)
        ]).pipe(Effect.as(RequeueAfter(5 * 60_000)))
      : Effect.succeed(Done)
} satisfies Controller<"App", unknown, unknown>
