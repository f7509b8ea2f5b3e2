/**
 * How tools show objects: output schemas (→ the JSON Schemas in tools/list) and the functions that
 * build them from stored objects. Agents see names, specs, URLs and conditions — never provider
 * ids (DESIGN.md §1.3) — and render conditions as written by controllers, never re-derived.
 */
import { Schema } from "effect"
import { findCondition } from "../../controllers/engine/conditions.ts"
import {
  BuildPack,
  Condition,
  ConditionStatus,
  DeploymentRecord,
  ObjectEvent,
  ResourceSize,
  ResourceType,
  RuntimeMode,
  type Condition as ConditionType
} from "../../schemas/index.ts"
import type { StoredObject } from "../store/objects.ts"

const text = (description: string) => Schema.String.annotate({ description })

/** The Ready condition in brief, for lists and one-line summaries. */
export const ReadySummary = Schema.Struct({
  status: ConditionStatus,
  reason: Schema.String,
  message: Schema.String,
  /** False when Ready describes an older generation of the spec than the current one. */
  current: Schema.Boolean
}).annotate({ description: "The Ready condition: True when the object serves; reason and message say why not" })
export type ReadySummary = typeof ReadySummary.Type

export const AppSummary = Schema.Struct({
  name: Schema.String,
  project: Schema.String,
  repo: Schema.optionalKey(Schema.String),
  branch: Schema.String,
  url: Schema.optionalKey(Schema.String),
  ready: ReadySummary,
  deleting: Schema.Boolean
})
export type AppSummary = typeof AppSummary.Type

export const AppView = Schema.Struct({
  name: Schema.String,
  project: Schema.String,
  repo: Schema.optionalKey(text("GitHub owner/name, git URL or file:// URL; absent: the app deploys what is git pushed to it")),
  branch: Schema.String,
  revision: Schema.NullOr(Schema.String).annotate({ description: "Desired commit SHA; null means the head of the branch" }),
  buildPack: BuildPack,
  runtimeMode: RuntimeMode,
  port: Schema.optionalKey(Schema.Int),
  memory: Schema.optionalKey(Schema.String),
  cpu: Schema.optionalKey(Schema.String),
  host: Schema.optionalKey(Schema.String),
  installCommand: Schema.optionalKey(Schema.String),
  buildCommand: Schema.optionalKey(Schema.String),
  startCommand: Schema.optionalKey(Schema.String),
  envVarNames: Schema.Array(Schema.String).annotate({ description: "Names of the app's environment variables (values only with include_env)" }),
  env: Schema.optionalKey(Schema.Record(Schema.String, Schema.String)),
  resources: Schema.Array(Schema.String).annotate({ description: "Resources whose connection settings are injected as environment variables" }),
  redeployCount: Schema.Int,
  url: Schema.optionalKey(Schema.String),
  deployedRevision: Schema.optionalKey(Schema.NullOr(Schema.String)),
  latestDeployment: Schema.optionalKey(DeploymentRecord),
  generation: Schema.Int.annotate({ description: "Increases with every spec change" }),
  observedGeneration: Schema.optionalKey(Schema.Int),
  ready: ReadySummary,
  conditions: Schema.Array(Condition),
  deleting: Schema.Boolean,
  finalizers: Schema.Array(Schema.String).annotate({ description: "Cleanup still pending before a deleted object disappears" })
})
export type AppView = typeof AppView.Type

export const ResourceView = Schema.Struct({
  name: Schema.String,
  project: Schema.String,
  type: ResourceType,
  size: Schema.optionalKey(ResourceSize),
  region: Schema.optionalKey(Schema.String),
  url: Schema.optionalKey(Schema.String),
  generation: Schema.Int,
  observedGeneration: Schema.optionalKey(Schema.Int),
  ready: ReadySummary,
  conditions: Schema.Array(Condition),
  deleting: Schema.Boolean,
  finalizers: Schema.Array(Schema.String)
})
export type ResourceView = typeof ResourceView.Type

export const EventView = ObjectEvent

const readyOf = (object: StoredObject): ReadySummary => {
  const ready = findCondition(object.status.conditions, "Ready")
  if (!ready) {
    return {
      status: "Unknown",
      reason: object.metadata.deletionTimestamp ? "Deleting" : "Pending",
      message: object.metadata.deletionTimestamp
        ? "Being deleted; cleanup at the provider is in progress."
        : "Not reconciled yet; a controller picks it up shortly.",
      current: true
    }
  }
  return { status: ready.status, reason: ready.reason, message: ready.message, current: ready.observedGeneration >= object.metadata.generation }
}

export const appSummary = (app: StoredObject<"App">): AppSummary => ({
  name: app.metadata.name,
  project: app.metadata.project,
  ...(app.spec.repo !== undefined ? { repo: app.spec.repo } : {}),
  branch: app.spec.branch,
  ...(app.status.url ? { url: app.status.url } : {}),
  ready: readyOf(app),
  deleting: app.metadata.deletionTimestamp !== undefined
})

export const appView = (app: StoredObject<"App">, options: { readonly includeEnv?: boolean } = {}): AppView => {
  const { spec, status, metadata } = app
  return {
    name: metadata.name,
    project: metadata.project,
    ...(spec.repo !== undefined ? { repo: spec.repo } : {}),
    branch: spec.branch,
    revision: spec.revision,
    buildPack: spec.buildPack,
    runtimeMode: spec.runtimeMode,
    ...(spec.port !== undefined ? { port: spec.port } : {}),
    ...(spec.resources?.memory !== undefined ? { memory: spec.resources.memory } : {}),
    ...(spec.resources?.cpu !== undefined ? { cpu: spec.resources.cpu } : {}),
    ...(spec.host !== undefined ? { host: spec.host } : {}),
    ...(spec.commands?.install !== undefined ? { installCommand: spec.commands.install } : {}),
    ...(spec.commands?.build !== undefined ? { buildCommand: spec.commands.build } : {}),
    ...(spec.commands?.start !== undefined ? { startCommand: spec.commands.start } : {}),
    envVarNames: Object.keys(spec.env).sort(),
    ...(options.includeEnv ? { env: spec.env } : {}),
    resources: spec.resourceRefs,
    redeployCount: spec.redeployNonce,
    ...(status.url !== undefined ? { url: status.url } : {}),
    ...(status.deployedRevision !== undefined ? { deployedRevision: status.deployedRevision } : {}),
    ...(status.latestDeployment !== undefined ? { latestDeployment: status.latestDeployment } : {}),
    generation: metadata.generation,
    ...(status.observedGeneration !== undefined ? { observedGeneration: status.observedGeneration } : {}),
    ready: readyOf(app),
    conditions: status.conditions ?? [],
    deleting: metadata.deletionTimestamp !== undefined,
    finalizers: metadata.finalizers
  }
}

export const resourceView = (resource: StoredObject<"Resource">): ResourceView => ({
  name: resource.metadata.name,
  project: resource.metadata.project,
  type: resource.spec.type,
  ...(resource.spec.size !== undefined ? { size: resource.spec.size } : {}),
  ...(resource.spec.region !== undefined ? { region: resource.spec.region } : {}),
  ...(resource.status.url !== undefined ? { url: resource.status.url } : {}),
  generation: resource.metadata.generation,
  ...(resource.status.observedGeneration !== undefined ? { observedGeneration: resource.status.observedGeneration } : {}),
  ready: readyOf(resource),
  conditions: resource.status.conditions ?? [],
  deleting: resource.metadata.deletionTimestamp !== undefined,
  finalizers: resource.metadata.finalizers
})

/** "Ready=False (Building): Building commit abc1234" — one condition as a line. */
export const conditionLine = (condition: ConditionType): string => `${condition.type}=${condition.status} (${condition.reason}): ${condition.message}`

/** One line about an object's readiness, for the short human text of results. */
export const readinessLine = (object: StoredObject): string => {
  const ready = readyOf(object)
  const stale = ready.current ? "" : " [describes an earlier spec; the new one is being applied]"
  return `Ready=${ready.status} (${ready.reason}): ${ready.message}${stale}`
}
