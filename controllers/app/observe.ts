/**
 * Observe one App's Coolify application (crossplane's Observe): by its recorded uuid in the shared
 * snapshot, or — when a create was pending and its answer lost — by its deterministic name, so it
 * is adopted rather than created twice. A get is spent only when the snapshot cannot tell.
 */
import { Effect } from "effect"
import { Annotations } from "../../schemas/index.ts"
import { CoolifyApi } from "../../src/providers/coolify/index.ts"
import type { CoolifyApplication } from "../../src/providers/coolify/index.ts"
import type { StoredObject } from "../../src/store/objects.ts"
import { coolifyAppNameOf } from "./names.ts"
import { CoolifyObservations } from "./observations.ts"

type App = StoredObject<"App">

export type AppObservation =
  /** The recorded application exists; `app` is undefined when only a snapshot from before its create is at hand. */
  | { readonly _tag: "Exists"; readonly uuid: string; readonly app: CoolifyApplication | undefined }
  /** A pending create did reach Coolify: adopt `app`; `duplicates` are leaks of earlier attempts. */
  | { readonly _tag: "Adoptable"; readonly app: CoolifyApplication; readonly duplicates: ReadonlyArray<CoolifyApplication> }
  /** The recorded application is gone (deleted outside this system). */
  | { readonly _tag: "Gone"; readonly uuid: string }
  /** Nothing was ever created (or a pending create left nothing). */
  | { readonly _tag: "Absent" }
  /** The shared snapshot is not recent enough yet: look again after this long. */
  | { readonly _tag: "Wait"; readonly retryAfterMs: number }

/** The Coolify uuid: the annotation is written first (right after create), status follows. */
export const externalIdOf = (app: App): string | undefined => app.metadata.annotations[Annotations.externalName] ?? app.status.externalId

/** When a create was marked pending (epoch ms), if one is. */
export const createPendingSince = (app: App): number | undefined => {
  const value = app.metadata.annotations[Annotations.createPending]
  if (value === undefined) return undefined
  const at = Date.parse(value)
  return Number.isNaN(at) ? 0 : at
}

/**
 * `createSettleMs`: a create whose answer was lost may still be running in Coolify; only a list
 * sent this long after the pending mark is trusted to show it (the client's request timeout).
 */
export const observeApp = (app: App, options: { readonly createSettleMs: number }) =>
  Effect.gen(function*() {
    const observations = yield* CoolifyObservations
    const uuid = externalIdOf(app)
    if (uuid !== undefined) {
      const seen = yield* observations.applications()
      if (seen._tag === "Stale") return { _tag: "Wait", retryAfterMs: seen.retryAfterMs } as AppObservation
      const listed = seen.snapshot.byUuid.get(uuid)
      if (listed) return { _tag: "Exists", uuid, app: listed } as AppObservation
      if (observations.predates(seen.snapshot, uuid)) return { _tag: "Exists", uuid, app: undefined } as AppObservation
      // Not listed: deleted outside this system, or untagged. One get tells which.
      const api = yield* CoolifyApi
      return yield* api.getApplication(uuid).pipe(
        Effect.map((found): AppObservation => ({ _tag: "Exists", uuid, app: found })),
        Effect.catchTag("CoolifyNotFound", () => Effect.succeed<AppObservation>({ _tag: "Gone", uuid }))
      )
    }
    const pendingSince = createPendingSince(app)
    if (pendingSince === undefined) return { _tag: "Absent" } as AppObservation
    const seen = yield* observations.applications(pendingSince + options.createSettleMs)
    if (seen._tag === "Stale") return { _tag: "Wait", retryAfterMs: seen.retryAfterMs } as AppObservation
    const [first, ...duplicates] = seen.snapshot.byName.get(coolifyAppNameOf(app)) ?? []
    return first ? ({ _tag: "Adoptable", app: first, duplicates } as AppObservation) : ({ _tag: "Absent" } as AppObservation)
  })
