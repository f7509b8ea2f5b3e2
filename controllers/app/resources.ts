/**
 * Resource wiring: an App's `resourceRefs` name Resources (databases) whose connection settings
 * become env vars. The App controller only reads what the Resource controller publishes — the
 * Resource object (Ready condition) and its sealed credentials (CredentialStore) — so the two
 * controllers coordinate through stored state alone.
 *
 * Names are stable, so adding or removing a resource never renames what an app already reads:
 * every resource gets `<NAME>_DATABASE_URL` (+ `<NAME>_DATABASE_AUTH_TOKEN` when the database has a
 * token; NAME is the resource name in upper snake case, `main-db` → MAIN_DB_DATABASE_URL), and the
 * first resource in `spec.resourceRefs` also gets the unprefixed DATABASE_URL (+ DATABASE_AUTH_TOKEN).
 * Tools keep that order: adding a resource appends it, and removing the first one moves the
 * unprefixed names to the next one, which update_app says in its answer (never silently).
 */
import { Effect, Option } from "effect"
import type { DatabaseError } from "../../src/db/database.ts"
import { CredentialStore } from "../../src/store/credentials.ts"
import { ObjectStore, type StoredObject } from "../../src/store/objects.ts"
import { findCondition } from "../engine/conditions.ts"

type App = StoredObject<"App">

export type ResourceWiring =
  | {
      readonly _tag: "Ready"
      readonly env: Readonly<Record<string, string>>
      /** Resource name → credentials version injected: recorded on the deployment so a rotation redeploys. */
      readonly versions: Readonly<Record<string, number>>
    }
  | { readonly _tag: "Waiting"; readonly message: string }

export const envPrefix = (resourceName: string): string => `${resourceName.toUpperCase().replace(/[^A-Z0-9]+/g, "_")}_`

export interface ConnectedResource {
  readonly name: string
  readonly url: string
  readonly authToken?: string | undefined
}

/** The variables injected for `resources`, given in `spec.resourceRefs` order (the first is primary). */
export const resourceEnv = (resources: ReadonlyArray<ConnectedResource>): Record<string, string> => {
  const env: Record<string, string> = {}
  resources.forEach((resource, index) => {
    for (const prefix of index === 0 ? ["", envPrefix(resource.name)] : [envPrefix(resource.name)]) {
      env[`${prefix}DATABASE_URL`] = resource.url
      if (resource.authToken !== undefined) env[`${prefix}DATABASE_AUTH_TOKEN`] = resource.authToken
    }
  })
  return env
}

export const resolveResources = (app: App): Effect.Effect<ResourceWiring, DatabaseError, ObjectStore | CredentialStore> =>
  Effect.gen(function*() {
    const refs = [...new Set(app.spec.resourceRefs)]
    if (refs.length === 0) return { _tag: "Ready", env: {}, versions: {} } as const
    const store = yield* ObjectStore
    const credentials = yield* CredentialStore
    const connected: Array<ConnectedResource> = []
    const versions: Record<string, number> = {}
    const waiting: Array<string> = []
    for (const name of refs) {
      const found = yield* store.find(app.metadata.owner, { kind: "Resource", project: app.metadata.project, name })
      if (Option.isNone(found)) {
        waiting.push(`Resource "${name}" does not exist in project "${app.metadata.project}" (create it with create_resource, or leave it out of the app's resources with update_app)`)
        continue
      }
      const resource = found.value
      if (resource.metadata.deletionTimestamp) {
        waiting.push(`Resource "${name}" is being deleted`)
        continue
      }
      const ready = findCondition(resource.status.conditions, "Ready")
      if (ready?.status !== "True") {
        waiting.push(ready ? `Resource "${name}" is not ready (${ready.reason}: ${ready.message})` : `Resource "${name}" is not ready yet`)
        continue
      }
      const stored = yield* credentials.get(app.metadata.owner, resource.metadata.uid)
      if (Option.isNone(stored)) {
        waiting.push(`Resource "${name}" has no connection settings yet`)
        continue
      }
      connected.push({ name, url: stored.value.url, authToken: stored.value.authToken })
      versions[name] = stored.value.version
    }
    if (waiting.length > 0) {
      return { _tag: "Waiting", message: `Waiting for resources before deploying: ${waiting.join("; ")}.` } as const
    }
    return { _tag: "Ready", env: resourceEnv(connected), versions } as const
  })
