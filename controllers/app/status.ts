/**
 * Writing an App's status: conditional on resourceVersion (writeStatus), and skipped entirely when
 * nothing a reader sees would change — a resync of 1,000 healthy apps writes nothing.
 */
import { Effect } from "effect"
import type { AppStatus } from "../../schemas/index.ts"
import { canonicalJson } from "../../src/store/canonical-json.ts"
import type { StoredObject } from "../../src/store/objects.ts"
import { setCondition, writeStatus, type ConditionInput } from "../engine/conditions.ts"

type App = StoredObject<"App">

/** What writeStatus would store, computed without writing. */
const nextStatus = (object: App, update: (status: AppStatus) => AppStatus, conditions: ReadonlyArray<ConditionInput>): AppStatus => {
  const updated = update(object.status)
  let merged = updated.conditions
  for (const condition of conditions) merged = setCondition(merged, condition, object.metadata.generation)
  return { ...updated, ...(merged ? { conditions: merged } : {}), observedGeneration: object.metadata.generation }
}

/** Writes status and conditions unless they are already so; returns the object as stored now. */
export const updateAppStatus = (object: App, update: (status: AppStatus) => AppStatus, conditions: ReadonlyArray<ConditionInput>) =>
  canonicalJson(nextStatus(object, update, conditions)) === canonicalJson(object.status)
    ? Effect.succeed(object)
    : writeStatus(object, update, { conditions })

/** Removes optional status fields (JSON has no `undefined`; a present key with it would still differ). */
export const withoutFields = (status: AppStatus, ...keys: ReadonlyArray<keyof AppStatus>): AppStatus => {
  const copy: Record<string, unknown> = { ...status }
  for (const key of keys) delete copy[key]
  return copy as AppStatus
}
