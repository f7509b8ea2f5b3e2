/**
 * Deployments running in the background of this process, one fiber each, keyed by deployment id.
 * A reconcile starts one and returns at once (builds take minutes; a worker is not held for them);
 * the job wakes the app when it ends, and the next reconcile reads its outcome. Starting a job
 * that already runs is a no-op, so a reconcile may ask any number of times.
 */
import { Effect, Fiber } from "effect"
import type { DeploymentEnvironment, DeploymentRequest } from "./deployment.ts"
import { runDeployment } from "./deployment.ts"
import type { DeploymentJob } from "./local-runtime.ts"

export const makeDeploymentJobs = (environment: DeploymentEnvironment, wake: (owner: string, uid: string) => void) => {
  const jobs = new Map<string, DeploymentJob & { readonly uid: string; fiber?: Fiber.Fiber<unknown, unknown> }>()

  const start = (request: DeploymentRequest) => {
    if (jobs.has(request.deploymentId)) return
    const entry: DeploymentJob & { uid: string; step: DeploymentJob["step"]; outcome?: DeploymentJob["outcome"]; fiber?: Fiber.Fiber<unknown, unknown> } = { uid: request.uid, step: "fetching" }
    jobs.set(request.deploymentId, entry)
    // Only the newest deployment of an app matters: an older one still running is superseded.
    for (const [id, other] of jobs) {
      if (id === request.deploymentId || other.uid !== request.uid) continue
      if (other.outcome === undefined && other.fiber) Effect.runFork(Fiber.interrupt(other.fiber))
      jobs.delete(id)
    }
    entry.fiber = Effect.runFork(
      runDeployment(request, environment, (step) => {
        entry.step = step
      }).pipe(
        Effect.catchCause((cause) => Effect.succeed({ _tag: "Failed" as const, reason: "BuildFailed" as const, message: `the deployment stopped unexpectedly (${String(cause).slice(0, 300)})` })),
        Effect.tap((outcome) =>
          Effect.sync(() => {
            entry.outcome = outcome
            wake(request.owner, request.uid)
          })
        )
      )
    )
  }

  const cancelApp = (uid: string) =>
    Effect.forEach([...jobs.entries()].filter(([, job]) => job.uid === uid), ([id, job]) =>
      Effect.gen(function*() {
        jobs.delete(id)
        if (job.fiber) yield* Fiber.interrupt(job.fiber)
      }), { discard: true })

  /** Ends every running deployment (the server stops): their apps rerun them at the next start. */
  const stopAll = Effect.forEach([...jobs.values()], (job) => (job.fiber ? Fiber.interrupt(job.fiber) : Effect.void), { discard: true })

  return { get: (deploymentId: string) => jobs.get(deploymentId), start, cancelApp, stopAll }
}
