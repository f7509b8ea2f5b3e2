/**
 * Deployments step by step (the Coolify fake on a manual clock): Queued, then Building with the
 * build's last log line, then Deployed and Ready — each reported as it happens and recorded as an
 * event. And Coolify's duplicate quirk: a deploy of a commit already queued is skipped with a
 * deployment uuid that never resolves; the controller follows the queued one instead.
 */
import assert from "node:assert/strict"
import { describe, test } from "node:test"
import { Effect } from "effect"
import { EventStore } from "../../src/store/events.ts"
import { CoolifyApi } from "../../src/providers/coolify/index.ts"
import type { CoolifyFake } from "../fakes/coolify/index.ts"
import {
  conditionOf,
  coolifyAppsOf,
  createApp,
  deleteApp,
  deploymentsOf,
  updateApp,
  waitForApp,
  waitForGone,
  type App,
  type AppEngine,
  useAppTestbed
} from "./support.ts"

let fake: CoolifyFake
let engine: AppEngine
let owner: string
useAppTestbed({ login: "apps-progress", fake: { clock: "manual", buildSteps: 3 } }, (testbed) => ({ fake, engine, owner } = testbed))

const deployedReason = (reason: string, pattern?: RegExp) => (app: App) =>
  conditionOf(app, "Deployed")?.reason === reason && (pattern === undefined || pattern.test(conditionOf(app, "Deployed")?.message ?? ""))

describe("App controller: deployment progress", () => {
  test("Queued → Building (last log line) → Deployed → Ready, each reported and recorded as an event", async () => {
    const created = await createApp(engine.runtime, owner, "steps", { repo: "acme/steps" })
    const queued = await waitForApp(engine.runtime, owner, "steps", deployedReason("Queued"), "Queued")
    assert.equal(conditionOf(queued, "Ready")?.reason, "Queued")
    assert.equal(queued.status.latestDeployment?.state, "queued")

    fake.advance() // queued → in_progress
    fake.advance() // one build step: "Building docker image (…)"
    const building = await waitForApp(engine.runtime, owner, "steps", deployedReason("Building", /last log line: Building docker image/), "Building")
    assert.equal(building.status.latestDeployment?.state, "in_progress")

    fake.settle()
    const ready = await waitForApp(engine.runtime, owner, "steps", (app) => conditionOf(app, "Ready")?.status === "True", "Ready")
    assert.equal(conditionOf(ready, "Deployed")?.reason, "Deployed")
    assert.equal(ready.status.latestDeployment?.state, "finished")
    const events = await engine.runtime.runPromise(EventStore.use((store) => store.list(owner, created.metadata.uid)))
    const reasons = new Set(events.map((event) => event.reason))
    for (const reason of ["Created", "Queued", "Building", "Deployed", "Running"]) assert.ok(reasons.has(reason), `event ${reason} in ${[...reasons].join(", ")}`)
  })

  test("a deploy Coolify skips as a duplicate (uuid that 404s) follows the deployment already queued", async () => {
    await createApp(engine.runtime, owner, "dup", { repo: "acme/dup" })
    await waitForApp(engine.runtime, owner, "dup", deployedReason("Queued"), "Queued")
    fake.settle()
    await waitForApp(engine.runtime, owner, "dup", (app) => conditionOf(app, "Ready")?.status === "True", "Ready")
    const [coolifyApp] = coolifyAppsOf(fake, owner, "dup")
    assert.ok(coolifyApp)

    // Someone (Coolify's UI, a webhook) queues the same commit; the clock is stopped, so it stays queued.
    const queuedElsewhere = await Effect.runPromise(
      CoolifyApi.use((api) => api.deploy({ uuid: coolifyApp.uuid })).pipe(Effect.provide(CoolifyApi.layer({ url: fake.url, token: fake.token })))
    )
    const keptId = queuedElsewhere[0]?.deploymentUuid
    assert.ok(keptId)

    await updateApp(engine.runtime, owner, "dup", (spec) => ({ ...spec, redeployNonce: spec.redeployNonce + 1 }))
    const following = await waitForApp(engine.runtime, owner, "dup", (app) => app.status.latestDeployment?.id === keptId, "following the queued deployment")
    assert.match(conditionOf(following, "Deployed")?.message ?? "", /Coolify merged deployment \S+ .* into .*; following it/)
    assert.equal(following.status.latestDeployment?.redeployNonce, 1)

    fake.settle()
    await waitForApp(engine.runtime, owner, "dup", (app) => app.status.latestDeployment?.state === "finished" && conditionOf(app, "Ready")?.status === "True", "Ready again")
    assert.equal(deploymentsOf(fake, coolifyApp).length, 2, "the first deployment and the one queued elsewhere; no third")
  })

  test("deleting an app mid-deployment cancels the deployment, deletes the app with its volumes, then the row", async () => {
    await createApp(engine.runtime, owner, "midway", { repo: "acme/midway" })
    const queued = await waitForApp(engine.runtime, owner, "midway", deployedReason("Queued"), "Queued")
    const [coolifyApp] = coolifyAppsOf(fake, owner, "midway")
    assert.ok(coolifyApp)
    await deleteApp(engine.runtime, owner, "midway")
    const deleting = await waitForApp(engine.runtime, owner, "midway", (app) => conditionOf(app, "Synced")?.reason === "Deleting", "Deleting")
    assert.equal(deleting.status.latestDeployment?.state, "cancelled")
    assert.equal(deploymentsOf(fake, coolifyApp).find((d) => d.uuid === queued.status.latestDeployment?.id)?.status, "cancelled-by-user")
    fake.settle() // Coolify's delete job runs
    await waitForGone(engine.runtime, owner, "midway")
    assert.equal(coolifyAppsOf(fake, owner, "midway").length, 0)
    assert.equal(fake.state.deletions.find((deletion) => deletion.uuid === coolifyApp.uuid)?.options.delete_volumes, true)
  })
})
