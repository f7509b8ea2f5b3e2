/**
 * Batch observation of Coolify (DESIGN.md §4 Observe): one list call answers for every app, and
 * one list of running deployments answers every poll. Coolify allows ~200 calls a minute per
 * token; a get per app per resync would not scale past a few hundred apps.
 *
 * Each list is a per-process snapshot shared by concurrent reconciles: refreshed when older than
 * `maxAgeMs`, or when a reconcile needs one taken after some moment (`notBefore`: e.g. after its
 * deployment started), but never more often than every `minIntervalMs`. A reconcile that needs
 * fresher data than that allows is told how long to wait (it requeues; nobody sleeps), and
 * concurrent refreshes collapse into one call.
 */
import { Clock, Context, Deferred, Effect, Exit, Layer, Semaphore } from "effect"
import { CoolifyApi } from "../../src/providers/coolify/index.ts"
import type { CoolifyApplication, CoolifyDeployment, CoolifyError } from "../../src/providers/coolify/index.ts"
import { COOLIFY_TAG } from "./names.ts"

export interface AppsSnapshot {
  /** When the list call was sent (epoch ms): the snapshot shows at least everything done before. */
  readonly fetchedAt: number
  readonly byUuid: ReadonlyMap<string, CoolifyApplication>
  /** Oldest first; more than one means an earlier create leaked a duplicate. */
  readonly byName: ReadonlyMap<string, ReadonlyArray<CoolifyApplication>>
}

export interface RunningDeploymentsSnapshot {
  readonly fetchedAt: number
  /** Deployments still queued or in progress, team-wide. */
  readonly byUuid: ReadonlyMap<string, CoolifyDeployment>
}

export type Observation<S> = { readonly _tag: "Fresh"; readonly snapshot: S } | { readonly _tag: "Stale"; readonly retryAfterMs: number }

export interface ObservationOptions {
  readonly maxAgeMs: number
  readonly minIntervalMs: number
}

export class CoolifyObservations extends Context.Service<CoolifyObservations, {
  /** Every app this system manages (Coolify tag "deploy-mcp"), as of a list call sent at or after `notBefore`. */
  applications(notBefore?: number): Effect.Effect<Observation<AppsSnapshot>, CoolifyError>
  /** Every queued or in-progress deployment, as of a list call sent at or after `notBefore`. */
  runningDeployments(notBefore?: number): Effect.Effect<Observation<RunningDeploymentsSnapshot>, CoolifyError>
  /** Remember that this process created `uuid` now: a snapshot taken before cannot show it. */
  noteCreated(uuid: string): Effect.Effect<void>
  /** Whether `snapshot` is too old to say anything about `uuid` (created by this process after it). */
  predates(snapshot: { readonly fetchedAt: number }, uuid: string): boolean
}>()("deploy-mcp/controllers/app/CoolifyObservations") {
  static readonly layer = (options: ObservationOptions): Layer.Layer<CoolifyObservations, never, CoolifyApi> =>
    Layer.effect(CoolifyObservations, makeObservations(options))
}

interface Stamped {
  readonly fetchedAt: number
}

/**
 * A value fetched at most every `minIntervalMs`, shared by everyone who asks meanwhile. `build`
 * turns an answer into the snapshot once per refresh (indexing 1,000 apps once, not per reader).
 */
export const makeSharedSnapshot = <A, S extends Stamped, E>(fetch: Effect.Effect<A, E>, build: (fetchedAt: number, value: A) => S, options: ObservationOptions) =>
  Effect.gen(function*() {
    const lock = yield* Semaphore.make(1)
    let current: S | undefined
    let inflight: { readonly startedAt: number; readonly done: Deferred.Deferred<S, E> } | undefined
    let lastStart = Number.NEGATIVE_INFINITY

    type Step =
      | { readonly _tag: "Have"; readonly value: S }
      | { readonly _tag: "Join"; readonly done: Deferred.Deferred<S, E> }
      | { readonly _tag: "Lead"; readonly startedAt: number; readonly done: Deferred.Deferred<S, E> }
      | { readonly _tag: "Wait"; readonly retryAfterMs: number }

    const decide = (notBefore: number | undefined): Effect.Effect<Step> =>
      lock.withPermits(1)(
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          const recentEnough = (at: number) => notBefore === undefined || at >= notBefore
          if (current && recentEnough(current.fetchedAt) && now - current.fetchedAt <= options.maxAgeMs) return { _tag: "Have", value: current } as const
          if (inflight && recentEnough(inflight.startedAt)) return { _tag: "Join", done: inflight.done } as const
          // Asked for a list not yet possible to take: a call now would not satisfy it either.
          if (notBefore !== undefined && notBefore > now) return { _tag: "Wait", retryAfterMs: notBefore - now } as const
          const since = now - lastStart
          if (since < options.minIntervalMs) return { _tag: "Wait", retryAfterMs: Math.max(1, options.minIntervalMs - since) } as const
          const done = yield* Deferred.make<S, E>()
          lastStart = now
          inflight = { startedAt: now, done }
          return { _tag: "Lead", startedAt: now, done } as const
        })
      )

    const refresh = (startedAt: number, done: Deferred.Deferred<S, E>) =>
      fetch.pipe(
        Effect.map((value) => build(startedAt, value)),
        Effect.onExit((exit) =>
          lock.withPermits(1)(
            Effect.sync(() => {
              if (Exit.isSuccess(exit) && (!current || current.fetchedAt <= startedAt)) current = exit.value
              if (inflight?.done === done) inflight = undefined
            })
          ).pipe(Effect.andThen(Deferred.done(done, exit)))
        )
      )

    return (notBefore?: number): Effect.Effect<Observation<S>, E> =>
      Effect.gen(function*() {
        const step = yield* decide(notBefore)
        switch (step._tag) {
          case "Have":
            return { _tag: "Fresh", snapshot: step.value } as const
          case "Join":
            return { _tag: "Fresh", snapshot: yield* Deferred.await(step.done) } as const
          case "Lead":
            return { _tag: "Fresh", snapshot: yield* refresh(step.startedAt, step.done) } as const
          case "Wait":
            return { _tag: "Stale", retryAfterMs: step.retryAfterMs } as const
        }
      })
  })

const indexApplications = (fetchedAt: number, apps: ReadonlyArray<CoolifyApplication>): AppsSnapshot => {
  const byUuid = new Map<string, CoolifyApplication>()
  const byName = new Map<string, Array<CoolifyApplication>>()
  const oldestFirst = [...apps].sort((a, b) => (a.created_at ?? "").localeCompare(b.created_at ?? ""))
  for (const app of oldestFirst) {
    byUuid.set(app.uuid, app)
    const named = byName.get(app.name)
    if (named) named.push(app)
    else byName.set(app.name, [app])
  }
  return { fetchedAt, byUuid, byName }
}

const makeObservations = (options: ObservationOptions) =>
  Effect.gen(function*() {
    const api = yield* CoolifyApi
    const applications = yield* makeSharedSnapshot(api.listApplications({ tag: COOLIFY_TAG }), indexApplications, options)
    const runningDeployments = yield* makeSharedSnapshot(
      api.listRunningDeployments(),
      (fetchedAt, deployments): RunningDeploymentsSnapshot => ({ fetchedAt, byUuid: new Map(deployments.map((d) => [d.deployment_uuid, d])) }),
      options
    )
    const created = new Map<string, number>()

    const noteCreated = (uuid: string) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        // Only the last few minutes matter: after that every snapshot is newer.
        for (const [known, at] of created) if (now - at > 10 * options.maxAgeMs) created.delete(known)
        created.set(uuid, now)
      })

    const predates = (snapshot: { readonly fetchedAt: number }, uuid: string) => {
      const at = created.get(uuid)
      return at !== undefined && snapshot.fetchedAt < at
    }

    return CoolifyObservations.of({ applications, runningDeployments, noteCreated, predates })
  })
