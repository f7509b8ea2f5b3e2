/**
 * SIGKILL at each step of an App's life: an engine replica in a child process is killed while a
 * proxy holds one of its Coolify calls — before Coolify saw it, or after Coolify acted but before
 * the answer arrived (the "lost answer"). A fresh replica then takes over. Whatever the step:
 * no duplicate app, no orphan, and exactly the deployments the desired state asks for.
 *
 * All steps are held at once and share one kill, because the survivor must wait out the queue's
 * heartbeat (10 s) before it may take the killed replica's jobs.
 */
import assert from "node:assert/strict"
import { spawn, type ChildProcess } from "node:child_process"
import { fileURLToPath } from "node:url"
import { after, before, describe, test } from "node:test"
import { Effect } from "effect"
import { Annotations } from "../../schemas/index.ts"
import { createObject, deleteObject, inTransaction, updateObjectSpec } from "../../src/desired/write.ts"
import { coolifyAppName } from "../../controllers/app/index.ts"
import { startCoolifyFake, type CoolifyFake } from "../fakes/coolify/index.ts"
import { startEngine } from "../support/engine.ts"
import { createTestDatabase, type TestDatabase } from "../support/postgres.ts"
import { waitFor } from "../support/wait.ts"
import { startHoldingProxy, type HoldingProxy } from "./holding-proxy.ts"
import {
  appSpec,
  conditionOf,
  coolifyAppsOf,
  createApp,
  deploymentsOf,
  ensureUser,
  findApp,
  newKey,
  startAppEngine,
  waitForApp,
  waitForGone,
  waitForReady,
  type AppEngine
} from "./support.ts"

const CHILD = fileURLToPath(new URL("./app-engine-child.ts", import.meta.url))
const NODE = process.execPath
/** Heartbeat (10 s) + monitor + retry backoff, with room for a loaded machine. */
const TAKEOVER_MS = 60_000

let db: TestDatabase
let fake: CoolifyFake
let proxy: HoldingProxy
let survivor: AppEngine | undefined
let child: ChildProcess | undefined
const key = newKey()
let owner: string

const startChild = async () => {
  const started = spawn(NODE, [CHILD], {
    env: {
      ...process.env,
      APP_CHILD_DATABASE_URL: db.url,
      APP_CHILD_KEY: key.toString("base64"),
      APP_CHILD_COOLIFY_URL: proxy.url,
      APP_CHILD_COOLIFY_TOKEN: fake.token
    },
    stdio: ["ignore", "pipe", "inherit"]
  })
  let output = ""
  started.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()))
  await waitFor(() => output.includes("READY\n") || started.exitCode !== null, { what: "child engine READY", timeoutMs: 30_000 })
  assert.equal(started.exitCode, null, "the child engine started")
  return started
}

before(async () => {
  db = await createTestDatabase()
  fake = await startCoolifyFake()
  proxy = await startHoldingProxy(fake.url)
})
after(async () => {
  child?.kill("SIGKILL")
  await survivor?.dispose()
  await proxy?.close()
  await fake?.close()
  await db?.drop()
})

describe("App controller: crash at each step", () => {
  test("SIGKILL mid-create, mid-deploy and mid-delete, restart: no duplicate, no orphan, right deployment count", async () => {
    child = await startChild()
    // Desired state is written from this process by a replica without controllers, as an
    // API-only replica would: one with the App controller would compete with the child for jobs.
    const api = await startEngine({ url: db.url, key }, [])
    try {
      owner = await ensureUser(api.runtime, "apps-crash")
      const run = api.runtime

      // Phase 1: apps that already run before the crash.
      for (const name of ["crash-deploy-after", "crash-deploy-before", "crash-delete"]) await createApp(run, owner, name, { repo: `acme/${name}` })
      const running: Record<string, string> = {}
      for (const name of ["crash-deploy-after", "crash-deploy-before", "crash-delete"]) {
        const ready = await waitForReady(run, owner, name, 30_000)
        running[name] = ready.status.externalId ?? ""
      }

      // Phase 2: hold one call of each step, then make every step happen.
      const holds = [
        proxy.hold("create, after Coolify created it", {
          method: "POST",
          url: /^\/api\/v1\/applications\/public/,
          body: new RegExp(coolifyAppName(owner, "default", "crash-create-after")),
          phase: "after"
        }),
        proxy.hold("create, before Coolify saw it", {
          method: "POST",
          url: /^\/api\/v1\/applications\/public/,
          body: new RegExp(coolifyAppName(owner, "default", "crash-create-before")),
          phase: "before"
        }),
        proxy.hold("deploy, after Coolify queued it", { method: "POST", url: new RegExp(`^/api/v1/deploy\\?.*uuid=${running["crash-deploy-after"]}`), phase: "after" }),
        proxy.hold("deploy, before Coolify saw it", { method: "POST", url: new RegExp(`^/api/v1/deploy\\?.*uuid=${running["crash-deploy-before"]}`), phase: "before" }),
        proxy.hold("delete, after Coolify queued it", { method: "DELETE", url: new RegExp(`^/api/v1/applications/${running["crash-delete"]}\\?`), phase: "after" })
      ]
      // One transaction, so every step is due at once: the engine reconciles a fetched batch
      // together, and a held call blocks its batch — steps arriving one by one could queue
      // behind the first held ones and never be reached.
      const sha = "d".repeat(40)
      await run.runPromise(
        inTransaction(
          Effect.all([
            createObject(owner, { kind: "App", name: "crash-create-after", spec: appSpec({ repo: "acme/crash-create-after" }) }),
            createObject(owner, { kind: "App", name: "crash-create-before", spec: appSpec({ repo: "acme/crash-create-before" }) }),
            updateObjectSpec(owner, { kind: "App", name: "crash-deploy-after" }, (spec) => ({ ...spec, revision: sha })),
            updateObjectSpec(owner, { kind: "App", name: "crash-deploy-before" }, (spec) => ({ ...spec, redeployNonce: spec.redeployNonce + 1 })),
            deleteObject(owner, { kind: "App", name: "crash-delete" })
          ])
        )
      )
      await waitFor(() => proxy.pending().length === 0, { what: "every step held", timeoutMs: 30_000 }).catch(() => {
        throw new Error(`not reached: ${proxy.pending().join("; ")}`)
      })
      await Promise.all(holds)

      // What the kill leaves behind: pending marks, a Coolify app nobody recorded, a queued deployment.
      const orphanCandidate = await findApp(run, owner, "crash-create-after")
      assert.ok(orphanCandidate?.metadata.annotations[Annotations.createPending], "create-pending was written before the create")
      assert.equal(orphanCandidate?.metadata.annotations[Annotations.externalName], undefined)
      assert.equal(coolifyAppsOf(fake, owner, "crash-create-after").length, 1, "Coolify created it")
      assert.equal(coolifyAppsOf(fake, owner, "crash-create-before").length, 0, "Coolify never saw it")

      const killed = new Promise((resolve) => child?.once("exit", resolve))
      child.kill("SIGKILL")
      await killed
      child = undefined
      proxy.releaseAll()

      // Phase 3: a fresh replica takes over.
      survivor = await startAppEngine({ databaseUrl: db.url, key, coolify: { url: fake.url, token: fake.token } })
      for (const name of ["crash-create-after", "crash-create-before"]) await waitForReady(run, owner, name, TAKEOVER_MS)
      await waitForApp(run, owner, "crash-deploy-after", (app) => app.status.deployedRevision === sha && conditionOf(app, "Ready")?.status === "True", "new revision", TAKEOVER_MS)
      await waitForApp(run, owner, "crash-deploy-before", (app) => app.status.latestDeployment?.redeployNonce === 1 && app.status.latestDeployment.state === "finished", "redeployed", TAKEOVER_MS)
      await waitForGone(run, owner, "crash-delete", TAKEOVER_MS)

      const adopted = await findApp(run, owner, "crash-create-after")
      assert.equal(conditionOf(adopted, "Synced")?.reason, "Adopted")
      const expected: Record<string, number> = { "crash-create-after": 1, "crash-create-before": 1, "crash-deploy-after": 2, "crash-deploy-before": 2 }
      for (const [name, deployments] of Object.entries(expected)) {
        const apps = coolifyAppsOf(fake, owner, name)
        assert.equal(apps.length, 1, `${name}: exactly one Coolify app`)
        assert.equal(deploymentsOf(fake, apps[0]).length, deployments, `${name}: ${deployments} deployment(s)`)
      }
      assert.equal(coolifyAppsOf(fake, owner, "crash-delete").length, 0)
      assert.ok(fake.state.deletions.some((deletion) => deletion.uuid === running["crash-delete"]))
      // No orphan: every Coolify app belongs to an App that exists.
      assert.equal(fake.state.applications.length, Object.keys(expected).length)
      assert.deepEqual(fake.violations, [])
    } finally {
      await api.dispose()
    }
  })
})
