/**
 * Where Coolify gets the code, decided by GitHub (the GitHub fake): the user's GitHub App
 * installation for a repo it covers (/applications/private-github-app), a public clone for a
 * public repo (/applications/public), and for a private repo without the App: nothing created,
 * Deployed=False WaitingForGitHubApp with the install link — until the App is installed.
 */
import assert from "node:assert/strict"
import { after, afterEach, before, describe, test } from "node:test"
import { Effect, Layer, ManagedRuntime } from "effect"
import { Database } from "../../src/db/database.ts"
import { GitHubInstallations } from "../../src/github/installations.ts"
import { updateObjectSpec } from "../../src/desired/write.ts"
import { RepoAccess } from "../../controllers/app/index.ts"
import { GitHubApi } from "../../src/providers/github/index.ts"
import { startCoolifyFake, type CoolifyFake } from "../fakes/coolify/index.ts"
import { startGitHubFake, type GitHubFake } from "../fakes/github/index.ts"
import { createTestDatabase, type TestDatabase } from "../support/postgres.ts"
import { conditionOf, coolifyAppsOf, createApp, ensureUser, newKey, startAppEngine, waitForApp, waitForReady, type AppEngine } from "./support.ts"

let db: TestDatabase
let coolify: CoolifyFake
let github: GitHubFake
let engine: AppEngine
let owner: string
let installations: ManagedRuntime.ManagedRuntime<GitHubInstallations, never>

/** What the install callback / webhooks record: the installation, its repos, and who may use it. */
const grant = (installationId: number, account: string, repos: ReadonlyArray<string>, userId: string) =>
  installations.runPromise(
    GitHubInstallations.use((store) =>
      Effect.gen(function*() {
        yield* store.record(
          { installationId, accountLogin: account, accountId: installationId, accountType: "User", repositorySelection: "selected", suspended: false },
          repos
        )
        yield* store.linkUsers(installationId, [userId])
      })
    )
  )

before(async () => {
  db = await createTestDatabase()
  coolify = await startCoolifyFake()
  github = await startGitHubFake({
    users: [{ login: "alice" }, { login: "bob" }],
    repos: [
      { fullName: "alice/private-app", private: true },
      { fullName: "alice/open-app", private: false },
      { fullName: "bob/secret", private: true }
    ]
  })
  installations = ManagedRuntime.make(GitHubInstallations.layer.pipe(Layer.provide(Database.fromPool(db.pool))))
  const installation = await github.install("alice", ["private-app"])
  // Coolify's GitHub App source is the one for alice's installation.
  coolify.githubApp.installation_id = installation.id
  const repoAccess = RepoAccess.layerFromGitHub.pipe(
    Layer.provide(
      GitHubApi.layer({
        webUrl: github.url,
        apiUrl: github.apiUrl,
        appId: github.appId,
        appPrivateKey: github.appPrivateKey,
        appSlug: github.appSlug,
        clientId: github.clientId,
        clientSecret: github.clientSecret
      })
    ),
    Layer.provideMerge(GitHubInstallations.layer.pipe(Layer.provide(Database.fromPool(db.pool)))),
    Layer.orDie
  )
  engine = await startAppEngine({ databaseUrl: db.url, key: newKey(), coolify: { url: coolify.url, token: coolify.token }, repoAccess })
  owner = await ensureUser(engine.runtime, "apps-github")
  await grant(installation.id, "alice", ["alice/private-app"], owner)
})
after(async () => {
  await installations?.dispose()
  await engine?.dispose()
  await github?.close()
  await coolify?.close()
  await db?.drop()
})
afterEach(() => {
  assert.deepEqual(coolify.violations, [])
  assert.deepEqual(github.violations, [])
})

describe("App controller: repository access", () => {
  test("another tenant naming a private repo cannot build it through its owner's installation", async () => {
    const eve = await ensureUser(engine.runtime, "apps-github-eve")
    await createApp(engine.runtime, eve, "steal", { repo: "alice/private-app" })
    const waiting = await waitForApp(engine.runtime, eve, "steal", (app) => conditionOf(app, "Deployed")?.reason === "WaitingForGitHubApp", "WaitingForGitHubApp")
    assert.match(conditionOf(waiting, "Deployed")?.message ?? "", /alice\/private-app is private/)
    assert.equal(coolifyAppsOf(coolify, eve, "steal").length, 0)
  })

  test("a private repo the App is installed on is cloned through the user's GitHub App source", async () => {
    await createApp(engine.runtime, owner, "priv", { repo: "alice/private-app" })
    await waitForReady(engine.runtime, owner, "priv")
    const [app] = coolifyAppsOf(coolify, owner, "priv")
    assert.equal(app?.kind, "private-github-app")
    assert.equal(app?.fields["git_repository"], "alice/private-app")
  })

  test("after the App is uninstalled, a new revision waits for it instead of deploying", async () => {
    const ready = await waitForReady(engine.runtime, owner, "priv")
    const installationId = coolify.githubApp.installation_id as number
    await installations.runPromise(
      GitHubInstallations.use((store) =>
        store.markDeleted({ installationId, accountLogin: "alice", accountId: installationId, accountType: "User", repositorySelection: "selected", suspended: false })
      )
    )
    await engine.runtime.runPromise(updateObjectSpec(owner, { kind: "App", name: "priv" }, (spec) => ({ ...spec, revision: "b".repeat(40) })))
    const waiting = await waitForApp(engine.runtime, owner, "priv", (app) => conditionOf(app, "Deployed")?.reason === "WaitingForGitHubApp", "WaitingForGitHubApp after uninstall")
    assert.match(conditionOf(waiting, "Deployed")?.message ?? "", /install/i)
    assert.equal(waiting.status.latestDeployment?.id, ready.status.latestDeployment?.id, "no deployment was started without access")
  })

  test("a public repo without the App is cloned publicly", async () => {
    await createApp(engine.runtime, owner, "open", { repo: "alice/open-app" })
    await waitForReady(engine.runtime, owner, "open")
    assert.equal(coolifyAppsOf(coolify, owner, "open")[0]?.kind, "public")
  })

  test("a private repo without the App waits with the install link, then deploys once the App is installed", async () => {
    await createApp(engine.runtime, owner, "secret", { repo: "bob/secret" })
    const waiting = await waitForApp(engine.runtime, owner, "secret", (app) => conditionOf(app, "Deployed")?.reason === "WaitingForGitHubApp", "WaitingForGitHubApp")
    const message = conditionOf(waiting, "Deployed")?.message ?? ""
    assert.match(message, /bob\/secret is private/)
    assert.ok(message.includes(`${github.url}/apps/${github.appSlug}/installations/new`), message)
    assert.equal(coolifyAppsOf(coolify, owner, "secret").length, 0)

    const installation = await github.install("bob", ["secret"])
    coolify.state.addGithubApp({ name: "bob", installationId: installation.id })
    await grant(installation.id, "bob", ["bob/secret"], owner)
    await waitForReady(engine.runtime, owner, "secret")
    assert.equal(coolifyAppsOf(coolify, owner, "secret")[0]?.kind, "private-github-app")
  })
})
