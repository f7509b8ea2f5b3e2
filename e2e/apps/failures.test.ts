/**
 * What goes wrong, said clearly and not looped on: a failing build (its log lines in the
 * condition), a crashing app or wrong port (a failed condition, not a time-out), a deployment
 * stuck in Coolify's queue (reported, cancelled, retried), a full deployment queue, a domain
 * another app owns, and an app deleted behind our back (created again). Logs for get_app_details.
 */
import assert from "node:assert/strict"
import { describe, test } from "node:test"
import { Effect } from "effect"
import { makeCoolifyAppLogs } from "../../controllers/app/index.ts"
import { CoolifyApi } from "../../src/providers/coolify/index.ts"
import type { CoolifyFake } from "../fakes/coolify/index.ts"
import { waitFor } from "../support/wait.ts"
import {
  conditionOf,
  coolifyAppsOf,
  createApp,
  deploymentsOf,
  findApp,
  reconcileAgain,
  updateApp,
  waitForApp,
  waitForReady,
  type App,
  type AppEngine,
  useAppTestbed
} from "./support.ts"

let fake: CoolifyFake
let engine: AppEngine
let owner: string
useAppTestbed({ login: "apps-failures", fake: { queueFullRetryAfterSeconds: 1 }, settings: { stuckQueuedMs: 1_500 } }, (testbed) => ({ fake, engine, owner } = testbed))

const onlyApp = (name: string) => {
  const apps = coolifyAppsOf(fake, owner, name)
  assert.equal(apps.length, 1, `exactly one Coolify app for ${name}`)
  return apps[0]!
}

const withReason = (type: string, reason: string) => (app: App) => conditionOf(app, type)?.reason === reason

const logs = <A>(use: (service: ReturnType<typeof makeCoolifyAppLogs>) => Effect.Effect<A>) =>
  Effect.runPromise(
    CoolifyApi.use((api) => use(makeCoolifyAppLogs(api))).pipe(Effect.provide(CoolifyApi.layer({ url: fake.url, token: fake.token })))
  )

describe("App controller: failures", () => {
  test("a failing build says why (last log lines), is not retried, and a fixed push deploys", async () => {
    fake.setSource("acme/broken", { buildError: "npm ERR! Missing script: \"build\"" })
    const created = await createApp(engine.runtime, owner, "broken", { repo: "acme/broken" })
    const failed = await waitForApp(engine.runtime, owner, "broken", withReason("Deployed", "BuildFailed"), "BuildFailed")
    const message = conditionOf(failed, "Deployed")?.message ?? ""
    assert.match(message, /failed\. Last log lines:/)
    assert.match(message, /npm ERR! Missing script: "build"/)
    assert.equal(conditionOf(failed, "Ready")?.reason, "BuildFailed")
    assert.equal(failed.status.latestDeployment?.state, "failed")

    const deployLogs = await logs((service) => service.deployLogs(failed, 5))
    assert.equal(deployLogs.available, true)
    assert.ok(deployLogs.lines.length <= 5 && deployLogs.lines.some((line) => line.includes("Missing script")))

    // A resync of the failed app starts nothing.
    await reconcileAgain(engine, owner, created.metadata.uid)
    assert.equal(deploymentsOf(fake, onlyApp("broken")).length, 1)

    fake.setSource("acme/broken", { buildError: undefined })
    const sha = "c".repeat(40)
    await updateApp(engine.runtime, owner, "broken", (spec) => ({ ...spec, revision: sha }))
    await waitForApp(engine.runtime, owner, "broken", (app) => app.status.deployedRevision === sha && conditionOf(app, "Ready")?.status === "True", "fixed and Ready")
    assert.equal(deploymentsOf(fake, onlyApp("broken")).length, 2)
  })

  test("an app that does not listen on its port ends Crashed with a message naming the port, not a time-out", async () => {
    fake.setSource("acme/crashy", { listeningPort: 8080 })
    await createApp(engine.runtime, owner, "crashy", { repo: "acme/crashy" })
    const crashed = await waitForApp(engine.runtime, owner, "crashy", withReason("Ready", "Crashed"), "Crashed")
    assert.equal(conditionOf(crashed, "Deployed")?.reason, "Crashed")
    const message = conditionOf(crashed, "Ready")?.message ?? ""
    assert.match(message, /not running \(Coolify status "exited:unhealthy"\)/)
    assert.match(message, /port 3000/)
    assert.match(message, /nothing listens on port 3000/)
    assert.match(message, /update_app with port set to the port it listens on/, "the fix is named by the tool's argument")
    assert.equal(message.includes("spec."), false)
    const runtime = await logs((service) => service.runtimeLogs(crashed, 50))
    assert.equal(runtime.available, false)
    assert.match(runtime.message ?? "", /not running/)

    await updateApp(engine.runtime, owner, "crashy", (spec) => ({ ...spec, port: 8080 }))
    const ready = await waitForReady(engine.runtime, owner, "crashy")
    assert.match(conditionOf(ready, "Ready")?.message ?? "", /Serving https:\/\/crashy\.apps\.test/)
    const running = await logs((service) => service.runtimeLogs(ready, 2))
    assert.equal(running.available, true)
    assert.equal(running.lines.length, 2)
  })

  test("a deployment stuck in Coolify's queue is reported, cancelled and queued again", async () => {
    fake.faults.stuckQueued = true
    await createApp(engine.runtime, owner, "stuck", { repo: "acme/stuck" })
    const reported = await waitForApp(
      engine.runtime,
      owner,
      "stuck",
      (app) => /stayed queued for more than .* cancelled it and queued a new one/.test(conditionOf(app, "Deployed")?.message ?? ""),
      "stuck reported"
    )
    assert.equal(conditionOf(reported, "Deployed")?.reason, "Queued")
    await waitFor(() => deploymentsOf(fake, onlyApp("stuck")).some((d) => d.status === "cancelled-by-user"), { what: "a cancelled stuck deployment" })
    fake.faults.stuckQueued = false
    await waitForReady(engine.runtime, owner, "stuck")
    const deployments = deploymentsOf(fake, onlyApp("stuck"))
    assert.equal(deployments.filter((d) => d.status === "finished").length, 1)
    assert.ok(deployments.length >= 2)
    assert.ok(deployments.every((d) => d.status === "finished" || d.status === "cancelled-by-user"))
  })

  test("a full deployment queue (429) is reported and asked again after Retry-After", async () => {
    const limit = fake.server.settings.deployment_queue_limit
    fake.server.settings.deployment_queue_limit = 0
    try {
      await createApp(engine.runtime, owner, "busy", { repo: "acme/busy" })
      const waiting = await waitForApp(engine.runtime, owner, "busy", (app) => /deployment queue is full/.test(conditionOf(app, "Deployed")?.message ?? ""), "queue full reported")
      assert.equal(waiting.status.latestDeployment, undefined)
    } finally {
      fake.server.settings.deployment_queue_limit = limit
    }
    await waitForReady(engine.runtime, owner, "busy")
    assert.equal(deploymentsOf(fake, onlyApp("busy")).length, 1)
  })

  test("a domain another app uses is refused (HostTaken) before Coolify is asked, with what to do; a new domain fixes it", async () => {
    await createApp(engine.runtime, owner, "shop-a", { repo: "acme/shop", domain: "shop.example.com" })
    await waitForReady(engine.runtime, owner, "shop-a")
    await createApp(engine.runtime, owner, "shop-b", { repo: "acme/shop", domain: "shop.example.com" })
    const refused = await waitForApp(engine.runtime, owner, "shop-b", withReason("Synced", "HostTaken"), "HostTaken")
    assert.match(conditionOf(refused, "Synced")?.message ?? "", /shop\.example\.com is already served by another app .* another domain with update_app/)
    assert.equal((conditionOf(refused, "Synced")?.message ?? "").includes("spec."), false)
    assert.equal(coolifyAppsOf(fake, owner, "shop-b").length, 0)
    await updateApp(engine.runtime, owner, "shop-b", (spec) => ({ ...spec, domain: "shop-b.example.com" }))
    const ready = await waitForReady(engine.runtime, owner, "shop-b")
    assert.equal(ready.status.url, "https://shop-b.example.com")
  })

  test("an app deleted in Coolify behind our back is created again and deployed", async () => {
    const created = await createApp(engine.runtime, owner, "drift", { repo: "acme/drift" })
    const ready = await waitForReady(engine.runtime, owner, "drift")
    const gone = onlyApp("drift")
    fake.state.applications.splice(fake.state.applications.indexOf(gone), 1)
    // As periodic resyncs would: reconcile until the shared app list is fresh enough to miss it.
    await waitFor(
      async () => {
        await reconcileAgain(engine, owner, created.metadata.uid)
        const app = await findApp(engine.runtime, owner, "drift")
        return app?.status.externalId !== ready.status.externalId
      },
      { what: "drift noticed" }
    )
    const again = await waitForApp(engine.runtime, owner, "drift", (app) => app.status.externalId !== ready.status.externalId && conditionOf(app, "Ready")?.status === "True", "recreated")
    assert.match(conditionOf(again, "Synced")?.message ?? "", /was missing .* created again/)
    assert.equal(deploymentsOf(fake, onlyApp("drift")).length, 1)
  })
})
