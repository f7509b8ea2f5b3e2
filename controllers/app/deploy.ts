/**
 * Deploy exactly once per desired (revision, redeployNonce, config) — DESIGN.md §4 "Deploy per
 * revision". The started deployment is recorded in status.latestDeployment before anyone polls
 * it; a `deploy.mcp/deploy-pending` mark written before Coolify is asked covers the gap between
 * "Coolify queued it" and "we stored its id": after a crash the next reconcile finds the
 * deployment in the app's list and adopts it instead of building the same revision twice.
 */
import { Clock, Effect, Option, Schema } from "effect"
import type { DeploymentRecord, DeploymentState } from "../../schemas/index.ts"
import { CoolifyApi } from "../../src/providers/coolify/index.ts"
import type { CoolifyDeployment, CoolifyRateLimited } from "../../src/providers/coolify/index.ts"
import { ObjectStore, type StoredObject } from "../../src/store/objects.ts"

type App = StoredObject<"App">

export const DEPLOY_PENDING_ANNOTATION = "deploy.mcp/deploy-pending"

/** What a deployment is for: a new one is due when any of it differs from the latest started one. */
export interface DeployKey {
  readonly revision: string | null
  readonly redeployNonce: number
  readonly configHash: string
  readonly resourceCredentials: Readonly<Record<string, number>>
}

const PendingMark = Schema.fromJsonString(
  Schema.Struct({
    /** The latest deployment id when the mark was written ("" for none): the mark is open while that is still the latest. */
    after: Schema.String,
    at: Schema.Number,
    revision: Schema.NullOr(Schema.String),
    redeployNonce: Schema.Int,
    configHash: Schema.String,
    resourceCredentials: Schema.Record(Schema.String, Schema.Int)
  })
)
type PendingMark = typeof PendingMark.Type

const encodeMark = Schema.encodeSync(PendingMark)
const decodeMark = Schema.decodeUnknownOption(PendingMark)

/** Coolify's deployment states → ours; anything unknown is treated as still running while listed as running. */
export const deploymentState = (status: string): DeploymentState | undefined => {
  switch (status) {
    case "queued":
    case "in_progress":
    case "finished":
    case "failed":
      return status
    default:
      return status.startsWith("cancel") ? "cancelled" : undefined
  }
}

export const isInFlight = (record: DeploymentRecord | undefined): boolean => record?.state === "queued" || record?.state === "in_progress"

const sameVersions = (a: Readonly<Record<string, number>> | undefined, b: Readonly<Record<string, number>>) => {
  const left = a ?? {}
  const keys = new Set([...Object.keys(left), ...Object.keys(b)])
  return [...keys].every((key) => left[key] === b[key])
}

/**
 * A deployment is due when none was started for what the spec asks now, or the latest was
 * cancelled (by us after it stuck in the queue, or by hand: the desired state still wants it).
 * A failed one is not retried until something changes (no build loop).
 */
export const deploymentDue = (latest: DeploymentRecord | undefined, want: DeployKey): boolean =>
  latest === undefined ||
  latest.state === "cancelled" ||
  latest.revision !== want.revision ||
  latest.redeployNonce !== want.redeployNonce ||
  latest.configHash !== want.configHash ||
  !sameVersions(latest.resourceCredentials, want.resourceCredentials)

export const deploymentRecord = (id: string, key: DeployKey, startedAt: number, state: DeploymentState = "queued"): DeploymentRecord => ({
  id,
  revision: key.revision,
  redeployNonce: key.redeployNonce,
  state,
  startedAt: new Date(startedAt).toISOString(),
  configHash: key.configHash,
  resourceCredentials: { ...key.resourceCredentials }
})

/**
 * The state to record for a deployment found in a list: queued or in progress, even when it has
 * already ended, so the poll fetches it once and records how it ended (revision, logs) as usual.
 */
const followState = (deployment: CoolifyDeployment): DeploymentState => (deployment.status === "queued" ? "queued" : "in_progress")

/** Coolify and this process may disagree on the time; a deployment this much older than the mark still counts. */
const CLOCK_SKEW_MS = 5 * 60_000

/** The newest deployment of the app started after `latest` (our last recorded one), if any. */
export const findDeploymentAfter = (appUuid: string, latest: DeploymentRecord | undefined, notBefore: number) =>
  Effect.gen(function*() {
    const api = yield* CoolifyApi
    const { deployments } = yield* api.listDeployments(appUuid, { take: 10 })
    const newer: Array<CoolifyDeployment> = []
    for (const deployment of deployments) {
      if (deployment.deployment_uuid === latest?.id) break
      newer.push(deployment)
    }
    const candidates = latest
      ? newer
      : newer.filter((deployment) => !deployment.created_at || Date.parse(deployment.created_at) >= notBefore - CLOCK_SKEW_MS)
    return Option.fromNullishOr(candidates[0])
  })

/** An open deploy-pending mark: a deploy was asked for after the latest recorded one, answer unknown. */
export const openPendingMark = (app: App): Option.Option<PendingMark> => {
  const raw = app.metadata.annotations[DEPLOY_PENDING_ANNOTATION]
  if (raw === undefined) return Option.none()
  return Option.filter(decodeMark(raw), (mark) => mark.after === (app.status.latestDeployment?.id ?? ""))
}

/** After a crash: the deployment an open mark asked for, if Coolify has it, as the record to store. */
export const recoverPendingDeployment = (app: App, appUuid: string) =>
  Effect.gen(function*() {
    const mark = openPendingMark(app)
    if (Option.isNone(mark)) return Option.none<DeploymentRecord>()
    const found = yield* findDeploymentAfter(appUuid, app.status.latestDeployment, mark.value.at)
    return Option.map(found, (deployment) => deploymentRecord(deployment.deployment_uuid, mark.value, mark.value.at, followState(deployment)))
  })

export type StartOutcome =
  | { readonly _tag: "Started"; readonly object: App; readonly record: DeploymentRecord }
  /** Coolify's deployment queue is full (429): nothing was queued; ask again after `retryAfterMs`. */
  | { readonly _tag: "QueueFull"; readonly object: App; readonly error: CoolifyRateLimited }
  /** Coolify answered without a deployment we can find: the mark stays open, the next reconcile looks again. */
  | { readonly _tag: "NotVisible"; readonly object: App }

/** Mark pending, ask Coolify to deploy, find the deployment it queued (or the one it skipped to). */
export const startDeployment = (app: App, appUuid: string, key: DeployKey) =>
  Effect.gen(function*() {
    const api = yield* CoolifyApi
    const store = yield* ObjectStore
    const latest = app.status.latestDeployment
    const at = yield* Clock.currentTimeMillis
    const marked = (yield* store.updateMetadata(app.metadata.owner, app.metadata.uid, app.metadata.resourceVersion, {
      annotations: { [DEPLOY_PENDING_ANNOTATION]: encodeMark({ after: latest?.id ?? "", at, ...key, resourceCredentials: { ...key.resourceCredentials } }) }
    })) as App
    const answer = yield* api.deploy({ uuid: appUuid }).pipe(
      Effect.map((results) => ({ _tag: "Queued", results }) as const),
      Effect.catchTag("CoolifyRateLimited", (error) => Effect.succeed({ _tag: "Refused", error } as const))
    )
    if (answer._tag === "Refused") {
      // A 429 means Coolify did nothing: close the mark so the next attempt need not look.
      const cleared = (yield* store.updateMetadata(app.metadata.owner, app.metadata.uid, marked.metadata.resourceVersion, {
        annotations: { [DEPLOY_PENDING_ANNOTATION]: null }
      })) as App
      return { _tag: "QueueFull", object: cleared, error: answer.error } as StartOutcome
    }
    const startedAt = yield* Clock.currentTimeMillis
    const returned = answer.results.find((result) => result.resourceUuid === appUuid)?.deploymentUuid
    if (returned !== undefined) return { _tag: "Started", object: marked, record: deploymentRecord(returned, key, startedAt) } as StartOutcome
    const found = yield* findDeploymentAfter(appUuid, latest, at)
    return Option.match(found, {
      onNone: (): StartOutcome => ({ _tag: "NotVisible", object: marked }),
      onSome: (deployment): StartOutcome => ({
        _tag: "Started",
        object: marked,
        record: deploymentRecord(deployment.deployment_uuid, key, startedAt, followState(deployment))
      })
    })
  })

/**
 * Coolify skips a deploy of a commit already queued or building, yet hands out a uuid that never
 * resolves. When ours 404s, the deployment that made it a duplicate is the one to follow.
 */
export const followSkippedDeployment = (appUuid: string) =>
  Effect.gen(function*() {
    const api = yield* CoolifyApi
    const { deployments } = yield* api.listDeployments(appUuid, { take: 10 })
    return Option.fromNullishOr(deployments.find((deployment) => deployment.status === "queued" || deployment.status === "in_progress"))
  })
