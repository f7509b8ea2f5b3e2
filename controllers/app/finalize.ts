/**
 * Delete under the `deploy.mcp/provider` finalizer (DESIGN.md §4 Delete): cancel a deployment
 * still running, delete the Coolify application with its volumes, and report Done only once
 * Coolify no longer has it (its delete is a queued job; the app stays listed for a while).
 */
import { Clock, Effect } from "effect"
import { CoolifyApi } from "../../src/providers/coolify/index.ts"
import type { StoredObject } from "../../src/store/objects.ts"
import { findCondition } from "../engine/conditions.ts"
import { Done, RequeueAfter } from "../engine/result.ts"
import { condition } from "./conditions.ts"
import { isInFlight } from "./deploy.ts"
import { createPendingSince, externalIdOf, observeApp } from "./observe.ts"
import type { AppControllerSettings } from "./settings.ts"
import { updateAppStatus } from "./status.ts"

type App = StoredObject<"App">

export const finalizeApp = (settings: AppControllerSettings, object: App) =>
  Effect.gen(function*() {
    const api = yield* CoolifyApi
    const uuids: Array<string> = []
    const recorded = externalIdOf(object)
    if (recorded !== undefined) uuids.push(recorded)
    else if (createPendingSince(object) !== undefined) {
      // A create whose answer was lost: whatever it made under our name goes too.
      const observed = yield* observeApp(object, { createSettleMs: settings.createSettleMs })
      if (observed._tag === "Wait") return RequeueAfter(observed.retryAfterMs)
      if (observed._tag === "Adoptable") uuids.push(observed.app.uuid, ...observed.duplicates.map((app) => app.uuid))
    }
    // Never created: nothing to delete at the provider.
    if (uuids.length === 0) return Done

    const latest = object.status.latestDeployment
    const deleting = findCondition(object.status.conditions, "Synced")?.reason === "Deleting"
    if (!deleting) {
      if (latest && isInFlight(latest)) {
        yield* api.cancelDeployment(latest.id).pipe(Effect.catchTags({ CoolifyBadRequest: () => Effect.void, CoolifyNotFound: () => Effect.void }))
      }
      const remaining = yield* Effect.filter(uuids, (uuid) =>
        api.deleteApplication(uuid, { deleteVolumes: true }).pipe(
          Effect.as(true),
          Effect.catchTag("CoolifyNotFound", () => Effect.succeed(false))
        )
      )
      if (remaining.length === 0) return Done
      const now = new Date(yield* Clock.currentTimeMillis).toISOString()
      yield* updateAppStatus(
        object,
        (status) => (latest && isInFlight(latest) ? { ...status, latestDeployment: { ...latest, state: "cancelled", finishedAt: now } } : status),
        [
          condition("Synced", "False", "Deleting", `Deleting Coolify application ${remaining.join(", ")} and its volumes; waiting for Coolify to confirm it is gone.`),
          condition("Ready", "False", "Deleting", "The app is being deleted.")
        ]
      )
      return RequeueAfter(settings.deletePollMs)
    }
    const present = yield* Effect.filter(uuids, (uuid) =>
      api.getApplication(uuid).pipe(
        Effect.as(true),
        Effect.catchTag("CoolifyNotFound", () => Effect.succeed(false))
      )
    )
    return present.length === 0 ? Done : RequeueAfter(settings.deletePollMs)
  })
