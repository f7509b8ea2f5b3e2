/**
 * The controller manager: runs each controller on its kind's queue.
 *
 * For every job the engine reads the object fresh, routes it to reconcile or finalize, manages the
 * controller's finalizer, and turns the result into queue operations:
 *   Done → complete · RequeueAfter(d) → complete + deferred enqueue · typed error → pg-boss retry
 *   with exponential backoff · Conflict (someone wrote since we read) → complete; the writer's own
 *   enqueue guarantees a fresh reconcile.
 */
import { Cause, Context, Effect, Exit, Fiber, Layer, Option } from "effect"
import type { Job, JobResult } from "pg-boss"
import type { Kind } from "../../schemas/index.ts"
import { ObjectStore, type StoredObject } from "../../src/store/objects.ts"
import type { AnyController, Controller } from "./controller.ts"
import { noMetrics, type EngineMetrics, type ReconcileOutcome } from "./metrics.ts"
import { ReconcileQueue, queueName, type JobData } from "./queue.ts"
import { Done, RequeueAfter, type ReconcileResult } from "./result.ts"
import { resyncOnConfigChange, startResync } from "./resync.ts"
import { spanFromTraceparent } from "../../src/observability/trace-context.ts"

export interface EngineOptions {
  /** Reconciles running at once per kind in this replica. */
  readonly concurrency?: number
  /** Every object of every kind is reconciled at least this often (jittered), to catch drift. */
  readonly resyncSeconds?: number
  /** How long shutdown waits for in-flight reconciles before interrupting them. */
  readonly shutdownTimeoutMs?: number
  /** Fallback poll when LISTEN/NOTIFY is unavailable, and for deferred (RequeueAfter/backoff) jobs. */
  readonly pollingIntervalSeconds?: number
  readonly metrics?: EngineMetrics
  /**
   * Digest of the configuration the controllers act under (providers, runtime); when it differs
   * from the one recorded for a kind, every object of the kind is reconciled at once.
   */
  readonly configFingerprint?: string
}

type Outcome = { readonly result: ReconcileResult; readonly outcome: ReconcileOutcome }

const outcomeOf = (result: ReconcileResult): ReconcileOutcome => (result._tag === "Done" ? "done" : "requeue")

/** One job: read the object, then reconcile, finalize, or do nothing. */
export const reconcileKey = <K extends Kind, E, R>(controller: Controller<K, E, R>, key: JobData) =>
  Effect.gen(function*() {
    const store = yield* ObjectStore
    const found = yield* store.getByUid(key.owner, key.uid)
    if (Option.isNone(found)) return { result: Done, outcome: "missing" } satisfies Outcome
    let object = found.value as StoredObject<K>
    const finalizer = controller.finalizer
    if (object.metadata.deletionTimestamp) {
      if (!finalizer || !object.metadata.finalizers.includes(finalizer)) return { result: Done, outcome: "done" } satisfies Outcome
      const result = controller.finalize ? yield* controller.finalize(object) : Done
      if (result._tag === "Done") {
        yield* store.removeFinalizer(key.owner, key.uid, finalizer)
        return { result, outcome: "finalized" } satisfies Outcome
      }
      return { result, outcome: outcomeOf(result) } satisfies Outcome
    }
    if (finalizer && !object.metadata.finalizers.includes(finalizer)) {
      object = (yield* store.updateMetadata(key.owner, key.uid, object.metadata.resourceVersion, { addFinalizers: [finalizer] })) as StoredObject<K>
    }
    const result = yield* controller.reconcile(object)
    return { result, outcome: outcomeOf(result) } satisfies Outcome
  })

/**
 * A job's reconcile as a span: the child of the span that enqueued the key (its traceparent), so a
 * tool call, its transaction, the reconcile and the provider calls share one trace; a key with no
 * traceparent (resync) starts a trace of its own.
 */
const traced = <A, E, R>(kind: string, job: Job<JobData>, effect: Effect.Effect<A, E, R>) => {
  const parent = spanFromTraceparent(job.data.traceparent)
  return Effect.withSpan(effect, `reconcile ${kind}`, {
    kind: "consumer",
    attributes: { "deploy.kind": kind, "deploy.uid": job.data.uid, "deploy.owner": job.data.owner, "job.id": job.id, "job.retry_count": job.retryCount },
    ...(parent ? { parent } : { root: true })
  })
}

/** What pg-boss records on a failed job: the typed error's tag and message. */
const failureMessage = (cause: Cause.Cause<unknown>) => {
  const error = Cause.squash(cause) as { _tag?: string; message?: string }
  return `${error?._tag ?? "Error"}: ${error?.message ?? String(error)}`
}

const isConflict = (cause: Cause.Cause<unknown>) =>
  Option.match(Cause.findErrorOption(cause), { onNone: () => false, onSome: (error) => (error as { _tag?: string })?._tag === "Conflict" })

/**
 * Layer that runs the given controllers for as long as it is alive. Releasing it stops fetching,
 * lets in-flight reconciles finish (up to shutdownTimeoutMs), then interrupts the rest, whose
 * jobs fail and are retried by another replica.
 */
export const runControllers = <R>(controllers: ReadonlyArray<AnyController<R>>, options: EngineOptions = {}) =>
  Layer.effectDiscard(
    Effect.gen(function*() {
      const queue = yield* ReconcileQueue
      const context = yield* Effect.context<R | ObjectStore | ReconcileQueue>()
      const metrics = options.metrics ?? noMetrics
      const inFlight = new Set<Fiber.Fiber<unknown, unknown>>()
      const concurrency = options.concurrency ?? 4
      const workers: Array<{ readonly queue: string; readonly id: string }> = []

      /** One job to its outcome; never throws, so one failing key cannot fail its batch-mates. */
      const handleJob = async (controller: AnyController<R>, job: Job<JobData>): Promise<JobResult> => {
        const started = performance.now()
        const fiber = Effect.runForkWith(context)(traced(controller.kind, job, reconcileKey(controller, job.data)))
        inFlight.add(fiber)
        const abort = () => Effect.runFork(Fiber.interrupt(fiber))
        job.signal.addEventListener("abort", abort, { once: true })
        const exit = await Effect.runPromise(Fiber.await(fiber)).finally(() => {
          inFlight.delete(fiber)
          job.signal.removeEventListener("abort", abort)
        })
        const seconds = (performance.now() - started) / 1000
        try {
          if (Exit.isSuccess(exit)) {
            metrics.reconciled(controller.kind, exit.value.outcome, seconds)
            if (exit.value.result._tag === "RequeueAfter") {
              await Effect.runPromiseWith(context)(queue.enqueueAfter(controller.kind, job.data, exit.value.result.millis))
            }
            return { id: job.id, status: "completed" }
          }
          if (isConflict(exit.cause)) {
            metrics.reconciled(controller.kind, "conflict", seconds)
            await Effect.runPromiseWith(context)(queue.enqueueAfter(controller.kind, job.data, 0))
            return { id: job.id, status: "completed" }
          }
          metrics.reconciled(controller.kind, "error", seconds)
          metrics.backoff(controller.kind, job.retryCount + 1)
          return { id: job.id, status: "failed", output: { name: "ReconcileFailed", message: failureMessage(exit.cause) } }
        } catch (error) {
          // The requeue itself failed (database trouble): fail the job so pg-boss retries it.
          return { id: job.id, status: "failed", output: { name: "RequeueFailed", message: String(error) } }
        }
      }

      const handle = (controller: AnyController<R>) => (jobs: Array<Job<JobData>>) =>
        Promise.all(jobs.map((job) => handleJob(controller, job)))

      for (const controller of controllers) {
        yield* queue.ensureQueue(controller.kind)
        const id = yield* Effect.promise(() =>
          queue.boss.work<JobData>(
            queueName(controller.kind),
            {
              // Fetch loops of two keys each, reconciled concurrently. A loop refetches only when
              // its whole batch is done, so batches stay small: one slow provider call holds back at
              // most one other key. batchSize 1 would be worse: pg-boss never bursts on it, so a
              // backlog drains one key per loop per poll. With burstWhenBatchFull a loop refetches
              // at once while the backlog lasts, and waits for NOTIFY once a fetch comes back short.
              batchSize: Math.min(2, concurrency),
              localConcurrency: Math.max(1, Math.ceil(concurrency / 2)),
              perJobResults: true,
              burstWhenBatchFull: true,
              pollingIntervalSeconds: options.pollingIntervalSeconds ?? 1,
              notifyPollingIntervalSeconds: options.pollingIntervalSeconds ?? 1
            },
            handle(controller)
          )
        )
        workers.push({ queue: queueName(controller.kind), id })
      }

      yield* startResync(
        controllers.map((controller) => controller.kind),
        options.resyncSeconds ?? 600
      )
      if (options.configFingerprint !== undefined) {
        // Best effort: a database hiccup here leaves the periodic resync to catch up.
        yield* resyncOnConfigChange(controllers.map((controller) => controller.kind), options.configFingerprint, 2_000).pipe(Effect.catchCause(() => Effect.void))
      }

      yield* Effect.addFinalizer(() =>
        Effect.promise(async () => {
          await Promise.all(workers.map((worker) => queue.boss.offWork(worker.queue, { id: worker.id, wait: false }).catch(() => undefined)))
          const deadline = Date.now() + (options.shutdownTimeoutMs ?? 10_000)
          const pending = [...inFlight]
          const finished = Promise.all(pending.map((fiber) => Effect.runPromise(Fiber.await(fiber))))
          const timedOut = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), Math.max(0, deadline - Date.now())).unref())
          if ((await Promise.race([finished, timedOut])) === "timeout") {
            await Promise.all([...inFlight].map((fiber) => Effect.runPromise(Fiber.interrupt(fiber))))
          }
        })
      )
    })
  )

export type { Controller }
export { RequeueAfter }
