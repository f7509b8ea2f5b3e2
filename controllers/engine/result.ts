/** What a reconcile returns (controller-runtime's Result): done, or look again after a while. */
import { Duration } from "effect"

export type ReconcileResult = { readonly _tag: "Done" } | { readonly _tag: "RequeueAfter"; readonly millis: number }

export const Done: ReconcileResult = { _tag: "Done" }

export const RequeueAfter = (duration: Duration.Input): ReconcileResult => ({
  _tag: "RequeueAfter",
  millis: Math.max(0, Duration.toMillis(duration))
})
