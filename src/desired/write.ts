/**
 * The only write path (DESIGN.md §3): change desired state and enqueue the object's key in ONE
 * transaction, so a committed change is always reconciled and a rolled-back one never is.
 * Tools, webhooks, the dashboard and the CLI all write through here.
 */
import { Effect } from "effect"
import type { Kind, SpecOf } from "../../schemas/index.ts"
import { ReconcileQueue } from "../../controllers/engine/queue.ts"
import { Database } from "../db/database.ts"
import { ObjectStore, type NewObject, type ObjectRef, type Owner, type StoredObject } from "../store/objects.ts"

const enqueueObject = (object: StoredObject) =>
  ReconcileQueue.use((queue) => queue.enqueue(object.kind, { owner: object.metadata.owner, uid: object.metadata.uid }))

export const createObject = <K extends Kind>(owner: Owner, input: NewObject<K>) =>
  inTransaction(Effect.gen(function*() {
    const store = yield* ObjectStore
    const created = yield* store.create(owner, input)
    yield* enqueueObject(created)
    return created
  }))

/** Patch a spec; enqueues only when the spec really changed (generation bumped). */
export const updateObjectSpec = <K extends Kind>(owner: Owner, ref: ObjectRef<K>, update: (spec: SpecOf[K]) => SpecOf[K]) =>
  inTransaction(Effect.gen(function*() {
    const store = yield* ObjectStore
    const result = yield* store.updateSpec(owner, ref, update)
    if (result.changed) yield* enqueueObject(result.object)
    return result
  }))

/** Mark for deletion; the controllers' finalizers run on the enqueued reconcile. */
export const deleteObject = <K extends Kind>(owner: Owner, ref: ObjectRef<K>) =>
  inTransaction(Effect.gen(function*() {
    const store = yield* ObjectStore
    const result = yield* store.markForDeletion(owner, ref)
    if (!result.deleted) yield* enqueueObject(result.object)
    return result
  }))

/** Run several writes as one transaction (e.g. create_app with inline resources). */
export const inTransaction = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Database.use((db) => db.transaction(effect))
