/**
 * The GitHub MCP tools over /mcp with the SDK's client: whoami's GitHub fields,
 * create_github_repo (repo scope, clear errors) and get_github_push_token (one repository,
 * contents:write, only where the App is installed, only the user's own repositories).
 */
import assert from "node:assert/strict"
import { after, before, describe, test } from "node:test"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { Effect } from "effect"
import { ApiKeyStore } from "../../src/auth/api-key-store.ts"
import { GitHubTokenStore } from "../../src/github/tokens.ts"
import { gitHubUser, startGitHubTestSystem, type GitHubTestSystem } from "./support.ts"

interface ToolAnswer {
  readonly isError?: boolean
  readonly text: string
  readonly structured: Record<string, unknown>
}

describe("GitHub MCP tools", () => {
  let t: GitHubTestSystem
  const clients: Array<Client> = []
  let alice: Client
  let aliceId: string

  const connect = async (userId: string) => {
    const key = await t.system.runtime.runPromise(ApiKeyStore.use((keys) => keys.create(userId, "tools-test")).pipe(Effect.provide(ApiKeyStore.layer)))
    const client = new Client({ name: "github-tools-test", version: "1.0.0" })
    await client.connect(new StreamableHTTPClientTransport(new URL(`${t.system.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${key.key}` } } }))
    clients.push(client)
    return client
  }
  const call = async (client: Client, name: string, args: Record<string, unknown> = {}): Promise<ToolAnswer> => {
    const result = await client.callTool({ name, arguments: args })
    const content = result.content as ReadonlyArray<{ text?: string }>
    return { isError: result.isError === true, text: content[0]?.text ?? "", structured: (result.structuredContent ?? {}) as Record<string, unknown> }
  }
  const storeToken = (userId: string, login: string, scopes: Array<string>) =>
    t.system.runtime.runPromise(
      GitHubTokenStore.use((tokens) => tokens.save(userId, { token: t.fake.issueUserToken(login, scopes), scopes })).pipe(Effect.provide(GitHubTokenStore.layer))
    )

  before(async () => {
    t = await startGitHubTestSystem({ fake: { users: [{ login: "alice" }], repos: [{ fullName: "alice/site", private: true }, { fullName: "alice/other", private: true }] } })
    t.fake.addOrg("acme", ["alice"])
    t.fake.addRepo("acme/api", { private: true })
    aliceId = (await gitHubUser(t, "alice")).id
    alice = await connect(aliceId)
  })
  after(async () => {
    await Promise.all(clients.map((client) => client.close()))
    await t.stop()
  })

  test("both tools are listed with annotations and schemas", async () => {
    const { tools } = await alice.listTools()
    for (const name of ["create_github_repo", "get_github_push_token"]) {
      const tool = tools.find((candidate) => candidate.name === name)
      assert.ok(tool, name)
      assert.equal(tool.inputSchema.type, "object")
      assert.equal((tool.inputSchema as { additionalProperties?: unknown }).additionalProperties, false)
      assert.equal(tool.outputSchema?.type, "object")
      assert.equal(tool.annotations?.openWorldHint, true)
    }
  })

  test("whoami reports the GitHub login, App installation and repo scope from our records", async () => {
    let who = await call(alice, "whoami")
    assert.deepEqual(who.structured["github"], {
      connected: true,
      login: "alice",
      appInstalled: false,
      repoScope: false,
      hint: `Install the GitHub App at http://localhost:${t.system.config.PORT}/auth/githubapp/install so private repositories deploy and pushes redeploy.`
    })
    await storeToken(aliceId, "alice", ["repo"])
    const installation = await t.fake.install("alice", ["site"])
    who = await call(alice, "whoami")
    assert.deepEqual(who.structured["github"], { connected: true, login: "alice", appInstalled: true, repoScope: true })
    await t.fake.uninstall(installation.id)
  })

  test("create_github_repo: a clear error without the repo scope, a repository with it, and a clear error for a taken name", async () => {
    await storeToken(aliceId, "alice", [])
    const refused = await call(alice, "create_github_repo", { name: "new-app" })
    assert.equal(refused.isError, true)
    assert.match(refused.text, /needs the GitHub "repo" scope/)
    assert.match(refused.text, /\/auth\/github\?scope=repo/)
    assert.equal(t.fake.state.repo("alice", "new-app"), undefined)

    await storeToken(aliceId, "alice", ["repo"])
    const created = await call(alice, "create_github_repo", { name: "new-app", description: "made by an agent" })
    assert.equal(created.isError, false, created.text)
    assert.deepEqual(created.structured, { repo: "alice/new-app", private: true, defaultBranch: "main", url: `${t.fake.url}/alice/new-app` })
    assert.equal(t.fake.state.repo("alice", "new-app")?.private, true)

    const again = await call(alice, "create_github_repo", { name: "new-app" })
    assert.equal(again.isError, true)
    assert.match(again.text, /already have a repository named new-app/)
  })

  test("get_github_push_token: only where the App is installed, only the user's own repositories, one repository per token", async () => {
    const notInstalled = await call(alice, "get_github_push_token", { repo: "site" })
    assert.equal(notInstalled.isError, true)
    assert.match(notInstalled.text, /not installed on alice\/site/)
    assert.match(notInstalled.text, /installations\/new/)

    const installation = await t.fake.install("alice", ["site"])
    const minted = await call(alice, "get_github_push_token", { repo: `${t.fake.url}/alice/site` })
    assert.equal(minted.isError, false, minted.text)
    const token = String(minted.structured["token"])
    assert.match(token, /^ghs_/)
    assert.equal(minted.structured["repo"], "alice/site")
    assert.ok(Date.parse(String(minted.structured["expiresAt"])) > Date.now())
    assert.equal(minted.structured["remoteUrl"], `https://x-access-token:${token}@${new URL(t.fake.url).host}/alice/site.git`)
    const issued = t.fake.state.installationTokens.get(token)
    assert.deepEqual(issued?.repositoryNames, ["site"])
    assert.deepEqual(issued?.permissions, { contents: "write" })

    const outside = await call(alice, "get_github_push_token", { repo: "alice/other" })
    assert.equal(outside.isError, true, "the installation does not cover alice/other")

    const org = await call(alice, "get_github_push_token", { repo: "acme/api" })
    assert.equal(org.isError, true)
    assert.match(org.text, /only issued for repositories on your own GitHub account/)

    const bad = await call(alice, "get_github_push_token", { repo: "not a repo" })
    assert.equal(bad.isError, true)
    await t.fake.uninstall(installation.id)
    assert.deepEqual(t.fake.violations, [])
  })
})
