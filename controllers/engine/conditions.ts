/**
 * Status helpers every controller uses (Kubernetes API conventions): conditions keep their
 * lastTransitionTime unless their status flips, carry the generation they describe, and every
 * change of a condition's reason is recorded as an event (de-duplicated by the event store).
 */
import { Effect } from "effect"
import type { Condition, ConditionStatus, Kind, StatusOf } from "../../schemas/index.ts"
import { EventStore } from "../../src/store/events.ts"
import { ObjectStore, type StoredObject } from "../../src/store/objects.ts"

export interface ConditionInput {
  readonly type: string
  readonly status: ConditionStatus
  readonly reason: string
  readonly message: string
}

export const findCondition = (conditions: ReadonlyArray<Condition> | undefined, type: string): Condition | undefined =>
  conditions?.find((condition) => condition.type === type)

export const isConditionTrue = (conditions: ReadonlyArray<Condition> | undefined, type: string): boolean =>
  findCondition(conditions, type)?.status === "True"

/** Returns the conditions with `input` set; lastTransitionTime moves only when status changes. */
export const setCondition = (
  conditions: ReadonlyArray<Condition> | undefined,
  input: ConditionInput,
  observedGeneration: number,
  now: Date = new Date()
): ReadonlyArray<Condition> => {
  const existing = findCondition(conditions, input.type)
  const next: Condition = {
    ...input,
    observedGeneration,
    lastTransitionTime: existing && existing.status === input.status ? existing.lastTransitionTime : now.toISOString()
  }
  const others = (conditions ?? []).filter((condition) => condition.type !== input.type)
  return [...others, next].sort((a, b) => conditionOrder(a.type) - conditionOrder(b.type))
}

/** Stable, readable order: the summary condition Ready first, then the rest as they came. */
const ORDER = ["Ready", "Synced", "Deployed", "Reachable", "Hardened"]
const conditionOrder = (type: string) => {
  const index = ORDER.indexOf(type)
  return index === -1 ? ORDER.length : index
}

/** Conditions whose (status, reason, message) changed between two lists: what deserves an event. */
export const changedConditions = (before: ReadonlyArray<Condition> | undefined, after: ReadonlyArray<Condition>): ReadonlyArray<Condition> =>
  after.filter((condition) => {
    const old = findCondition(before, condition.type)
    return !old || old.status !== condition.status || old.reason !== condition.reason || old.message !== condition.message
  })

/**
 * Write an object's status conditionally on the resourceVersion it was read at (Conflict when
 * someone wrote since), set observedGeneration, and record events for changed conditions.
 */
export const writeStatus = <K extends Kind>(
  object: StoredObject<K>,
  update: (status: StatusOf[K]) => StatusOf[K],
  options: { readonly conditions?: ReadonlyArray<ConditionInput> } = {}
) =>
  Effect.gen(function*() {
    const store = yield* ObjectStore
    const events = yield* EventStore
    const generation = object.metadata.generation
    let status = update(object.status)
    if (options.conditions?.length) {
      let conditions = status.conditions
      for (const condition of options.conditions) conditions = setCondition(conditions, condition, generation)
      status = { ...status, conditions }
    }
    status = { ...status, observedGeneration: generation }
    const written = yield* store.updateStatus<K>(object.metadata.owner, object.metadata.uid, object.metadata.resourceVersion, status)
    for (const condition of changedConditions(object.status.conditions, status.conditions ?? [])) {
      // Ready is a summary of the others; its own events would only repeat theirs.
      if (condition.type === "Ready" && condition.status !== "True") continue
      yield* events.record(object.metadata.owner, object.metadata.uid, {
        type: condition.status === "False" ? "Warning" : "Normal",
        reason: condition.reason,
        message: condition.message
      })
    }
    return written
  })
