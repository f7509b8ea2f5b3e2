/**
 * create_app/update_app `resources`: make sure every named Resource exists in the app's project,
 * creating the missing ones — inside the caller's transaction, so the app and its resources are
 * written (and enqueued) together or not at all (DESIGN.md §1.5).
 */
import { Effect, Option } from "effect"
import type { ResourceSpec } from "../../../schemas/index.ts"
import { createObject } from "../../desired/write.ts"
import { ObjectStore, type Owner } from "../../store/objects.ts"
import { ToolError } from "../errors.ts"
import { beingDeletedMessage, lockResourceNames } from "../lookups.ts"
import type { ResourceRequest } from "./app-input.ts"

export interface EnsuredResources {
  /** Names for App.spec.resourceRefs, in the order given, without duplicates. */
  readonly names: ReadonlyArray<string>
  readonly created: ReadonlyArray<string>
}

const nameOf = (request: ResourceRequest) => (typeof request === "string" ? request : request.name)

const specOf = (request: ResourceRequest): ResourceSpec =>
  typeof request === "string"
    ? { type: "sqlite" }
    : { type: request.type ?? "sqlite", ...(request.size ? { size: request.size } : {}), ...(request.region ? { region: request.region } : {}) }

/** Settings a request states explicitly that an existing resource does not have. */
const mismatches = (request: ResourceRequest, existing: ResourceSpec): ReadonlyArray<string> => {
  if (typeof request === "string") return []
  const out: Array<string> = []
  if (request.type !== undefined && request.type !== existing.type) out.push(`type is ${existing.type}, not ${request.type}`)
  if (request.size !== undefined && request.size !== existing.size) out.push(`size is ${existing.size ?? "the default"}, not ${request.size}`)
  if (request.region !== undefined && request.region !== existing.region) out.push(`region is ${existing.region ?? "the default"}, not ${request.region}`)
  return out
}

/** Must run inside a transaction (it takes per-name locks that delete_resource also takes). */
export const ensureResources = (owner: Owner, project: string, requests: ReadonlyArray<ResourceRequest>) =>
  Effect.gen(function*() {
    const store = yield* ObjectStore
    const names: Array<string> = []
    const created: Array<string> = []
    const seen = new Map<string, ResourceRequest>()
    for (const request of requests) {
      const name = nameOf(request)
      const earlier = seen.get(name)
      if (earlier !== undefined && typeof earlier !== "string" && typeof request !== "string") {
        return yield* new ToolError({ message: `resources: '${name}' is listed twice; list each resource once.` })
      }
      if (earlier === undefined || typeof earlier === "string") seen.set(name, request)
      if (earlier === undefined) names.push(name)
    }
    yield* lockResourceNames(owner, project, names)
    for (const name of names) {
      const request = seen.get(name) as ResourceRequest
      const existing = yield* store.find(owner, { kind: "Resource", project, name })
      if (Option.isSome(existing)) {
        if (existing.value.metadata.deletionTimestamp) return yield* new ToolError({ message: `resources: ${beingDeletedMessage(existing.value)}` })
        const different = mismatches(request, existing.value.spec)
        if (different.length > 0) {
          return yield* new ToolError({
            message: `resources: Resource '${name}' already exists in project '${project}' and its ${different.join(", ")}. Refer to it by name only ("${name}") to use it as it is, or pick another name for a new one.`
          })
        }
        continue
      }
      yield* createObject(owner, { kind: "Resource", project, name, spec: specOf(request) })
      created.push(name)
    }
    return { names, created } satisfies EnsuredResources
  })
