/**
 * The whole surface a controller implements (controller-runtime's Reconciler, crossplane's
 * managed reconciler): given the latest object, converge and say when to look again.
 * Fetching, queueing, exclusivity, backoff, resync, finalizers and metrics belong to the engine.
 */
import type { Effect } from "effect"
import type { Kind } from "../../schemas/index.ts"
import type { StoredObject } from "../../src/store/objects.ts"
import type { ReconcileResult } from "./result.ts"

export interface Controller<K extends Kind, E, R> {
  readonly kind: K
  /**
   * Finalizer the engine adds before the first reconcile and removes after `finalize` returns
   * Done. Controllers that create provider objects need one (DESIGN.md §4 Delete).
   */
  readonly finalizer?: string
  /** Converge the object (not being deleted) towards its spec. Safe to run any number of times. */
  reconcile(object: StoredObject<K>): Effect.Effect<ReconcileResult, E, R>
  /** Delete what the object owns at the provider; Done means confirmed gone. */
  finalize?(object: StoredObject<K>): Effect.Effect<ReconcileResult, E, R>
}

/** Any controller, for lists of them. */
export type AnyController<R> = Controller<Kind, unknown, R>
