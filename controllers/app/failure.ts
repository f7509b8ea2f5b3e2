/**
 * A failed provider call, told to the reader: Synced=False with what went wrong and what happens
 * next, then the engine's backoff (or a requeue after Coolify's Retry-After). Ready is left alone:
 * an app that serves keeps serving while we cannot talk to Coolify.
 */
import { Effect, Option } from "effect"
import type { CoolifyError } from "../../src/providers/coolify/index.ts"
import { AppLogger } from "../../src/log/service.ts"
import { ObjectStore, type StoredObject } from "../../src/store/objects.ts"
import { RequeueAfter } from "../engine/result.ts"
import { providerError } from "./conditions.ts"
import type { RepoAccessUnavailable } from "./source.ts"
import type { CoolifySetupMissing } from "./target.ts"
import { updateAppStatus } from "./status.ts"

type App = StoredObject<"App">

export type AppProviderFailure = CoolifyError | CoolifySetupMissing | RepoAccessUnavailable

const FAILURE_TAGS: ReadonlySet<string> = new Set([
  "CoolifyUnauthorized",
  "CoolifyNotFound",
  "CoolifyConflict",
  "CoolifyValidation",
  "CoolifyBadRequest",
  "CoolifyRateLimited",
  "CoolifyServerError",
  "CoolifyTimeout",
  "CoolifyTransport",
  "CoolifyUnexpectedResponse",
  "CoolifySetupMissing",
  "RepoAccessUnavailable"
])

export const isAppProviderFailure = <E>(error: E): error is Extract<E, AppProviderFailure> =>
  typeof error === "object" && error !== null && "_tag" in error && typeof error._tag === "string" && FAILURE_TAGS.has(error._tag)

const DEFAULT_RATE_LIMIT_WAIT_MS = 30_000

const nextStep = (error: AppProviderFailure): { readonly next: string; readonly retryAfterMs?: number } => {
  switch (error._tag) {
    case "CoolifyRateLimited": {
      const waitMs = error.retryAfterMs ?? DEFAULT_RATE_LIMIT_WAIT_MS
      return { next: `Trying again in ${Math.ceil(waitMs / 1000)} s.`, retryAfterMs: waitMs }
    }
    case "CoolifyUnauthorized":
      return { next: "Retrying with backoff until the operator fixes COOLIFY_TOKEN." }
    case "CoolifySetupMissing":
      return { next: "Retrying with backoff until the operator sets Coolify up." }
    default:
      return { next: "This is usually temporary; retrying with backoff." }
  }
}

export const reportFailure = (object: App, error: AppProviderFailure, during: "reconcile" | "delete") =>
  Effect.gen(function*() {
    const { next, retryAfterMs } = nextStep(error)
    const message = during === "delete" ? `Could not delete the app in Coolify: ${error.message}` : error.message
    const logger = yield* AppLogger
    logger.warn({ kind: "App", name: object.metadata.name, owner: object.metadata.owner, error: error._tag }, message)
    // Our own writes in this reconcile moved resourceVersion on: report on the stored object.
    const fresh = yield* ObjectStore.use((store) => store.getByUid(object.metadata.owner, object.metadata.uid))
    if (Option.isSome(fresh)) {
      yield* updateAppStatus(fresh.value as App, (status) => status, [providerError(message, next)]).pipe(
        Effect.catchTag("Conflict", () => Effect.void)
      )
    }
    if (retryAfterMs !== undefined) return RequeueAfter(retryAfterMs)
    return yield* Effect.fail(error)
  })
