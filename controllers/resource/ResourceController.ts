/**
 * The Resource controller (DESIGN.md §4, crossplane's managed reconciler): observe the database by
 * its deterministic external name, then create or adopt it, keep its credentials minted and sealed,
 * and report Synced/Ready; under the `deploy.mcp/provider` finalizer, delete it.
 *
 * Leak guard: `deploy.mcp/create-pending` is written before the provider is asked to create, the
 * external name after. Because the name is deterministic and every reconcile observes first, a
 * crash at any line finds the database again and adopts it: never a second one, never an orphan.
 */
import { Effect, Option } from "effect"
import { Annotations, Finalizers, type Condition } from "../../schemas/index.ts"
import type { ResourceStatus } from "../../schemas/index.ts"
import { Database } from "../../src/db/database.ts"
import { AppLogger } from "../../src/log/service.ts"
import { DatabaseProvider, type ProvisionedDatabase } from "../../src/providers/database/index.ts"
import { CredentialStore } from "../../src/store/credentials.ts"
import { ObjectStore, type StoredObject } from "../../src/store/objects.ts"
import { findCondition, writeStatus, type ConditionInput } from "../engine/conditions.ts"
import type { Controller } from "../engine/controller.ts"
import { Done, RequeueAfter } from "../engine/result.ts"
import { ensureCredentials } from "./credentials.ts"
import { wakeDependants } from "./dependants.ts"
import { externalNameOf } from "./external-name.ts"
import { describeFailure, isProviderFailure, type ProviderFailure } from "./provider-failure.ts"

type Resource = StoredObject<"Resource">

/** What this reconcile did to the provider's database, for the Synced condition. */
type Action = "created" | "recreated" | "adopted" | "observed"

const hasAnnotation = (object: Resource, key: string) => object.metadata.annotations[key] !== undefined

/** What a successful reconcile reports: observed fields plus Synced and Ready. */
interface ReadyReport {
  readonly fields: Required<Pick<ResourceStatus, "url" | "externalId" | "credentialsVersion" | "appliedRotationNonce">>
  readonly conditions: ReadonlyArray<ConditionInput>
}

const conditionMatches = (existing: Condition | undefined, wanted: ConditionInput) =>
  existing !== undefined && existing.status === wanted.status && existing.reason === wanted.reason && existing.message === wanted.message

/** True when writing would change nothing a reader sees: skip the write (resyncs stay quiet). */
const statusUnchanged = (object: Resource, next: ReadyReport) => {
  const status = object.status
  return (
    status.observedGeneration === object.metadata.generation &&
    status.url === next.fields.url &&
    status.externalId === next.fields.externalId &&
    status.credentialsVersion === next.fields.credentialsVersion &&
    status.appliedRotationNonce === next.fields.appliedRotationNonce &&
    next.conditions.every((condition) => conditionMatches(findCondition(status.conditions, condition.type), condition))
  )
}

const syncedCondition = (object: Resource, action: Action, rotated: boolean, database: ProvisionedDatabase, provider: string, hasToken: boolean): ConditionInput => {
  const name = `"${database.externalName}"`
  if (rotated) {
    return {
      type: "Synced",
      status: "True",
      reason: "CredentialsRotated",
      message: hasToken
        ? `Rotated the credentials of database ${name}: tokens issued before no longer work; apps using this resource are redeployed with the new ones.`
        : `Rotation requested for database ${name}; ${provider} databases have no tokens, so the connection settings stay the same.`
    }
  }
  switch (action) {
    case "created":
      return { type: "Synced", status: "True", reason: "Created", message: `Created database ${name} on ${provider}.` }
    case "recreated":
      return {
        type: "Synced",
        status: "True",
        reason: "Recreated",
        message: `Database ${name} was missing on ${provider} (deleted outside Deploy MCP) and was created again, empty, with new credentials.`
      }
    case "adopted":
      return {
        type: "Synced",
        status: "True",
        reason: "Adopted",
        message: `Found database ${name} on ${provider}, created by an earlier attempt whose answer was lost, and adopted it.`
      }
    case "observed": {
      // Nothing happened: keep telling what last did, so resyncs do not rewrite history.
      const current = findCondition(object.status.conditions, "Synced")
      return current?.status === "True"
        ? { type: "Synced", status: "True", reason: current.reason, message: current.message }
        : { type: "Synced", status: "True", reason: "UpToDate", message: `Database ${name} exists on ${provider} and matches the spec.` }
    }
  }
}

/** Re-read before reporting a failure: our own metadata writes moved resourceVersion on. */
const latest = (object: Resource) =>
  ObjectStore.use((store) => store.getByUid(object.metadata.owner, object.metadata.uid)).pipe(
    Effect.map(Option.map((found) => found as Resource))
  )

/**
 * Synced=False with what went wrong. Ready keeps True when it was: the database still serves its
 * apps while we cannot talk to the provider. Then fail (engine backoff), or requeue when the
 * provider said how long to wait.
 */
const reportFailure = (object: Resource, error: ProviderFailure, while_: "reconcile" | "delete") =>
  Effect.gen(function*() {
    const report = describeFailure(error)
    const message = while_ === "delete" ? `Could not delete the database: ${report.message}` : report.message
    const logger = yield* AppLogger
    logger.warn({ kind: "Resource", name: object.metadata.name, owner: object.metadata.owner, reason: report.reason }, message)
    const fresh = yield* latest(object)
    if (Option.isSome(fresh)) {
      const readyNow = findCondition(fresh.value.status.conditions, "Ready")?.status === "True" && while_ === "reconcile"
      const conditions: Array<ConditionInput> = [{ type: "Synced", status: "False", reason: report.reason, message }]
      if (!readyNow) conditions.push({ type: "Ready", status: "False", reason: report.reason, message })
      yield* writeStatus(fresh.value, (status) => status, { conditions })
    }
    if (report.retryAfterMs !== undefined) return RequeueAfter(report.retryAfterMs)
    return yield* Effect.fail(error)
  })

/** Tell readers a create is under way, then mark it pending before the provider hears of it. */
const announceCreate = Effect.fn("ResourceController.announceCreate")(function*(object: Resource, externalName: string, provider: string) {
  const store = yield* ObjectStore
  const creating: ConditionInput = { type: "Ready", status: "False", reason: "Creating", message: `Creating database "${externalName}" on ${provider}.` }
  let current = object
  if (!conditionMatches(findCondition(current.status.conditions, "Ready"), creating)) {
    current = yield* writeStatus(current, (status) => status, { conditions: [creating] })
  }
  const pending = yield* store.updateMetadata(current.metadata.owner, current.metadata.uid, current.metadata.resourceVersion, {
    annotations: { [Annotations.createPending]: new Date().toISOString() }
  })
  return pending as Resource
})

/** Record what exists at the provider and clear the pending mark (one conditional write, skipped when already so). */
const recordExternalName = Effect.fn("ResourceController.recordExternalName")(function*(object: Resource, externalName: string) {
  if (object.metadata.annotations[Annotations.externalName] === externalName && !hasAnnotation(object, Annotations.createPending)) return object
  const store = yield* ObjectStore
  const recorded = yield* store.updateMetadata(object.metadata.owner, object.metadata.uid, object.metadata.resourceVersion, {
    annotations: { [Annotations.externalName]: externalName, [Annotations.createPending]: null }
  })
  return recorded as Resource
})

const converge = Effect.fn("ResourceController.reconcile")(function*(object: Resource) {
  const provider = yield* DatabaseProvider
  const logger = yield* AppLogger
  const externalName = externalNameOf(object)
  const logFields = { kind: "Resource", name: object.metadata.name, owner: object.metadata.owner, externalName, provider: provider.provider }

  // Observe first, always: this is what turns a create whose answer was lost into an adoption.
  const observed = yield* provider.observe(externalName)
  let current = object
  let action: Action
  let database: ProvisionedDatabase
  if (Option.isSome(observed)) {
    database = observed.value
    action = object.status.externalId === undefined ? "adopted" : "observed"
    if (action === "adopted") logger.info(logFields, "adopted existing database")
  } else {
    action = object.status.externalId === undefined ? "created" : "recreated"
    if (hasAnnotation(object, Annotations.createPending)) logger.info(logFields, "earlier create left nothing at the provider; creating again")
    current = yield* announceCreate(current, externalName, provider.provider)
    database = yield* provider.create(externalName)
    logger.info(logFields, action === "created" ? "database created" : "database was missing at the provider; created again")
  }
  current = yield* recordExternalName(current, externalName)

  const outcome = yield* ensureCredentials(current, database, action === "created" || action === "recreated")
  if (outcome.rotated) logger.info({ ...logFields, version: outcome.credentials.version }, "credentials rotated")

  const next: ReadyReport = {
    fields: { url: database.url, externalId: externalName, credentialsVersion: outcome.credentials.version, appliedRotationNonce: outcome.rotationNonce },
    conditions: [
      syncedCondition(current, action, outcome.rotated, database, provider.provider, outcome.credentials.authToken !== undefined),
      {
        type: "Ready",
        status: "True",
        reason: "Available",
        message: `Database "${externalName}" is ready at ${database.url}; get_resource_details returns its connection settings.`
      }
    ]
  }
  if (!statusUnchanged(current, next)) {
    const becameReady = findCondition(current.status.conditions, "Ready")?.status !== "True"
    const credentialsChanged = current.status.credentialsVersion !== outcome.credentials.version
    const database = yield* Database
    // One transaction: dependants are woken exactly when the status they will read is committed.
    yield* database.transaction(
      Effect.gen(function*() {
        const written = yield* writeStatus(current, (status): ResourceStatus => ({ ...status, ...next.fields }), { conditions: next.conditions })
        if (becameReady || credentialsChanged) {
          const woken = yield* wakeDependants(written)
          if (woken > 0) logger.info({ ...logFields, apps: woken }, "woke the apps that use this resource")
        }
      })
    )
  }
  return Done
})

/**
 * Delete the database (gone already counts), then its credentials. A resource the provider was
 * never asked to create (no pending mark, no recorded name) has nothing to delete there — which
 * also lets a resource whose name the provider rejects be deleted.
 */
const finalizeResource = Effect.fn("ResourceController.finalize")(function*(object: Resource) {
  const provider = yield* DatabaseProvider
  const credentials = yield* CredentialStore
  const logger = yield* AppLogger
  const externalName = externalNameOf(object)
  const everAskedToCreate =
    hasAnnotation(object, Annotations.createPending) || hasAnnotation(object, Annotations.externalName) || object.status.externalId !== undefined
  if (everAskedToCreate) yield* provider.delete(externalName)
  yield* credentials.remove(object.metadata.owner, object.metadata.uid)
  logger.info({ kind: "Resource", name: object.metadata.name, owner: object.metadata.owner, externalName, provider: provider.provider }, "database deleted")
  return Done
})

export const resourceController = {
  kind: "Resource",
  finalizer: Finalizers.provider,
  reconcile: (object: Resource) =>
    converge(object).pipe(Effect.catchIf(isProviderFailure, (error) => reportFailure(object, error, "reconcile"))),
  finalize: (object: Resource) =>
    finalizeResource(object).pipe(Effect.catchIf(isProviderFailure, (error) => reportFailure(object, error, "delete")))
} satisfies Controller<"Resource", unknown, unknown>
