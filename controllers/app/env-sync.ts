/**
 * Make a Coolify application's env vars exactly the desired set. Coolify's bulk PATCH upserts but
 * never deletes, so keys that left the spec are deleted one by one. Values go in literally
 * (`is_literal`): Coolify must not interpolate `$OTHER` inside a secret.
 */
import { Effect } from "effect"
import { CoolifyApi } from "../../src/providers/coolify/index.ts"
import type { CoolifyError, EnvVarInput } from "../../src/providers/coolify/index.ts"

export interface EnvSyncResult {
  /** Keys created or changed. */
  readonly upserted: ReadonlyArray<string>
  readonly deleted: ReadonlyArray<string>
}

const asInput = (key: string, value: string): EnvVarInput => ({
  key,
  value,
  is_preview: false,
  is_literal: true,
  ...(value.includes("\n") ? { is_multiline: true } : {})
})

/**
 * `fresh`: the app was created in this reconcile and has no env vars yet, so listing them is a
 * wasted call (one of the few that make up a new app's budget).
 */
export const syncEnv = (
  appUuid: string,
  desired: Readonly<Record<string, string>>,
  options: { readonly fresh: boolean }
): Effect.Effect<EnvSyncResult, CoolifyError, CoolifyApi> =>
  Effect.gen(function*() {
    const api = yield* CoolifyApi
    const keys = Object.keys(desired).sort()
    if (options.fresh) {
      if (keys.length > 0) yield* api.upsertEnvsBulk(appUuid, keys.map((key) => asInput(key, desired[key] ?? "")))
      return { upserted: keys, deleted: [] }
    }
    const observed = yield* api.listEnvs(appUuid)
    const production = new Map(observed.filter((env) => env.is_preview !== true).map((env) => [env.key, env]))
    // A redacted value (token without read:sensitive) reads as null: rewrite it rather than guess.
    const upserted = keys.filter((key) => {
      const current = production.get(key)
      return current === undefined || current.value !== desired[key] || current.is_literal === false
    })
    // Preview copies of a removed key go too: "removed from the spec" means gone.
    const stale = observed.filter((env) => !Object.hasOwn(desired, env.key))
    if (upserted.length > 0) yield* api.upsertEnvsBulk(appUuid, upserted.map((key) => asInput(key, desired[key] ?? "")))
    yield* Effect.forEach(stale, (env) => api.deleteEnv(appUuid, env.uuid).pipe(Effect.catchTag("CoolifyNotFound", () => Effect.void)), {
      discard: true
    })
    return { upserted, deleted: [...new Set(stale.map((env) => env.key))].sort() }
  })
