/**
 * A stand-in App controller for MCP tests: it writes conditions the way the real one does
 * (controllers/app), scripted by the app's name, so tools and `wait` can be tested without Coolify.
 *
 *   (any name)  → Synced, Deployed and Ready True, with a URL
 *   slow-*      → Deployed=False Building, then parks until the test calls `release(name)`
 *   broken-*    → Deployed=False BuildFailed, Ready=False BuildFailed
 *   flaky-*     → first generation deploys; later ones fail to build while the old one keeps serving
 *   stuck-*     → nothing: never reconciled as far as readers can tell
 *
 * It holds the provider finalizer, like the real one, so deletion is observable as a process.
 */
import { Effect } from "effect"
import type { Controller } from "../../controllers/engine/controller.ts"
import { writeStatus, type ConditionInput } from "../../controllers/engine/conditions.ts"
import { Done } from "../../controllers/engine/result.ts"
import { Finalizers } from "../../schemas/index.ts"
import { ObjectStore, type StoredObject } from "../../src/store/objects.ts"
import { EventStore } from "../../src/store/events.ts"
import { deferred } from "../support/wait.ts"

const gates = new Map<string, ReturnType<typeof deferred<void>>>()

const gate = (name: string) => {
  let found = gates.get(name)
  if (!found) {
    found = deferred<void>()
    gates.set(name, found)
  }
  return found
}

/** Let a parked slow-* reconcile finish. */
export const release = (name: string) => gate(name).resolve()

const condition = (type: string, status: "True" | "False" | "Unknown", reason: string, message: string): ConditionInput => ({ type, status, reason, message })

const url = (app: StoredObject<"App">) => `https://${app.metadata.name}.apps.test`

const serving = (app: StoredObject<"App">): ReadonlyArray<ConditionInput> => [
  condition("Synced", "True", "UpToDate", "Coolify application matches the spec."),
  condition("Deployed", "True", "Deployed", `Deployed generation ${app.metadata.generation}.`),
  condition("Ready", "True", "Running", `Serving ${url(app)}.`)
]

const reconcileApp = (app: StoredObject<"App">) =>
  Effect.gen(function*() {
    const name = app.metadata.name
    const serve = (object: StoredObject<"App">) => writeStatus(object, (status) => ({ ...status, url: url(object) }), { conditions: serving(object) })
    if (name.startsWith("stuck-")) return Done
    if (name.startsWith("broken-")) {
      yield* writeStatus(app, (status) => status, {
        conditions: [
          condition("Synced", "True", "Created", "Created in Coolify."),
          condition("Deployed", "False", "BuildFailed", "The build failed: npm ERR! missing script: build. Fix the build command and redeploy."),
          condition("Ready", "False", "BuildFailed", "Not serving: the build failed.")
        ]
      })
      return Done
    }
    if (name.startsWith("flaky-") && app.metadata.generation > 1) {
      yield* writeStatus(app, (status) => status, {
        conditions: [
          condition("Deployed", "False", "BuildFailed", "The build of the new revision failed."),
          condition("Ready", "True", "Running", "Still serving the previously deployed revision; the latest deployment failed (see Deployed).")
        ]
      })
      return Done
    }
    if (name.startsWith("slow-")) {
      const building = yield* writeStatus(app, (status) => status, {
        conditions: [condition("Synced", "True", "Created", "Created in Coolify."), condition("Deployed", "False", "Building", "Building commit abc1234.")]
      })
      yield* Effect.promise(() => gate(name).promise)
      yield* serve(building)
      return Done
    }
    yield* serve(app)
    return Done
  })

export const scriptedAppController: Controller<"App", unknown, ObjectStore | EventStore> = {
  kind: "App",
  finalizer: Finalizers.provider,
  reconcile: reconcileApp,
  finalize: () => Effect.succeed(Done)
}
