/**
 * GitHub App installations: installation webhooks keep our record true, tenants are scoped, and
 * Apps reconcile when an installation appears or disappears — a test App controller (in its own
 * engine replica) reports Deployed from GitHubInstallations.forRepo, as the App controller can.
 */
import assert from "node:assert/strict"
import { after, before, describe, test } from "node:test"
import { Effect, Option } from "effect"
import type { Controller } from "../../controllers/engine/controller.ts"
import { findCondition, writeStatus } from "../../controllers/engine/conditions.ts"
import { Done } from "../../controllers/engine/result.ts"
import { GitHubInstallations } from "../../src/github/installations.ts"
import { installationEvent, sendWebhook } from "../fakes/github/index.ts"
import { startEngine } from "../support/engine.ts"
import { waitFor } from "../support/wait.ts"
import { createApp, getApp, gitHubUser, startGitHubTestSystem, type GitHubTestSystem } from "./support.ts"

/** What an App controller does with the installation state: Deployed=False WaitingForGitHubApp without one. */
const installationAwareAppController: Controller<"App", unknown, never> = {
  kind: "App",
  reconcile: (app) =>
    Effect.gen(function*() {
      const installation = yield* (yield* GitHubInstallations).forRepo(app.metadata.owner, app.spec.repo ?? "")
      yield* writeStatus(app, (status) => status, {
        conditions: [
          Option.match(installation, {
            onSome: (id) => ({ type: "Deployed", status: "True" as const, reason: "Deployed", message: `Deployed through installation ${id}.` }),
            onNone: () => ({
              type: "Deployed",
              status: "False" as const,
              reason: "WaitingForGitHubApp",
              message: `The GitHub App is not installed on ${app.spec.repo}: install it from the dashboard (Install the GitHub App) and the app deploys on its own.`
            })
          })
        ]
      })
      return Done
    }).pipe(Effect.provide(GitHubInstallations.layer)) as Effect.Effect<typeof Done, unknown, never>
}

describe("GitHub App installations", () => {
  let t: GitHubTestSystem
  let engine: Awaited<ReturnType<typeof startEngine>>
  let alice: string
  let bob: string

  before(async () => {
    t = await startGitHubTestSystem({
      fake: { users: [{ login: "alice" }, { login: "bob" }], repos: [{ fullName: "alice/site", private: true }, { fullName: "alice/blog", private: true }] }
    })
    alice = (await gitHubUser(t, "alice")).id
    bob = (await gitHubUser(t, "bob")).id
    engine = await startEngine({ url: t.db.url, key: t.key }, [installationAwareAppController])
  })
  after(async () => {
    await engine.dispose()
    await t.stop()
  })

  const forRepo = (owner: string, repo: string) =>
    t.system.runtime.runPromise(GitHubInstallations.use((installations) => installations.forRepo(owner, repo)).pipe(Effect.provide(GitHubInstallations.layer)))

  const deployed = (owner: string, name: string, reason: string) =>
    waitFor(
      async () => {
        const condition = findCondition((await getApp(t, owner, name)).status.conditions, "Deployed")
        return condition?.reason === reason ? condition : undefined
      },
      { what: `${name} Deployed reason ${reason}` }
    )

  test("installed → apps deploy; deleted → apps report WaitingForGitHubApp with how to reinstall; a late replay cannot revive it", async () => {
    await createApp(t, alice, "site", "alice/site")
    await deployed(alice, "site", "WaitingForGitHubApp")

    const installation = await t.fake.install("alice", ["site"])
    assert.equal(t.fake.deliveries.at(-1)?.status, 200, "the installation.created webhook was accepted")
    assert.deepEqual(await forRepo(alice, "alice/site"), Option.some(installation.id))
    assert.deepEqual(await forRepo(alice, "alice/blog"), Option.none(), "a selected installation covers only its repositories")
    assert.deepEqual(await forRepo(bob, "alice/site"), Option.none(), "another tenant cannot use alice's installation")
    const up = await deployed(alice, "site", "Deployed")
    assert.equal(up.status, "True")

    const createdPayload = installationEvent("created", {
      installationId: installation.id,
      account: "alice",
      accountId: t.fake.state.account("alice")?.id ?? 0,
      repositories: [{ fullName: "alice/site" }]
    })
    await t.fake.uninstall(installation.id)
    assert.equal(t.fake.deliveries.at(-1)?.status, 200, "the installation.deleted webhook was accepted")
    assert.deepEqual(await forRepo(alice, "alice/site"), Option.none())
    const down = await deployed(alice, "site", "WaitingForGitHubApp")
    assert.equal(down.status, "False")
    assert.match(down.message, /install it from the dashboard/)

    const replay = await sendWebhook({ url: t.webhookUrl, secret: t.secret, event: "installation", payload: createdPayload })
    assert.equal(replay.status, 200)
    assert.deepEqual(JSON.parse(replay.body).active, false)
    assert.deepEqual(await forRepo(alice, "alice/site"), Option.none(), "installation ids are never reused: deleted stays deleted")
  })

  test("installation_repositories: added and removed repositories change what the installation covers", async () => {
    const installation = await t.fake.install("alice", ["site"])
    assert.deepEqual(await forRepo(alice, "alice/blog"), Option.none())
    const payload = (added: Array<string>, removed: Array<string>) => {
      const base = installationEvent("created", { installationId: installation.id, account: "alice", accountId: t.fake.state.account("alice")?.id ?? 0 })
      return {
        action: added.length > 0 ? "added" : "removed",
        installation: base.installation,
        repository_selection: "selected",
        repositories_added: added.map((fullName) => ({ full_name: fullName })),
        repositories_removed: removed.map((fullName) => ({ full_name: fullName })),
        sender: base.sender
      }
    }
    const added = await sendWebhook({ url: t.webhookUrl, secret: t.secret, event: "installation_repositories", payload: payload(["alice/blog"], []) })
    assert.equal(added.status, 200)
    assert.deepEqual(await forRepo(alice, "alice/blog"), Option.some(installation.id))
    await sendWebhook({ url: t.webhookUrl, secret: t.secret, event: "installation_repositories", payload: payload([], ["alice/blog"]) })
    assert.deepEqual(await forRepo(alice, "alice/blog"), Option.none())
    await t.fake.uninstall(installation.id)
  })

  test("suspend and unsuspend", async () => {
    const installation = await t.fake.install("alice", "all")
    assert.deepEqual(await forRepo(alice, "alice/site"), Option.some(installation.id))
    const event = (action: "suspend" | "unsuspend") => {
      const base = installationEvent("created", { installationId: installation.id, account: "alice", accountId: t.fake.state.account("alice")?.id ?? 0 })
      return {
        ...base,
        action,
        installation: { ...base.installation, repository_selection: "all", suspended_at: action === "suspend" ? new Date().toISOString() : null }
      }
    }
    await sendWebhook({ url: t.webhookUrl, secret: t.secret, event: "installation", payload: event("suspend") })
    assert.deepEqual(await forRepo(alice, "alice/site"), Option.none(), "a suspended installation cannot be used")
    await sendWebhook({ url: t.webhookUrl, secret: t.secret, event: "installation", payload: event("unsuspend") })
    assert.deepEqual(await forRepo(alice, "alice/site"), Option.some(installation.id))
    // These events said repository_selection "all" (the fake's own installation events always say "selected").
    assert.deepEqual(await forRepo(alice, "alice/anything"), Option.some(installation.id), "'all' covers every repository of the account")
    await t.fake.uninstall(installation.id)
  })
})
