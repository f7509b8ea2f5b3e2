/**
 * bench/webhook: latency from a signed GitHub push leaving the sender to the first provider call
 * for the new revision (p50/p99; target p50 ≤ 100 ms, issue 8), through the real server
 * (/webhooks/github: signature, delivery record, spec write + enqueue in one transaction) and a
 * real engine replica whose App controller makes a stub provider call when the revision changed
 * (the provider itself is not measured). Beside it, in the same run: the webhook's own response
 * time, and an App spec write + enqueue done directly (the floor the webhook adds to).
 *
 *   node bench/webhook.ts            (BENCH_WEBHOOK_SAMPLES=200, BENCH_WEBHOOK_APPS=1: Apps tracking the branch)
 */
import { randomBytes } from "node:crypto"
import { Effect } from "effect"
import type { Controller } from "../controllers/engine/controller.ts"
import { Done } from "../controllers/engine/result.ts"
import { appSpec } from "../e2e/github/support.ts"
import { pushEvent, randomSha, sendWebhook } from "../e2e/fakes/github/index.ts"
import { startEngine } from "../e2e/support/engine.ts"
import { createObject, updateObjectSpec } from "../src/desired/write.ts"
import { UserStore } from "../src/store/users.ts"
import { startSystem } from "../src/system/boot.ts"
import { benchDatabase, percentile, quick, report, sized } from "./support.ts"

const SAMPLES = sized("BENCH_WEBHOOK_SAMPLES", 200, 20)
const APPS = sized("BENCH_WEBHOOK_APPS", 1, 1)
const WARMUP = quick ? 3 : 10

const db = await benchDatabase()
const key = randomBytes(32)
const secret = randomBytes(20).toString("hex")
const system = await startSystem({
  env: { DATABASE_URL: db.url, DATA_ENCRYPTION_KEY: key.toString("base64"), PORT: "0", LOG_LEVEL: "silent", CONTROLLERS: "off", GITHUB_WEBHOOK_SECRET: secret }
})

/** Revisions the stub provider was asked to deploy, resolved as the calls arrive. */
const providerCalls = new Map<string, () => void>()
const lastDeployed = new Map<string, string | null>()
const stubProvider = { deploy: (revision: string) => providerCalls.get(revision)?.() }
const appController: Controller<"App", never, never> = {
  kind: "App",
  reconcile: (app) =>
    Effect.sync(() => {
      if (app.spec.revision !== null && lastDeployed.get(app.metadata.uid) !== app.spec.revision) {
        lastDeployed.set(app.metadata.uid, app.spec.revision)
        stubProvider.deploy(app.spec.revision)
      }
      return Done
    })
}
const engine = await startEngine({ url: db.url, key, engine: { concurrency: 8 } }, [appController])

const owner = (await system.runtime.runPromise(UserStore.use((users) => users.upsertGitHub(1, "bench")))).id
for (let i = 0; i < APPS; i++) await system.runtime.runPromise(createObject(owner, { kind: "App", name: `app-${i}`, spec: appSpec("bench/site") }))

const pushToFirstCall: Array<number> = []
const webhookResponse: Array<number> = []
for (let i = 0; i < WARMUP + SAMPLES; i++) {
  const sha = randomSha()
  const called = new Promise<void>((resolve) => providerCalls.set(sha, resolve))
  const started = performance.now()
  const answer = await sendWebhook({ url: `${system.url}/webhooks/github`, secret, event: "push", payload: pushEvent({ repoFullName: "bench/site", ref: "main", after: sha }) })
  const responded = performance.now()
  if (answer.status !== 200) throw new Error(`webhook answered ${answer.status}: ${answer.body}`)
  await called
  providerCalls.delete(sha)
  if (i >= WARMUP) {
    webhookResponse.push(responded - started)
    pushToFirstCall.push(performance.now() - started)
  }
}

// The floor: the same spec write + enqueue without HTTP, signature or delivery record.
const directToFirstCall: Array<number> = []
for (let i = 0; i < SAMPLES; i++) {
  const sha = randomSha()
  const called = new Promise<void>((resolve) => providerCalls.set(sha, resolve))
  const started = performance.now()
  await system.runtime.runPromise(updateObjectSpec(owner, { kind: "App", name: "app-0" }, (spec) => ({ ...spec, revision: sha })))
  await called
  providerCalls.delete(sha)
  directToFirstCall.push(performance.now() - started)
}

await engine.dispose()
await system.stop()
await db.close()

report("bench/webhook", [
  { measure: "push → first provider call p50 (ms)", webhook: percentile(pushToFirstCall, 50), direct_write: percentile(directToFirstCall, 50), target: "<= 100" },
  { measure: "push → first provider call p99 (ms)", webhook: percentile(pushToFirstCall, 99), direct_write: percentile(directToFirstCall, 99) },
  { measure: "webhook response p50 (ms)", webhook: percentile(webhookResponse, 50) },
  { measure: "webhook response p99 (ms)", webhook: percentile(webhookResponse, 99), samples: SAMPLES, apps_tracking_branch: APPS }
])
process.stdout.write("", () => process.exit(0))
