/**
 * `wait: true`: follow an App's conditions until it is Ready, fails for a reason that needs the
 * user, is deleted, or the time is up — reporting each change as an MCP progress notification.
 * It wakes on the object_changes NOTIFY (ObjectChanges), never on a polling tick.
 *
 * The contract with the App controller: conditions carry the generation they describe
 * (observedGeneration), so a Ready=True left over from the previous spec never ends a wait for
 * the new one; success is Ready=True with Deployed=True (when present) for the new generation; a
 * terminal failure is a False condition with one of TERMINAL_REASONS for it.
 */
import { Effect, Option, Schema } from "effect"
import type { Condition } from "../../schemas/index.ts"
import { findCondition } from "../../controllers/engine/conditions.ts"
import { ObjectStore, type Owner, type StoredObject } from "../store/objects.ts"
import { ObjectChanges } from "./object-changes.ts"
import { conditionLine } from "./views.ts"

/** Reasons that will not resolve without the user doing something: waiting longer is pointless. */
export const TERMINAL_REASONS: ReadonlySet<string> = new Set([
  "BuildFailed",
  "Crashed",
  "Cancelled",
  "InvalidSpec",
  "WaitingForGitHubApp",
  "ProviderNotConfigured",
  "RuntimeUnsupported"
])

export const WaitOutcome = Schema.Struct({
  outcome: Schema.Literals(["ready", "failed", "timeout", "deleted"]),
  waitedSeconds: Schema.Finite,
  message: Schema.String
}).annotate({ description: "How a wait ended: ready, failed (a reason that needs you), deleted, or timeout (still in progress)" })
export type WaitOutcome = typeof WaitOutcome.Type

export const DEFAULT_WAIT_SECONDS = 120
export const MAX_WAIT_SECONDS = 900

const current = (condition: Condition, generation: number) => condition.observedGeneration >= generation

/** The verdict on an App for a wait that started at `generation`, or undefined to keep waiting. */
export const judgeApp = (app: StoredObject<"App">, generation: number): Omit<WaitOutcome, "waitedSeconds"> | undefined => {
  if (app.metadata.deletionTimestamp) return { outcome: "deleted", message: `App '${app.metadata.name}' is being deleted.` }
  const conditions = app.status.conditions ?? []
  // Failure first: after a failed redeploy the old version may still serve (Ready=True), but the
  // change the caller waits for did not happen.
  const blocked = conditions.filter((condition) => condition.status === "False" && TERMINAL_REASONS.has(condition.reason) && current(condition, generation))
  // Ready only summarises; the condition it summarises carries the detailed message.
  const blocking = blocked.find((condition) => condition.type !== "Ready") ?? blocked[0]
  if (blocking) return { outcome: "failed", message: conditionLine(blocking) }
  const ready = findCondition(conditions, "Ready")
  const deployed = findCondition(conditions, "Deployed")
  const deployedNow = deployed === undefined || (deployed.status === "True" && current(deployed, generation))
  if (ready && ready.status === "True" && current(ready, generation) && deployedNow) {
    return { outcome: "ready", message: `App '${app.metadata.name}' is Ready${app.status.url ? ` at ${app.status.url}` : ""}.` }
  }
  return undefined
}

const fingerprint = (app: StoredObject<"App">) =>
  (app.status.conditions ?? []).map((condition) => `${condition.type}|${condition.status}|${condition.reason}|${condition.message}`).join("\n")

const progressLine = (app: StoredObject<"App">) => {
  const conditions = app.status.conditions ?? []
  if (conditions.length === 0) return `App '${app.metadata.name}': waiting for the controller to pick up generation ${app.metadata.generation}.`
  return `App '${app.metadata.name}': ${conditions.map(conditionLine).join("; ")}`
}

export interface WaitOptions {
  readonly owner: Owner
  readonly uid: string
  /** The spec generation the caller wrote; older conditions do not count. */
  readonly generation: number
  readonly timeoutSeconds: number
  readonly progress: (message: string) => Effect.Effect<void>
}

/** Returns the outcome and the App as last read (None when it is gone). */
export const waitForApp = (options: WaitOptions) =>
  Effect.scoped(
    Effect.gen(function*() {
      const store = yield* ObjectStore
      const changes = yield* ObjectChanges
      const started = Date.now()
      const deadline = started + options.timeoutSeconds * 1000
      const waited = () => Math.round((Date.now() - started) / 100) / 10
      // Subscribe before the first read: a change between the read and the wait is not lost.
      const signal = yield* changes.watch(options.owner, options.uid)
      let reported: string | undefined
      for (;;) {
        const found = yield* store.getByUid(options.owner, options.uid)
        if (Option.isNone(found) || found.value.kind !== "App") {
          return { outcome: { outcome: "deleted", waitedSeconds: waited(), message: "The app was deleted while waiting." } satisfies WaitOutcome, app: Option.none<StoredObject<"App">>() }
        }
        const app = found.value as StoredObject<"App">
        const print = fingerprint(app)
        if (print !== reported) {
          reported = print
          yield* options.progress(progressLine(app))
        }
        const verdict = judgeApp(app, options.generation)
        if (verdict) return { outcome: { ...verdict, waitedSeconds: waited() } satisfies WaitOutcome, app: Option.some(app) }
        const remaining = deadline - Date.now()
        const woke = remaining > 0 ? yield* Effect.timeoutOption(signal.next, remaining) : Option.none()
        if (Option.isNone(woke)) {
          const latest = yield* store.getByUid(options.owner, options.uid)
          const last = Option.isSome(latest) && latest.value.kind === "App" ? (latest.value as StoredObject<"App">) : app
          return {
            outcome: {
              outcome: "timeout",
              waitedSeconds: waited(),
              message: `Still in progress after ${options.timeoutSeconds}s (${progressLine(last)}). Call get_app_details to check again; the deployment continues without you waiting.`
            } satisfies WaitOutcome,
            app: Option.some(last)
          }
        }
      }
    })
  )
