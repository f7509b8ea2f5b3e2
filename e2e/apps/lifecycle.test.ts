/**
 * An App's life against the Coolify fake with the real engine and PostgreSQL: created and Ready
 * for every build pack (and an image), a revision bump and a redeploy each make exactly one
 * deployment, env vars reach Coolify exactly, and a delete leaves neither the Coolify app nor the row.
 */
import assert from "node:assert/strict"
import { describe, test } from "node:test"
import { Annotations } from "../../schemas/index.ts"
import { createObject } from "../../src/desired/write.ts"
import type { CoolifyFake } from "../fakes/coolify/index.ts"
import { appSpec } from "../support/app-spec.ts"
import {
  conditionOf,
  coolifyAppsOf,
  createApp,
  deleteApp,
  deploymentsOf,
  updateApp,
  waitForApp,
  waitForGone,
  waitForReady,
  type AppEngine,
  useAppTestbed
} from "./support.ts"

let fake: CoolifyFake
let engine: AppEngine
let owner: string
useAppTestbed({ login: "apps-lifecycle" }, (testbed) => ({ fake, engine, owner } = testbed))

const onlyApp = (name: string) => {
  const apps = coolifyAppsOf(fake, owner, name)
  assert.equal(apps.length, 1, `exactly one Coolify app for ${name}`)
  return apps[0]!
}

const envsOf = (name: string) =>
  Object.fromEntries(
    onlyApp(name)
      .envs.filter((env) => !env.is_preview)
      .map((env) => [env.key, env.value])
  )

describe("App controller: lifecycle", () => {
  test("each build pack (and an image) is created, deployed once and Ready at https://<name>.<dnsSuffix>", async () => {
    fake.setSource("acme/dockerfile-app", { listeningPort: 8080 })
    const cases = [
      { name: "np", spec: { repo: "acme/np" } },
      { name: "df", spec: { repo: "acme/dockerfile-app", buildPack: "dockerfile" as const, port: 8080 } },
      { name: "st", spec: { repo: "acme/site", buildPack: "static" as const, runtimeMode: "static" as const } },
      { name: "dc", spec: { repo: "acme/compose", buildPack: "dockercompose" as const, runtimeMode: "on_demand" as const } },
      { name: "img", spec: { image: "ghcr.io/acme/api:1.2", port: 9000, resources: { memory: "256M", cpu: "0.5" } } }
    ]
    for (const { name, spec } of cases) await createApp(engine.runtime, owner, name, spec)
    for (const { name } of cases) {
      const ready = await waitForReady(engine.runtime, owner, name)
      assert.equal(ready.status.url, `https://${name}.apps.test`)
      assert.equal(ready.status.host, "default")
      assert.equal(conditionOf(ready, "Synced")?.reason, "Created")
      assert.equal(conditionOf(ready, "Deployed")?.reason, "Deployed")
      assert.equal(ready.status.latestDeployment?.state, "finished")
      const app = onlyApp(name)
      assert.equal(ready.status.externalId, app.uuid)
      assert.equal(ready.metadata.annotations[Annotations.externalName], app.uuid)
      assert.equal(ready.metadata.annotations[Annotations.createPending], undefined)
      assert.equal(app.fqdn, `https://${name}.apps.test`)
      assert.deepEqual(app.tags, ["deploy-mcp"])
      assert.match(String(app.fields["custom_docker_run_options"]), /^--cap-drop=ALL --pids-limit=256/)
      assert.equal(deploymentsOf(fake, app).length, 1, `${name}: one deployment`)
    }
    const image = onlyApp("img")
    assert.equal(image.kind, "dockerimage")
    assert.deepEqual([image.fields["docker_registry_image_name"], image.fields["docker_registry_image_tag"]], ["ghcr.io/acme/api", "1.2"])
    assert.deepEqual([image.fields["limits_memory"], image.fields["limits_cpus"], image.fields["ports_exposes"]], ["256M", "0.5", "9000"])
    const site = onlyApp("st")
    assert.deepEqual([site.fields["build_pack"], site.fields["ports_exposes"], site.fields["limits_memory"]], ["static", "80", "128M"])
    assert.match(String(site.fields["custom_docker_run_options"]), /--cap-add=NET_BIND_SERVICE/)
    assert.equal(onlyApp("dc").fields["build_pack"], "dockercompose")
    assert.equal(onlyApp("df").fields["ports_exposes"], "8080")
    assert.equal(onlyApp("np").kind, "public")
    assert.equal(onlyApp("np").fields["git_repository"], "acme/np")
  })

  test("a git URL is cloned publicly by Coolify; a local path and pushed code are refused as RuntimeUnsupported without a Coolify app", async () => {
    await createApp(engine.runtime, owner, "lab", { repo: "https://gitlab.com/acme/site.git", buildPack: "static", runtimeMode: "static" })
    await createApp(engine.runtime, owner, "disk", { repo: "file:///srv/site" })
    const { repo: _repo, ...pushedSpec } = appSpec()
    await engine.runtime.runPromise(createObject(owner, { kind: "App", name: "pushed", spec: pushedSpec }))
    const ready = await waitForReady(engine.runtime, owner, "lab")
    assert.equal(conditionOf(ready, "Synced")?.reason, "Created")
    assert.equal(onlyApp("lab").kind, "public")
    for (const name of ["disk", "pushed"]) {
      const refused = await waitForApp(engine.runtime, owner, name, (app) => conditionOf(app, "Synced")?.reason === "RuntimeUnsupported", `${name} RuntimeUnsupported`)
      assert.equal(conditionOf(refused, "Synced")?.status, "False")
      assert.match(conditionOf(refused, "Synced")?.message ?? "", /need the local runtime \(APP_RUNTIME=local\)/)
      assert.equal(coolifyAppsOf(fake, owner, name).length, 0)
    }
  })

  test("a revision bump deploys exactly once; a redeploy (nonce) deploys exactly once", async () => {
    await createApp(engine.runtime, owner, "rev", { repo: "acme/rev" })
    await waitForReady(engine.runtime, owner, "rev")
    const sha = "a".repeat(40)
    await updateApp(engine.runtime, owner, "rev", (spec) => ({ ...spec, revision: sha }))
    const bumped = await waitForApp(engine.runtime, owner, "rev", (app) => app.status.deployedRevision === sha && conditionOf(app, "Ready")?.status === "True", "revision deployed")
    assert.equal(bumped.status.latestDeployment?.revision, sha)
    assert.equal(onlyApp("rev").fields["git_commit_sha"], sha)
    assert.equal(deploymentsOf(fake, onlyApp("rev")).length, 2)
    // The same revision again (a replayed push) changes nothing: no deployment.
    const replay = await updateApp(engine.runtime, owner, "rev", (spec) => ({ ...spec, revision: sha }))
    assert.equal(replay.changed, false)

    await updateApp(engine.runtime, owner, "rev", (spec) => ({ ...spec, redeployNonce: spec.redeployNonce + 1 }))
    await waitForApp(engine.runtime, owner, "rev", (app) => app.status.latestDeployment?.redeployNonce === 1 && app.status.latestDeployment.state === "finished" && conditionOf(app, "Ready")?.status === "True", "redeployed")
    const deployments = deploymentsOf(fake, onlyApp("rev"))
    assert.equal(deployments.length, 3)
    assert.deepEqual(deployments.map((d) => d.status), ["finished", "finished", "finished"])
  })

  test("env vars reach Coolify exactly: added, changed and removed keys", async () => {
    await createApp(engine.runtime, owner, "envy", { repo: "acme/envy", env: { A: "1", B: "two", KEEP: "same" } })
    await waitForReady(engine.runtime, owner, "envy")
    assert.deepEqual(envsOf("envy"), { A: "1", B: "two", KEEP: "same" })
    const before = (await waitForReady(engine.runtime, owner, "envy")).status.latestDeployment?.configHash

    await updateApp(engine.runtime, owner, "envy", (spec) => ({ ...spec, env: { A: "10", KEEP: "same", C: "$NOT_INTERPOLATED" } }))
    const updated = await waitForApp(
      engine.runtime,
      owner,
      "envy",
      (app) => app.status.latestDeployment?.configHash !== before && app.status.latestDeployment?.state === "finished" && conditionOf(app, "Ready")?.status === "True",
      "env change deployed"
    )
    assert.deepEqual(envsOf("envy"), { A: "10", KEEP: "same", C: "$NOT_INTERPOLATED" })
    assert.ok(onlyApp("envy").envs.every((env) => env.is_literal), "values are literal")
    assert.match(conditionOf(updated, "Synced")?.message ?? "", /set env A, C; removed env B/)
    assert.equal(deploymentsOf(fake, onlyApp("envy")).length, 2, "an env change deploys once")

    await updateApp(engine.runtime, owner, "envy", (spec) => ({ ...spec, env: {} }))
    await waitForApp(engine.runtime, owner, "envy", (app) => app.status.latestDeployment?.state === "finished" && /removed env A, C, KEEP/.test(conditionOf(app, "Synced")?.message ?? ""), "env cleared")
    assert.deepEqual(envsOf("envy"), {})
  })

  test("settings changed in the spec are patched in Coolify and deployed", async () => {
    await createApp(engine.runtime, owner, "tune", { repo: "acme/tune" })
    await waitForReady(engine.runtime, owner, "tune")
    await updateApp(engine.runtime, owner, "tune", (spec) => ({ ...spec, resources: { memory: "2G" }, commands: { start: "npm run serve" } }))
    const tuned = await waitForApp(engine.runtime, owner, "tune", (app) => app.status.latestDeployment?.state === "finished" && conditionOf(app, "Synced")?.reason === "Updated", "settings updated")
    assert.match(conditionOf(tuned, "Synced")?.message ?? "", /limits_memory/)
    const app = onlyApp("tune")
    assert.deepEqual([app.fields["limits_memory"], app.fields["start_command"]], ["2G", "npm run serve"])
    assert.equal(deploymentsOf(fake, app).length, 2)
  })

  test("delete: the Coolify app (with volumes) is gone, then the row", async () => {
    await createApp(engine.runtime, owner, "bye", { repo: "acme/bye" })
    const ready = await waitForReady(engine.runtime, owner, "bye")
    const uuid = ready.status.externalId
    await deleteApp(engine.runtime, owner, "bye")
    await waitForGone(engine.runtime, owner, "bye")
    assert.equal(coolifyAppsOf(fake, owner, "bye").length, 0)
    const deletion = fake.state.deletions.find((entry) => entry.uuid === uuid)
    assert.ok(deletion, "Coolify carried out the delete before the row went")
    assert.equal(deletion.options.delete_volumes, true)
  })
})
