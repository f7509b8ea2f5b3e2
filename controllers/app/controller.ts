/**
 * The App controller as the engine sees it (controllers/engine/controller.ts): place the app,
 * wire its resources, then let the app runtime (runtime.ts) converge it; finalize under the
 * `deploy.mcp/provider` finalizer. Runtime failures are reported in status. And its stand-in when
 * the chosen runtime cannot deploy (coolify without COOLIFY_*, or the local runtime without the HTTP
 * server that routes its apps): every App says so, nothing crashes.
 */
import { Effect } from "effect"
import { Annotations, Finalizers } from "../../schemas/index.ts"
import type { StoredObject } from "../../src/store/objects.ts"
import type { Controller } from "../engine/controller.ts"
import { Done, RequeueAfter } from "../engine/result.ts"
import { Placement } from "../placement/Placement.ts"
import { condition, present, PROVIDER_NOT_CONFIGURED_MESSAGE, unlessServing } from "./conditions.ts"
import { isAppProviderFailure, reportFailure } from "./failure.ts"
import { appHostName } from "./names.ts"
import { claimHost, hostTakenMessage } from "./host-claims.ts"
import { resolveResources } from "./resources.ts"
import { AppRuntime } from "./runtime.ts"
import { resolveAppControllerSettings, type AppControllerSettings } from "./settings.ts"
import { updateAppStatus } from "./status.ts"

type App = StoredObject<"App">

/** Place → wire resources → hand over to the runtime; each wait is said in Deployed (and Ready, unless it serves). */
export const reconcileApp = (settings: AppControllerSettings, object: App) =>
  Effect.gen(function*() {
    const runtime = yield* AppRuntime
    const refused = runtime.refuse(object)
    if (refused) {
      yield* updateAppStatus(object, (status) => status, [
        condition("Synced", "False", refused.reason, refused.message),
        unlessServing(object, refused.reason, refused.message)
      ].filter(present))
      return Done
    }
    const placement = yield* Placement
    const decision = yield* placement.place(object)
    if (decision._tag === "Unplaced") {
      yield* updateAppStatus(object, (status) => status, [
        condition("Deployed", "False", decision.reason, decision.message),
        unlessServing(object, decision.reason, decision.message)
      ].filter(present))
      return RequeueAfter(settings.waitRetryMs)
    }
    const hostName = appHostName(object, decision.dnsSuffix)
    if (!(yield* claimHost(hostName, object.metadata.uid))) {
      const message = hostTakenMessage(hostName, object.spec.domain !== undefined)
      yield* updateAppStatus(object, (status) => status, [
        condition("Synced", "False", "HostTaken", message),
        unlessServing(object, "HostTaken", message)
      ].filter(present))
      // Checked again now and then: the name frees up when the other app is deleted.
      return RequeueAfter(settings.waitRetryMs)
    }
    const url = runtime.urlFor(hostName)
    const wiring = yield* resolveResources(object)
    if (wiring._tag === "Waiting") {
      yield* updateAppStatus(object, (status) => ({ ...status, url, host: decision.host }), [
        condition("Deployed", "False", "WaitingForResources", wiring.message),
        unlessServing(object, "WaitingForResources", wiring.message)
      ].filter(present))
      return RequeueAfter(settings.waitRetryMs)
    }
    return yield* runtime.reconcile(object, {
      placement: decision,
      hostName,
      url,
      // The spec's own env wins over injected connection settings: explicit beats implicit.
      env: { ...wiring.env, ...object.spec.env },
      resourceCredentials: wiring.versions
    })
  })

export const makeAppController = (overrides: Partial<AppControllerSettings> = {}) => {
  const settings = resolveAppControllerSettings(overrides)
  return {
    kind: "App",
    finalizer: Finalizers.provider,
    reconcile: (object: App) => reconcileApp(settings, object).pipe(Effect.catchIf(isAppProviderFailure, (error) => reportFailure(object, error, "reconcile"))),
    finalize: (object: App) =>
      AppRuntime.use((runtime) => runtime.finalize(object)).pipe(Effect.catchIf(isAppProviderFailure, (error) => reportFailure(object, error, "delete")))
  } satisfies Controller<"App", unknown, unknown>
}

const everCreated = (app: App) =>
  app.metadata.annotations[Annotations.externalName] !== undefined ||
  app.metadata.annotations[Annotations.createPending] !== undefined ||
  app.status.externalId !== undefined

/** APP_RUNTIME=coolify without COOLIFY_URL/COOLIFY_TOKEN: Apps get ProviderNotConfigured naming them, in every condition. */
export const providerNotConfiguredController = {
  kind: "App",
  finalizer: Finalizers.provider,
  reconcile: (object: App) =>
    updateAppStatus(object, (status) => status, [
      condition("Synced", "False", "ProviderNotConfigured", PROVIDER_NOT_CONFIGURED_MESSAGE),
      condition("Deployed", "False", "ProviderNotConfigured", PROVIDER_NOT_CONFIGURED_MESSAGE),
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

/** The controllers run without this server's HTTP router (e.g. a worker-only process), so a local app could not be reached. */
const LOCAL_RUNTIME_NOT_WIRED =
  "This process runs controllers without the HTTP server that routes app traffic, so the local runtime cannot serve apps from it; run the server (npm start), which runs both, or set APP_RUNTIME=coolify."

/** The local runtime without the HTTP server's route table: the same stand-in, with the sentence that is true. */
export const localRuntimeNotWiredController = {
  ...providerNotConfiguredController,
  reconcile: (object: App) =>
    updateAppStatus(object, (status) => status, [
      condition("Synced", "False", "ProviderNotConfigured", LOCAL_RUNTIME_NOT_WIRED),
      condition("Deployed", "False", "ProviderNotConfigured", LOCAL_RUNTIME_NOT_WIRED),
      condition("Ready", "False", "ProviderNotConfigured", LOCAL_RUNTIME_NOT_WIRED)
    ]).pipe(Effect.as(Done))
} satisfies Controller<"App", unknown, unknown>
