/**
 * Periodic resync: every object of a kind is enqueued again at least every `periodSeconds`, so
 * drift made outside the system is caught. Replicas take turns through a claim row per kind, and
 * the enqueues are spread over a tenth of the period so a resync is never a thundering herd.
 */
import { Effect, Schedule } from "effect"
import { Database } from "../../src/db/database.ts"
import { ObjectStore } from "../../src/store/objects.ts"
import { ReconcileQueue, type QueueKind } from "./queue.ts"
import type { Kind } from "../../schemas/index.ts"

export const claimResync = (kind: QueueKind, periodSeconds: number) =>
  Effect.gen(function*() {
    const db = yield* Database
    const claimed = yield* db.query(
      `INSERT INTO engine_resync (kind, last_run) VALUES ($1, now())
       ON CONFLICT (kind) DO UPDATE SET last_run = now()
        WHERE engine_resync.last_run < now() - make_interval(secs => $2)
       RETURNING kind`,
      [kind, periodSeconds * 0.9]
    )
    return claimed.rows.length > 0
  })

export const resyncKind = (kind: Kind, spreadMillis: number) =>
  Effect.gen(function*() {
    const store = yield* ObjectStore
    const queue = yield* ReconcileQueue
    const keys = yield* store.listKeysForResync(kind)
    yield* Effect.forEach(keys, (key) => queue.enqueueAfter(kind, key, Math.floor(Math.random() * spreadMillis)), { concurrency: 8, discard: true })
    return keys.length
  })

export const startResync = (kinds: ReadonlyArray<Kind>, periodSeconds: number) =>
  Effect.forEach(kinds, (kind) =>
    Effect.gen(function*() {
      const claimed = yield* claimResync(kind, periodSeconds)
      if (claimed) yield* resyncKind(kind, periodSeconds * 100)
    }).pipe(
      Effect.catchCause(() => Effect.void),
      // Jitter: replicas that started together drift apart instead of contending every period.
      Effect.repeat(Schedule.spaced(`${Math.max(1, Math.round(periodSeconds / 4))} seconds`).pipe(Schedule.jittered)),
      Effect.forkScoped
    ), { discard: true })

/**
 * Reconcile every object of a kind soon (spread over `spreadMillis`) when the configuration it was
 * reconciled under changed — e.g. an operator set COOLIFY_URL and restarted. The first replica to
 * record the new fingerprint does it; the others find it recorded.
 */
export const resyncOnConfigChange = (kinds: ReadonlyArray<Kind>, fingerprint: string, spreadMillis: number) =>
  Effect.forEach(kinds, (kind) =>
    Effect.gen(function*() {
      const db = yield* Database
      const changed = yield* db.query(
        `INSERT INTO engine_config (kind, fingerprint) VALUES ($1, $2)
         ON CONFLICT (kind) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, changed_at = now()
          WHERE engine_config.fingerprint <> EXCLUDED.fingerprint
         RETURNING (xmax <> 0) AS replaced`,
        [kind, fingerprint]
      )
      // A first record (no earlier fingerprint) is a fresh install or a first start: nothing is stale.
      if (changed.rows[0]?.["replaced"] === true) yield* resyncKind(kind, spreadMillis)
    }), { discard: true })
