/**
 * One reconcile of an App (DESIGN.md §4, crossplane's managed reconciler): place it, wire its
 * resources, observe its Coolify application, then create | update | deploy, and say what is
 * going on in Synced / Deployed / Ready. Safe to run any number of times and to stop at any line:
 * every provider action is preceded or followed by a record that the next run picks up.
 */
import { Clock, Effect, Option } from "effect"
import type { AppStatus, DeploymentRecord } from "../../schemas/index.ts"
import { CoolifyApi, deploymentLogLines } from "../../src/providers/coolify/index.ts"
import type { CoolifyApplication, CoolifyConflict, CoolifyValidation } from "../../src/providers/coolify/index.ts"
import type { StoredObject } from "../../src/store/objects.ts"
import { findCondition, type ConditionInput } from "../engine/conditions.ts"
import { Done, RequeueAfter, type ReconcileResult } from "../engine/result.ts"
import { condition, describeDeployment, describeRevision, logTail, present, unlessServing } from "./conditions.ts"
import { adoptApplication, chooseSource, createApplication, forgetExternalName } from "./create.ts"
import {
  deploymentDue,
  deploymentState,
  followSkippedDeployment,
  isInFlight,
  openPendingMark,
  recoverPendingDeployment,
  startDeployment,
  type DeployKey
} from "./deploy.ts"
import { configHash, desiredSettings, exposedPort, settingsPatch, sourceKindChanged } from "./desired.ts"
import { syncEnv } from "./env-sync.ts"
import { observeApp } from "./observe.ts"
import { CoolifyObservations } from "./observations.ts"
import type { RuntimeTarget } from "./runtime.ts"
import type { AppControllerSettings } from "./settings.ts"
import { updateAppStatus, withoutFields } from "./status.ts"

type App = StoredObject<"App">

const refusal = (error: CoolifyValidation | CoolifyConflict): string =>
  error._tag === "CoolifyConflict"
    ? `The domain ${error.conflicts.map((conflict) => conflict.domain).join(", ") || "asked for"} is already used by another app. Choose another app name (the name is part of its URL) or another domain; nothing is deployed until then.`
    : `Coolify refused the app's settings: ${error.message} Fix those settings with update_app; nothing is deployed until then.`

/** "running:healthy" → ["running", "healthy"]; Coolify sometimes reports "running" or "exited (1)" alone. */
const splitStatus = (status: string | null | undefined): readonly [string, string] => {
  const [state = "", health = ""] = (status ?? "").split(":")
  return [state.replace(/\s*\(.*\)$/, "").trim(), health.trim()]
}

/**
 * The Coolify runtime's reconcile of a placed app whose resources are ready (the controller did
 * both): observe its Coolify application, then create | adopt | update | deploy and report.
 */
export const reconcileOnCoolify = (settings: AppControllerSettings, object: App, target: RuntimeTarget) =>
  Effect.gen(function*() {
    const decision = target.placement
    const { hostName, url, env } = target
    const placed = (status: AppStatus): AppStatus => ({ ...status, url, host: decision.host })
    let current = object
    const desired = desiredSettings(current, { hostName, gvisor: decision.gvisor })
    const key: DeployKey = {
      revision: current.spec.revision,
      redeployNonce: current.spec.redeployNonce,
      configHash: configHash(current.metadata.uid, desired, env),
      resourceCredentials: target.resourceCredentials
    }

    // ---- observe
    let observed = yield* observeApp(current, { createSettleMs: settings.createSettleMs })
    if (observed._tag === "Wait") return RequeueAfter(observed.retryAfterMs)
    let recreated = false
    if (observed._tag === "Gone") {
      current = yield* updateAppStatus(current, (status) => withoutFields(status, "externalId", "latestDeployment", "deployedRevision"), [])
      current = yield* forgetExternalName(current)
      observed = { _tag: "Absent" }
      recreated = true
    }

    /** What this reconcile says about Synced; undefined keeps a True one as it is. */
    let synced: ConditionInput | undefined
    let uuid: string
    let app: CoolifyApplication | undefined
    let fresh = false

    const syncedNow = (target: App): ConditionInput => {
      if (synced) return synced
      const existing = findCondition(target.status.conditions, "Synced")
      return existing?.status === "True"
        ? condition("Synced", "True", existing.reason, existing.message)
        : condition("Synced", "True", "UpToDate", `Coolify application ${desired.name} matches the spec.`)
    }
    const write = (target: App, update: (status: AppStatus) => AppStatus, conditions: ReadonlyArray<ConditionInput | undefined>) =>
      updateAppStatus(target, (status) => ({ ...update(placed(status)), externalId: uuid }), [syncedNow(target), ...conditions.filter(present)])
    const reject = (target: App, error: CoolifyValidation | CoolifyConflict) =>
      updateAppStatus(target, placed, [
        condition("Synced", "False", "InvalidSpec", refusal(error)),
        unlessServing(target, "InvalidSpec", refusal(error))
      ].filter(present)).pipe(Effect.as(Done))

    /** Nothing to retry: only another runtime (or another spec) makes the code reachable. */
    const unsupported = (target: App, message: string) =>
      updateAppStatus(target, placed, [
        condition("Synced", "False", "RuntimeUnsupported", message),
        condition("Deployed", "False", "RuntimeUnsupported", message),
        unlessServing(target, "RuntimeUnsupported", message)
      ].filter(present)).pipe(Effect.as(Done))

    // ---- create | adopt
    if (observed._tag === "Absent") {
      const choice = yield* chooseSource(current)
      if (choice._tag === "RuntimeUnsupported") return yield* unsupported(current, choice.message)
      if (choice._tag === "WaitingForGitHubApp") {
        yield* updateAppStatus(current, placed, [
          condition("Deployed", "False", "WaitingForGitHubApp", choice.message),
          unlessServing(current, "WaitingForGitHubApp", choice.message)
        ].filter(present))
        return RequeueAfter(settings.waitRetryMs)
      }
      const outcome = yield* createApplication(current, desired, choice.source, decision)
      if (outcome._tag === "Rejected") return yield* reject(outcome.object, outcome.error)
      current = outcome.object
      uuid = outcome.uuid
      fresh = true
      synced = recreated
        ? condition("Synced", "True", "Created", `Coolify application ${desired.name} was missing (deleted outside Deploy MCP) and was created again as ${uuid}.`)
        : condition("Synced", "True", "Created", `Created Coolify application ${desired.name} (${uuid}).`)
    } else if (observed._tag === "Adoptable") {
      current = yield* adoptApplication(current, observed.app, observed.duplicates)
      uuid = observed.app.uuid
      app = observed.app
      const extra = observed.duplicates.length > 0 ? ` Deleted ${observed.duplicates.length} duplicate(s) left by earlier attempts.` : ""
      synced = condition("Synced", "True", "Adopted", `Adopted Coolify application ${desired.name} (${uuid}), created by an earlier attempt whose answer was lost.${extra}`)
    } else {
      uuid = observed.uuid
      app = observed.app
    }

    const api = yield* CoolifyApi
    /** Bring the observed settings to the spec; the refusal, if Coolify refuses. */
    const applySettings = (observedApp: CoolifyApplication) =>
      Effect.gen(function*() {
        if (sourceKindChanged(observedApp, desired)) {
          const message = `The app was created from ${observedApp.build_pack === "dockerimage" ? "an image" : "a repository"}; Coolify cannot switch it to ${desired.kind === "image" ? "an image" : "a repository"} in place. Delete the app and create it again.`
          yield* updateAppStatus(current, placed, [condition("Synced", "False", "InvalidSpec", message)])
          return Option.some(Done)
        }
        const patch = settingsPatch(observedApp, desired)
        const fields = Object.keys(patch)
        if (fields.length === 0) return Option.none<ReconcileResult>()
        const refused = yield* api.updateApplication(uuid, patch).pipe(
          Effect.as(undefined),
          Effect.catchTags({ CoolifyValidation: (error) => Effect.succeed(error), CoolifyConflict: (error) => Effect.succeed(error) })
        )
        if (refused) return Option.some(yield* reject(current, refused))
        synced = condition("Synced", "True", "Updated", `Updated ${fields.join(", ")} of Coolify application ${desired.name}.`)
        return Option.none<ReconcileResult>()
      })

    // ---- update
    if (app) {
      const stop = yield* applySettings(app)
      if (Option.isSome(stop)) return stop.value
    }

    // ---- deploy
    let latest = current.status.latestDeployment
    if (!isInFlight(latest) && Option.isSome(openPendingMark(current))) {
      const recovered = yield* recoverPendingDeployment(current, uuid)
      if (Option.isSome(recovered)) {
        current = yield* write(current, (status) => ({ ...status, latestDeployment: recovered.value }), [
          condition("Deployed", "False", "Queued", `Found ${describeDeployment(current, recovered.value)}, started before a restart; following it.`)
        ])
        latest = recovered.value
      }
    }

    const now = yield* Clock.currentTimeMillis
    /** Why a deployment is started again for the same spec (said in its Queued message, which replaces the reason). */
    let retry: string | undefined
    if (latest && isInFlight(latest)) {
      const polled = yield* pollDeployment({ settings, uuid, url, write }, current, latest)
      if (polled._tag === "Wait") return polled.result
      current = polled.object
      latest = current.status.latestDeployment
      retry = polled.retry
    }

    if (deploymentDue(latest, key)) {
      // Access can be lost after the create (the App uninstalled, the repo made private): ask again
      // before every new deployment, so a push after an uninstall waits instead of failing its build.
      if (!fresh && current.spec.image === undefined) {
        const choice = yield* chooseSource(current)
        if (choice._tag === "RuntimeUnsupported") return yield* unsupported(current, choice.message)
        if (choice._tag === "WaitingForGitHubApp") {
          yield* write(current, (status) => status, [
            condition("Deployed", "False", "WaitingForGitHubApp", choice.message),
            unlessServing(current, "WaitingForGitHubApp", choice.message)
          ])
          return RequeueAfter(settings.waitRetryMs)
        }
      }
      if (!fresh && !app) {
        // Only a snapshot from before this process created it: read it once before deploying over it.
        const stop = yield* applySettings(yield* api.getApplication(uuid))
        if (Option.isSome(stop)) return stop.value
      }
      const changed = yield* syncEnv(uuid, env, { fresh })
      if (!fresh && (changed.upserted.length > 0 || changed.deleted.length > 0)) {
        const parts = [
          changed.upserted.length > 0 ? `set env ${changed.upserted.join(", ")}` : "",
          changed.deleted.length > 0 ? `removed env ${changed.deleted.join(", ")}` : ""
        ].filter((part) => part !== "")
        synced = condition("Synced", "True", "Updated", `${synced?.reason === "Updated" ? `${synced.message.replace(/\.$/, "")}; ` : "Coolify application: "}${parts.join("; ")}.`)
      }
      const started = yield* startDeployment(current, uuid, key)
      if (started._tag === "QueueFull") {
        const waitMs = started.error.retryAfterMs ?? 30_000
        yield* write(started.object, (status) => status, [
          condition("Deployed", "False", "Queued", `Coolify's deployment queue is full; asking again in ${Math.ceil(waitMs / 1000)} s.`),
          unlessServing(started.object, "Queued", "waiting for room in Coolify's deployment queue.")
        ])
        return RequeueAfter(waitMs)
      }
      if (started._tag === "NotVisible") return RequeueAfter(settings.deployPollMs)
      const message = `${capitalize(describeDeployment(current, started.record))} is queued in Coolify.${retry ? ` (${retry})` : ""}`
      yield* write(started.object, (status) => ({ ...status, latestDeployment: started.record }), [
        condition("Deployed", "False", "Queued", message),
        unlessServing(started.object, "Queued", message)
      ])
      return RequeueAfter(settings.deployPollMs)
    }

    return yield* reportLatest({ settings, uuid, url, write }, current, latest, now)
  })

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1)

/** What the deploy steps share with the reconcile that runs them. */
interface Scene {
  readonly settings: AppControllerSettings
  readonly uuid: string
  readonly url: string
  /** Writes status (placement, externalId, Synced as this reconcile sees it) plus the given conditions. */
  readonly write: (target: App, update: (status: AppStatus) => AppStatus, conditions: ReadonlyArray<ConditionInput | undefined>) => ReturnType<typeof updateAppStatus>
}

type PollOutcome =
  | { readonly _tag: "Wait"; readonly result: ReconcileResult }
  /** `retry`: why the next deployment replaces this one, told in the next deployment's message. */
  | { readonly _tag: "Ended"; readonly object: App; readonly retry?: string }

/**
 * Follow the latest deployment: its state comes from the shared list of running deployments (one
 * call for every app); only once it left that list is it fetched, to learn how it ended.
 */
const pollDeployment = (scene: Scene, current: App, latest: DeploymentRecord) =>
  Effect.gen(function*() {
    const { settings, uuid, write } = scene
    const api = yield* CoolifyApi
    const observations = yield* CoolifyObservations
    const now = yield* Clock.currentTimeMillis
    const finishedAt = new Date(now).toISOString()
    const startedAt = Date.parse(latest.startedAt)
    const what = describeDeployment(current, latest)

    const seen = yield* observations.runningDeployments(startedAt)
    if (seen._tag === "Stale") return { _tag: "Wait", result: RequeueAfter(seen.retryAfterMs) } as PollOutcome
    const running = seen.snapshot.byUuid.get(latest.id)
    if (running) {
      const state = running.status === "queued" ? "queued" : "in_progress"
      if (state === "queued" && now - startedAt > settings.stuckQueuedMs) {
        yield* api.cancelDeployment(latest.id).pipe(Effect.catchTags({ CoolifyBadRequest: () => Effect.void, CoolifyNotFound: () => Effect.void }))
        const minutes = Math.round(settings.stuckQueuedMs / 6_000) / 10
        const retry = `${capitalize(what)} stayed queued for more than ${minutes} min, so Coolify's build queue looks stuck; cancelled it and queued a new one.`
        const object = yield* write(current, (status) => ({ ...status, latestDeployment: { ...latest, state: "cancelled", finishedAt } }), [
          condition("Deployed", "False", "Queued", retry)
        ])
        return { _tag: "Ended", object, retry } as PollOutcome
      }
      // Still queued as already reported: keep the message (it may say why it was queued again).
      const reported = findCondition(current.status.conditions, "Deployed")
      if (state === "queued" && latest.state === "queued" && reported?.reason === "Queued" && reported.message.includes(latest.id)) {
        return { _tag: "Wait", result: RequeueAfter(settings.deployPollMs) } as PollOutcome
      }
      const lastLine = deploymentLogLines(running.logs).filter((line) => line.trim() !== "").at(-1)
      const message =
        state === "queued"
          ? `${capitalize(what)} is queued in Coolify.`
          : `Building: ${what} is in progress${lastLine ? `; last log line: ${lastLine.slice(0, 200)}` : ""}.`
      const reason = state === "queued" ? "Queued" : "Building"
      yield* write(current, (status) => ({ ...status, latestDeployment: { ...latest, state } }), [
        condition("Deployed", "False", reason, message),
        unlessServing(current, reason, message)
      ])
      return { _tag: "Wait", result: RequeueAfter(settings.deployPollMs) } as PollOutcome
    }

    const fetched = yield* api.getDeployment(latest.id).pipe(
      Effect.map(Option.some),
      Effect.catchTag("CoolifyNotFound", () => Effect.succeed(Option.none()))
    )
    if (Option.isNone(fetched)) {
      // Coolify skipped it as a duplicate: follow the one it kept, or deploy again if none runs.
      const followed = yield* followSkippedDeployment(uuid)
      if (Option.isSome(followed)) {
        const record: DeploymentRecord = { ...latest, id: followed.value.deployment_uuid, state: followed.value.status === "queued" ? "queued" : "in_progress" }
        yield* write(current, (status) => ({ ...status, latestDeployment: record }), [
          condition("Deployed", "False", "Queued", `Coolify merged ${what} into ${record.id}, already queued for the same commit; following it.`)
        ])
        return { _tag: "Wait", result: RequeueAfter(settings.deployPollMs) } as PollOutcome
      }
      const retry = `Coolify skipped ${what} and runs none for this app; deploying again.`
      const object = yield* write(current, (status) => ({ ...status, latestDeployment: { ...latest, state: "cancelled", finishedAt } }), [
        condition("Deployed", "False", "Queued", retry)
      ])
      return { _tag: "Ended", object, retry } as PollOutcome
    }
    const deployment = fetched.value
    const state = deploymentState(deployment.status)
    if (state === "queued" || state === "in_progress") {
      // Started after the snapshot was taken: look again with the next one.
      yield* write(current, (status) => ({ ...status, latestDeployment: { ...latest, state } }), [])
      return { _tag: "Wait", result: RequeueAfter(settings.deployPollMs) } as PollOutcome
    }
    if (state === "finished") {
      const revision = deployment.commit ?? latest.revision
      const object = yield* write(
        current,
        (status) => ({ ...status, deployedRevision: revision, latestDeployment: { ...latest, state: "finished", finishedAt } }),
        [condition("Deployed", "True", "Deployed", `${capitalize(describeRevision(revision, current.spec.branch))} is deployed (deployment ${latest.id}).`)]
      )
      return { _tag: "Ended", object } as PollOutcome
    }
    if (state === "cancelled") {
      const retry = `${capitalize(what)} was cancelled in Coolify; deploying again.`
      const object = yield* write(current, (status) => ({ ...status, latestDeployment: { ...latest, state: "cancelled", finishedAt } }), [
        condition("Deployed", "False", "Cancelled", retry)
      ])
      return { _tag: "Ended", object, retry } as PollOutcome
    }
    const unknown = state === undefined ? ` Coolify reports the unknown status "${deployment.status}".` : ""
    const message = `${capitalize(what)} failed.${unknown} Last log lines:\n${logTail(deploymentLogLines(deployment.logs), settings.failedLogLines)}\nFix the build and push (or update_app), or redeploy.`
    const serving = findCondition(current.status.conditions, "Ready")?.status === "True"
    const object = yield* write(current, (status) => ({ ...status, latestDeployment: { ...latest, state: "failed", finishedAt } }), [
      condition("Deployed", "False", "BuildFailed", message),
      serving
        ? condition("Ready", "True", "Running", `Still serving the previously deployed ${describeRevision(current.status.deployedRevision ?? null, current.spec.branch)}; the latest deployment failed (see Deployed).`)
        : condition("Ready", "False", "BuildFailed", `Not serving: ${message}`)
    ])
    return { _tag: "Ended", object } as PollOutcome
  })

/** Nothing to deploy: report on the latest deployment and, once it finished, on the container Coolify runs. */
const reportLatest = (scene: Scene, current: App, latest: DeploymentRecord | undefined, now: number) =>
  Effect.gen(function*() {
    const { settings, uuid, write } = scene
    if (!latest || latest.state !== "finished") {
      // Failed (reported when it ended) or nothing to say: keep Synced current, wait for a change.
      yield* write(current, (status) => status, [])
      return Done
    }
    const observations = yield* CoolifyObservations
    const api = yield* CoolifyApi
    const finishedAt = Date.parse(latest.finishedAt ?? latest.startedAt)
    const seen = yield* observations.applications(finishedAt)
    if (seen._tag === "Stale") return RequeueAfter(seen.retryAfterMs)
    const listed =
      seen.snapshot.byUuid.get(uuid) ??
      (yield* api.getApplication(uuid).pipe(Effect.catchTag("CoolifyNotFound", () => Effect.succeed(undefined))))
    // Gone since it was deployed: the next reconcile observes that and creates it again.
    if (listed === undefined) return RequeueAfter(0)
    const [state, health] = splitStatus(listed.status)
    const coolifyStatus = listed.status ?? "unknown"
    const revision = describeRevision(current.status.deployedRevision ?? latest.revision, current.spec.branch)
    const deployed = condition("Deployed", "True", "Deployed", `${capitalize(revision)} is deployed (deployment ${latest.id}).`)
    if (state === "running" && health !== "unhealthy") {
      yield* write(current, (status) => status, [deployed, condition("Ready", "True", "Running", `Serving ${scene.url} (${revision}).`)])
      return Done
    }
    if (state === "running") {
      yield* write(current, (status) => status, [
        deployed,
        condition("Ready", "False", "Unhealthy", `The container runs but fails its health check (Coolify status "${coolifyStatus}"). Check that the app answers on port ${exposedPort(current.spec)}; see the runtime logs.`)
      ])
      return RequeueAfter(settings.unhealthyRecheckMs)
    }
    const sinceFinished = now - finishedAt
    if (sinceFinished < settings.startGraceMs) {
      yield* write(current, (status) => status, [
        deployed,
        condition("Ready", "False", "Starting", `${capitalize(revision)} is deployed; waiting for its container to run (Coolify status "${coolifyStatus}").`)
      ])
      return RequeueAfter(Math.min(settings.deployPollMs, settings.startGraceMs - sinceFinished))
    }
    // Crashed on start, or nothing listens where traffic goes: say so, with what the log says.
    const already = findCondition(current.status.conditions, "Deployed")
    if (already?.reason === "Crashed") {
      yield* write(current, (status) => status, [])
      return RequeueAfter(settings.unhealthyRecheckMs)
    }
    const logs = yield* api.getDeployment(latest.id).pipe(
      Effect.map((deployment) => deploymentLogLines(deployment.logs)),
      Effect.catchTag("CoolifyNotFound", () => Effect.succeed<ReadonlyArray<string>>([]))
    )
    const message = `${capitalize(revision)} was deployed (deployment ${latest.id}) but its container is not running (Coolify status "${coolifyStatus}"): the app crashes on start, or does not listen on port ${exposedPort(current.spec)} where Coolify sends traffic (update_app with port set to the port it listens on). Last log lines:\n${logTail(logs, settings.failedLogLines)}`
    yield* write(current, (status) => status, [condition("Deployed", "False", "Crashed", message), condition("Ready", "False", "Crashed", message)])
    return RequeueAfter(settings.unhealthyRecheckMs)
  })
