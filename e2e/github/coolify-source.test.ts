/**
 * On install, the user's Coolify GitHub App source is ensured through desired state: the
 * installation.created webhook records the installation and enqueues GitHubSource in the same
 * transaction, the reconciler creates the private key and the source in Coolify (the fake) once,
 * and an App for a repository of that installation is then cloned through that source — no
 * operator steps.
 */
import assert from "node:assert/strict"
import { after, before, describe, test } from "node:test"
import { Effect } from "effect"
import { findCondition } from "../../controllers/engine/conditions.ts"
import { ensureGitHubSource, sourceName, type GitHubAppCredentials } from "../../controllers/github-source/index.ts"
import { CoolifyApi } from "../../src/providers/coolify/index.ts"
import { startCoolifyFake, type CoolifyFake } from "../fakes/coolify/index.ts"
import { waitFor } from "../support/wait.ts"
import { createApp, getApp, gitHubUser, startGitHubTestSystem, type GitHubTestSystem } from "./support.ts"

describe("Coolify GitHub App source", () => {
  let coolify: CoolifyFake
  let t: GitHubTestSystem
  let alice: string

  before(async () => {
    coolify = await startCoolifyFake()
    t = await startGitHubTestSystem({
      fake: { users: [{ login: "alice" }], repos: [{ fullName: "alice/site", private: true }] },
      env: { CONTROLLERS: "on", COOLIFY_URL: coolify.url, COOLIFY_TOKEN: coolify.token }
    })
    alice = (await gitHubUser(t, "alice")).id
  })
  after(async () => {
    await t?.stop()
    await coolify?.close()
  })

  const sourcesFor = (installationId: number) => coolify.state.githubApps.filter((app) => app.installation_id === installationId)

  test("installing the App creates the installation's source once; an App of that installation clones through it", async () => {
    const installation = await t.fake.install("alice", ["site"])
    assert.equal(t.fake.deliveries.at(-1)?.status, 200, "the installation.created webhook was accepted")

    const [source] = await waitFor(() => (sourcesFor(installation.id).length > 0 ? sourcesFor(installation.id) : undefined), { what: "the Coolify GitHub App source" })
    assert.equal(source?.name, sourceName(installation.id))
    assert.equal(source?.app_id, t.fake.appId)
    assert.equal(coolify.state.privateKeys.length, 1, "one private key for the GitHub App")

    // A rerun (a redelivered job, or a crash after the create before the job completed) adopts what is there.
    const credentials: GitHubAppCredentials = {
      htmlUrl: t.fake.url,
      apiUrl: t.fake.apiUrl,
      appId: t.fake.appId,
      clientId: t.fake.clientId,
      clientSecret: t.fake.clientSecret,
      privateKey: t.fake.appPrivateKey
    }
    const again = await Effect.runPromise(ensureGitHubSource(installation.id, credentials).pipe(Effect.provide(CoolifyApi.layer({ url: coolify.url, token: coolify.token }))))
    assert.deepEqual(again, { uuid: source?.uuid, created: false })
    assert.equal(sourcesFor(installation.id).length, 1, "still exactly one source")
    assert.equal(coolify.state.privateKeys.length, 1, "still exactly one private key")
    assert.equal(coolify.calls.count({ endpoint: "POST /github-apps" }), 1)

    await createApp(t, alice, "site", "alice/site")
    const deployed = await waitFor(
      async () => {
        const condition = findCondition((await getApp(t, alice, "site")).status.conditions, "Deployed")
        return condition?.status === "True" ? condition : undefined
      },
      { what: "site Deployed=True", timeoutMs: 30_000 }
    )
    assert.equal(deployed.status, "True")
    const created = coolify.state.applications.filter((app) => app.fields["git_repository"] === "alice/site")
    assert.equal(created.length, 1)
    assert.equal(created[0]?.kind, "private-github-app")
    assert.equal(created[0]?.fields["source_id"], source?.id)
    assert.deepEqual(coolify.violations, [])
  })
})
