/**
 * Apps that use a Resource (its name in their spec.resourceRefs, same owner and project) are woken
 * when what they would inject changes: the resource became Ready, or its credentials changed
 * (rotation, recreation). The App controller then compares versions and redeploys; without this
 * wake-up it would only notice on its next periodic resync, long after the old token stopped working.
 */
import { Effect } from "effect"
import { ReconcileQueue } from "../engine/queue.ts"
import { ObjectStore, type StoredObject } from "../../src/store/objects.ts"

const PAGE = 500

export const dependantApps = Effect.fn("ResourceController.dependantApps")(function*(resource: StoredObject<"Resource">) {
  const store = yield* ObjectStore
  const { owner, project, name } = resource.metadata
  const found: Array<StoredObject<"App">> = []
  let after: string | undefined
  do {
    const page = yield* store.list(owner, { kind: "App", project, limit: PAGE, ...(after ? { after } : {}) })
    for (const app of page.items) if (app.spec.resourceRefs.includes(name)) found.push(app)
    after = page.next
  } while (after !== undefined)
  return found
})

/** Enqueue every dependant App (joins the caller's transaction, like every enqueue). */
export const wakeDependants = Effect.fn("ResourceController.wakeDependants")(function*(resource: StoredObject<"Resource">) {
  const queue = yield* ReconcileQueue
  const apps = yield* dependantApps(resource)
  for (const app of apps) yield* queue.enqueue("App", { owner: app.metadata.owner, uid: app.metadata.uid })
  return apps.length
})
