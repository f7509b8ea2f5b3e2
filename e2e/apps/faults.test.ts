/**
 * Coolify misbehaving — 30% 5xx, 429 bursts with Retry-After, latency, requests that never answer
 * — and the App controller still converges: one Coolify app and one deployment per App, a number
 * of calls bounded per app, and silence once everything is Ready (no hot loop).
 */
import assert from "node:assert/strict"
import { describe, test } from "node:test"
import type { CoolifyFake } from "../fakes/coolify/index.ts"
import { waitFor } from "../support/wait.ts"
import { conditionOf, coolifyAppsOf, createApp, deploymentsOf, waitForReady, type AppEngine, useAppTestbed } from "./support.ts"

let fake: CoolifyFake
let engine: AppEngine
let owner: string
useAppTestbed(
  {
    login: "apps-faults",
    fake: { seed: 7 },
    // A short per-call timeout so a request Coolify never answers costs half a second, not fifteen.
    coolify: { timeoutMs: 500, retryBaseDelayMs: 10 }
  },
  (testbed) => ({ fake, engine, owner } = testbed)
)

/** No reconcile of an App due or running (pg-boss's own table, not its cached counts). */
const queueIdle = async () => {
  const result = await engine.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'reconcile-app' AND (state = 'active' OR (state IN ('created', 'retry') AND start_after <= now() + interval '2 seconds'))`
  )
  return result.rows[0]?.n === 0
}

const assertOneAppOneDeployment = (names: ReadonlyArray<string>) => {
  for (const name of names) {
    const apps = coolifyAppsOf(fake, owner, name)
    assert.equal(apps.length, 1, `${name}: exactly one Coolify app`)
    const deployments = deploymentsOf(fake, apps[0])
    assert.equal(deployments.length, 1, `${name}: exactly one deployment`)
    assert.equal(deployments[0]?.status, "finished")
  }
}

describe("App controller: injected faults", () => {
  test("a create and a deploy whose answers never come are neither lost nor doubled", async () => {
    fake.faults.hangNext({ endpoint: "POST /applications/public" })
    await createApp(engine.runtime, owner, "hung-create", { repo: "acme/hung-create" })
    await waitForReady(engine.runtime, owner, "hung-create")
    fake.faults.hangNext({ endpoint: "POST /deploy" })
    await createApp(engine.runtime, owner, "hung-deploy", { repo: "acme/hung-deploy" })
    const ready = await waitForReady(engine.runtime, owner, "hung-deploy")
    assert.equal(conditionOf(ready, "Synced")?.status, "True")
    assertOneAppOneDeployment(["hung-create", "hung-deploy"])
  })

  test("30% 5xx, 429 bursts and latency: every app converges, calls stay bounded, then stop", async (t) => {
    const names = Array.from({ length: 8 }, (_, index) => `flaky-${index}`)
    fake.calls.reset()
    fake.faults.serverErrorRate = 0.3
    fake.faults.latencyMs = 20
    fake.faults.rateLimitBurst({ count: 4, retryAfterSeconds: 1, endpoint: "GET /applications" })
    fake.faults.rateLimitBurst({ count: 3, retryAfterSeconds: 1, endpoint: "POST /deploy" })
    for (const name of names) await createApp(engine.runtime, owner, name, { repo: `acme/${name}`, env: { NAME: name } })
    for (const name of names) await waitForReady(engine.runtime, owner, name, 60_000)
    fake.faults.clear()
    assertOneAppOneDeployment(names)

    const byEndpoint = fake.calls.byEndpoint()
    const total = fake.calls.entries.length
    t.diagnostic(`${total} Coolify calls for ${names.length} apps: ${JSON.stringify(byEndpoint)}`)
    // Without faults a new app costs create + env + deploy + the deployment's end (4) plus shared lists.
    assert.ok(total <= names.length * 25, `bounded: ${total} calls for ${names.length} apps: ${JSON.stringify(byEndpoint)}`)
    assert.ok((byEndpoint["POST /applications/public"] ?? 0) <= names.length * 4, "creates retried only after failures")

    // Converged means quiet: nothing left to do, no call after the last reconcile.
    await waitFor(queueIdle, { what: "no reconcile due", timeoutMs: 30_000 })
    const settled = fake.calls.entries.length
    await waitFor(queueIdle, { what: "still idle" })
    assert.equal(fake.calls.entries.length, settled)
  })
})
