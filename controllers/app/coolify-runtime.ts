/**
 * The coolify app runtime: apps on a fleet of hosts through a Coolify instance. The reconcile and
 * finalize of reconcile.ts and finalize.ts behind the AppRuntime port, with the Coolify services
 * they need captured when the layer is built, so the controller's type names no provider.
 */
import { Effect, Layer } from "effect"
import { CoolifyApi } from "../../src/providers/coolify/index.ts"
import { finalizeApp } from "./finalize.ts"
import { appUrl } from "./names.ts"
import { CoolifyObservations } from "./observations.ts"
import { reconcileOnCoolify } from "./reconcile.ts"
import { AppRuntime } from "./runtime.ts"
import type { AppControllerSettings } from "./settings.ts"
import { RepoAccess } from "./source.ts"
import { CoolifyTarget } from "./target.ts"

export const coolifyRuntimeLayer = (settings: AppControllerSettings) =>
  Layer.effect(
    AppRuntime,
    Effect.gen(function*() {
      const services = yield* Effect.context<CoolifyApi | CoolifyObservations | CoolifyTarget | RepoAccess>()
      return AppRuntime.of({
        name: "coolify",
        urlFor: appUrl,
        refuse: () => undefined,
        reconcile: (app, target) => reconcileOnCoolify(settings, app, target).pipe(Effect.provideContext(services)),
        finalize: (app) => finalizeApp(settings, app).pipe(Effect.provideContext(services))
      })
    })
  )
