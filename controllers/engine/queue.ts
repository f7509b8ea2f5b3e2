/**
 * The reconcile queue: one pg-boss queue per kind, carrying object keys (never commands).
 *
 * Choices, measured in controllers/engine/engine.test.ts and bench/engine:
 * - policy `stately` with singletonKey = object uid: at most one queued and one active job per key.
 *   That is both per-key exclusivity across replicas (pg-boss will not activate a second job for a
 *   key while one is active) and the collapse of duplicate enqueues (sends while one is queued are
 *   no-ops), all enforced by unique indexes in PostgreSQL rather than by worker memory.
 * - errors use pg-boss retries with exponential backoff and jitter (retryDelay 1 s, capped at
 *   5 min); success starts the next job at retryCount 0, which is the reset.
 * - heartbeats: a worker that dies mid-reconcile stops heartbeating; the monitor fails the job after
 *   `heartbeatSeconds` and it is retried by any live replica, instead of waiting out a long expiry.
 * - `notify: true` + `useListenNotify`: a committed send wakes workers through LISTEN/NOTIFY.
 */
import { Context, Effect, Layer, Option, Schema } from "effect"
import { PgBoss, type Db } from "pg-boss"
import type { Kind } from "../../schemas/index.ts"
import { Database } from "../../src/db/database.ts"
import type { ObjectKey } from "../../src/store/objects.ts"
import { currentTraceparent } from "../../src/observability/trace-context.ts"
import { AppLogger } from "../../src/log/service.ts"

export class QueueError extends Schema.TaggedError<QueueError>()("QueueError", {
  message: Schema.String
}) {}

/** Kinds the engine reconciles; more than the object kinds (e.g. GitHub sources) may join later. */
export type QueueKind = Kind | (string & {})

export const queueName = (kind: QueueKind) => `reconcile-${kind.toLowerCase()}`

export interface JobData extends ObjectKey {
  /** W3C traceparent of the write that enqueued it, so the reconcile joins that trace. */
  readonly traceparent?: string
}

export interface QueueOptions {
  readonly connectionString: string
  readonly schema?: string
  /** Seconds without a heartbeat before a crashed worker's job is retried elsewhere (>= 10). */
  readonly heartbeatSeconds?: number
  /** How often the pg-boss monitor looks for jobs whose heartbeat lapsed. */
  readonly monitorIntervalSeconds?: number
  readonly retryDelayMaxSeconds?: number
  readonly max?: number
}

/**
 * At most one report per `intervalMs`: while the database is down every worker's poll fails, and
 * one line per failure would bury the log. The next report counts the ones it swallowed.
 */
const throttled = (intervalMs: number, report: (error: unknown, suppressed: number) => void) => {
  let last = 0
  let suppressed = 0
  return (error: unknown) => {
    const now = Date.now()
    if (now - last < intervalMs) {
      suppressed++
      return
    }
    last = now
    report(error, suppressed)
    suppressed = 0
  }
}

export const RETRY_POLICY = { retryLimit: 1_000_000, retryDelay: 1, retryBackoff: true } as const

export class ReconcileQueue extends Context.Service<ReconcileQueue, {
  readonly boss: PgBoss
  readonly options: Required<Omit<QueueOptions, "connectionString" | "max">>
  /** Creates the queue for a kind (idempotent). */
  ensureQueue(kind: QueueKind): Effect.Effect<void, QueueError>
  /**
   * Enqueue a key to be reconciled now. Runs on the current transaction's client, so it commits or
   * rolls back with the desired-state write. A key that is already queued (even deferred by a
   * backoff) is moved to now rather than duplicated.
   */
  enqueue(kind: QueueKind, key: JobData): Effect.Effect<void, QueueError>
  /** Enqueue to run after `millis`; a job already waiting for the key runs then at the latest. */
  enqueueAfter(kind: QueueKind, key: JobData, millis: number): Effect.Effect<void, QueueError>
}>()("deploy-mcp/controllers/engine/ReconcileQueue") {
  static readonly layer = (options: QueueOptions) =>
    Layer.effect(
      ReconcileQueue,
      Effect.gen(function*() {
        const database = yield* Database
        const settings = {
          schema: options.schema ?? "pgboss",
          heartbeatSeconds: options.heartbeatSeconds ?? 10,
          monitorIntervalSeconds: options.monitorIntervalSeconds ?? 2,
          retryDelayMaxSeconds: options.retryDelayMaxSeconds ?? 300
        }
        const boss = new PgBoss({
          connectionString: options.connectionString,
          schema: settings.schema,
          max: options.max ?? 10,
          useListenNotify: true,
          // The monitor (which fails jobs whose heartbeat lapsed) runs inside the supervise pass.
          monitorIntervalSeconds: settings.monitorIntervalSeconds,
          superviseIntervalSeconds: settings.monitorIntervalSeconds,
          application_name: "deploy-mcp-queue"
        })
        // pg-boss reports connection trouble (a database restart) as events and keeps polling, so
        // its workers resume once the database is back; an 'error' nobody listens to would kill us.
        const logger = Option.getOrUndefined(yield* Effect.serviceOption(AppLogger))
        const reportError = throttled(5_000, (error: unknown, suppressed: number) =>
          logger?.warn({ err: error, ...(suppressed ? { suppressed } : {}) }, "job queue database error; pg-boss retries")
        )
        boss.on("error", reportError)
        boss.on("warning", (warning) => logger?.warn({ warning }, "job queue warning"))
        yield* Effect.acquireRelease(
          Effect.tryPromise({ try: () => boss.start(), catch: (cause) => new QueueError({ message: `pg-boss did not start: ${String(cause)}` }) }),
          () => Effect.promise(() => boss.stop({ graceful: false, close: true }).catch(() => undefined))
        )
        const created = new Set<string>()
        const ensureQueue = (kind: QueueKind) =>
          created.has(kind)
            ? Effect.void
            : Effect.tryPromise({
                try: async () => {
                  const name = queueName(kind)
                  const existing = await boss.getQueue(name)
                  if (!existing) {
                    await boss
                      .createQueue(name, {
                        policy: "stately",
                        notify: true,
                        heartbeatSeconds: settings.heartbeatSeconds,
                        retryDelayMax: settings.retryDelayMaxSeconds,
                        deleteAfterSeconds: 3600,
                        ...RETRY_POLICY
                      })
                      .catch(async (error: unknown) => {
                        // Two replicas creating the same queue at once: the loser finds it there.
                        if (!(await boss.getQueue(name))) throw error
                      })
                  }
                  created.add(kind)
                },
                catch: (cause) => new QueueError({ message: `could not create queue for ${kind}: ${String(cause)}` })
              })

        /** pg-boss joins our transaction through its `db` option. */
        const currentDb: Effect.Effect<Db> = Effect.map(database.currentClient, (client) => ({
          executeSql: (text: string, values?: Array<unknown>) => client.query(text, values)
        }))

        /** The job carries the enqueuing span as its traceparent, so the reconcile joins that trace. */
        const withTrace = (key: JobData) =>
          key.traceparent
            ? Effect.succeed<JobData>({ ...key })
            : Effect.map(currentTraceparent, (traceparent): JobData => (traceparent ? { ...key, traceparent } : { ...key }))

        const enqueue = (kind: QueueKind, key: JobData) =>
          Effect.gen(function*() {
            yield* ensureQueue(kind)
            const db = yield* currentDb
            const data = yield* withTrace(key)
            yield* Effect.tryPromise({
              try: async () => {
                // A plain send is due at once and fires the queue's NOTIFY. It returns null when a
                // job for the key is already waiting (maybe deferred by backoff): move that one to now.
                const sent = await boss.send(queueName(kind), data, { singletonKey: key.uid, db, ...RETRY_POLICY })
                if (sent === null) await boss.update(queueName(kind), undefined, { singletonKey: key.uid, startAfter: new Date(), match: "all", db })
              },
              catch: (cause) => new QueueError({ message: `could not enqueue ${kind} ${key.uid}: ${String(cause)}` })
            })
          }).pipe(Effect.withSpan(`enqueue ${kind}`, { kind: "producer", attributes: { "deploy.kind": kind, "deploy.uid": key.uid } }))

        const enqueueAfter = (kind: QueueKind, key: JobData, millis: number) =>
          Effect.gen(function*() {
            yield* ensureQueue(kind)
            const db = yield* currentDb
            const data = yield* withTrace(key)
            yield* Effect.tryPromise({
              try: async () => {
                const due = new Date(Date.now() + millis)
                const sent = await boss.send(queueName(kind), data, { singletonKey: key.uid, startAfter: due, db, ...RETRY_POLICY })
                if (sent !== null) return
                // A job for the key is already waiting. If it is due later (a resync spread, a
                // backoff), move it earlier so a RequeueAfter poll is never delayed; never later.
                const waiting = await boss.findJobs(queueName(kind), { key: key.uid, queued: true, db })
                for (const job of waiting) {
                  if (job.startAfter.getTime() > due.getTime()) await boss.update(queueName(kind), undefined, { id: job.id, startAfter: due, db })
                }
              },
              catch: (cause) => new QueueError({ message: `could not enqueue ${kind} ${key.uid}: ${String(cause)}` })
            })
          })

        return ReconcileQueue.of({ boss, options: settings, ensureQueue, enqueue, enqueueAfter })
      })
    )
}
