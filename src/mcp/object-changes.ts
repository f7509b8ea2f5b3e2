/**
 * Change signals for single objects, from the `object_changes` NOTIFY that migrations/003 sends on
 * every status write, deletion mark and delete: what `wait: true` blocks on instead of polling.
 * One LISTEN per process (PgListener); watchers are indexed by tenant and uid, so a notification
 * costs one map lookup however many calls are waiting.
 */
import { Context, Effect, Layer, Schema, type Scope } from "effect"
import type { Owner } from "../store/objects.ts"
import { PgListener } from "../db/pg-listener.ts"

export const OBJECT_CHANGES_CHANNEL = "object_changes"

/** "Something about the object may have changed": re-read it. Coalesces bursts into one wake-up. */
export interface ChangeSignal {
  /** Completes at the next change, or at once if one happened since the last `next`. */
  readonly next: Effect.Effect<void>
}

class Signal implements ChangeSignal {
  private pending = false
  private wake: (() => void) | undefined

  fire(): void {
    const wake = this.wake
    if (wake) {
      this.wake = undefined
      wake()
    } else {
      this.pending = true
    }
  }

  readonly next: Effect.Effect<void> = Effect.callback<void>((resume) => {
    if (this.pending) {
      this.pending = false
      resume(Effect.void)
      return
    }
    this.wake = () => resume(Effect.void)
    return Effect.sync(() => {
      this.wake = undefined
    })
  })
}

const ChangePayload = Schema.fromJsonString(Schema.Struct({ owner: Schema.String, uid: Schema.String }))
const decodePayload = Schema.decodeUnknownOption(ChangePayload)

export class ObjectChanges extends Context.Service<ObjectChanges, {
  /** Signals changes of the tenant's object from now until the scope closes. */
  watch(owner: Owner, uid: string): Effect.Effect<ChangeSignal, never, Scope.Scope>
}>()("deploy-mcp/mcp/ObjectChanges") {
  static readonly layer = Layer.effect(
    ObjectChanges,
    Effect.gen(function*() {
      const listener = yield* PgListener
      const watchers = new Map<string, Set<Signal>>()
      const keyOf = (owner: string, uid: string) => `${owner}/${uid}`

      yield* listener.listen(OBJECT_CHANGES_CHANNEL, {
        onMessage: (payload) => {
          const change = decodePayload(payload)
          if (change._tag === "None") return
          for (const signal of watchers.get(keyOf(change.value.owner, change.value.uid)) ?? []) signal.fire()
        },
        // Notifications may have been lost while the connection was down: everyone re-reads.
        onReset: () => {
          for (const signals of watchers.values()) for (const signal of signals) signal.fire()
        }
      })

      const watch = (owner: Owner, uid: string) =>
        Effect.acquireRelease(
          Effect.sync(() => {
            const key = keyOf(owner, uid)
            const signal = new Signal()
            const signals = watchers.get(key) ?? new Set<Signal>()
            signals.add(signal)
            watchers.set(key, signals)
            return { key, signal }
          }),
          ({ key, signal }) =>
            Effect.sync(() => {
              const signals = watchers.get(key)
              signals?.delete(signal)
              if (signals?.size === 0) watchers.delete(key)
            })
        ).pipe(Effect.map(({ signal }): ChangeSignal => signal))

      return ObjectChanges.of({ watch })
    })
  )
}
