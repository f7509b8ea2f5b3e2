/**
 * A private GitHub repository on the local runtime: the server clones it with real git over the
 * GitHub fake's smart HTTP (real `git http-backend`), authenticated by a read-only installation
 * token for that one repository, minted for the fetch and never written into a git config, a file
 * of the app or a log line.
 */
import assert from "node:assert/strict"
import { after, before, describe, test } from "node:test"
import { readFile } from "node:fs/promises"
import { request } from "node:http"
import path from "node:path"
import { createObject } from "../../src/desired/write.ts"
import { appPaths } from "../../src/providers/local/paths.ts"
import { findCondition } from "../../controllers/engine/conditions.ts"
import { removeDir, tempDir } from "../support/postgres.ts"
import { waitFor } from "../support/wait.ts"
import { appSpec, getApp, gitHubUser, startGitHubTestSystem, type GitHubTestSystem } from "../github/support.ts"
import { gitIn, makeRepo } from "./repos.ts"

describe("local runtime: private GitHub repositories", () => {
  let t: GitHubTestSystem
  let dataDir: string
  let work: string

  before(async () => {
    dataDir = await tempDir("local-github-data")
    work = await tempDir("local-github-repos")
    t = await startGitHubTestSystem({
      fake: { users: [{ login: "alice" }, { login: "bob" }], repos: [{ fullName: "alice/site", private: true }] },
      env: { CONTROLLERS: "on", DATA_DIR: dataDir },
      logLevel: "debug"
    })
  })
  after(async () => {
    await t?.stop()
    if (dataDir) await removeDir(dataDir)
    if (work) await removeDir(work)
  })

  /** A GET through the server's router with the app's Host header. */
  const get = (appUrl: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const server = new URL(t.system.url)
      const req = request({ host: server.hostname, port: server.port, path: "/", headers: { host: new URL(appUrl).host }, agent: false }, (res) => {
        let body = ""
        res.setEncoding("utf8")
        res.on("data", (chunk: string) => (body += chunk))
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }))
      })
      req.on("error", reject)
      req.end()
    })

  const waitForCondition = (owner: string, name: string, type: string, status: string) =>
    waitFor(
      async () => {
        const app = await getApp(t, owner, name)
        return findCondition(app.status.conditions, type)?.status === status ? app : undefined
      },
      { what: `${name} ${type}=${status}`, timeoutMs: 60_000 }
    ).catch(async (error: unknown) => {
      throw new Error(`${(error as Error).message}; conditions: ${JSON.stringify((await getApp(t, owner, name)).status.conditions)}`)
    })

  test("the tenant's installation clones it with a read-only token for that repository, which nothing keeps", async () => {
    const source = await makeRepo(path.join(work, "site"), { "index.html": "<h1>private site</h1>\n" })
    await gitIn(source, ["push", "--quiet", t.fake.gitDir("alice/site"), "main"])
    const alice = (await gitHubUser(t, "alice")).id
    await t.fake.install("alice", ["site"])

    // GitHub itself refuses an anonymous clone of the private repository.
    await assert.rejects(gitIn(work, ["ls-remote", `${t.fake.url}/alice/site.git`]), /Authentication failed|could not read Username|terminal prompts disabled/)

    await t.system.runtime.runPromise(createObject(alice, { kind: "App", name: "site", spec: { ...appSpec("alice/site"), buildPack: "static" } }))
    const app = await waitForCondition(alice, "site", "Ready", "True")
    assert.ok(app.status.url, "the app has a URL")
    assert.deepEqual(await get(app.status.url!), { status: 200, body: "<h1>private site</h1>\n" })

    const fetches = t.fake.gitCalls.filter((call) => call.repo === "alice/site" && call.credential !== "anonymous")
    assert.ok(fetches.length >= 2, `git advertised refs and sent a pack (${JSON.stringify(t.fake.gitCalls)})`)
    for (const call of fetches) {
      assert.equal(call.credential, "installation")
      assert.equal(call.status, 200)
      assert.deepEqual(call.token, { contents: "read", repositories: ["site"] }, "least privilege: contents read, this repository only")
    }

    const tokens = [...t.fake.state.installationTokens.keys()]
    assert.ok(tokens.length >= 1, "a token was minted for the fetch")
    const mirrorConfig = await readFile(path.join(appPaths(dataDir, app.metadata.uid).mirror, "config"), "utf8")
    const logText = JSON.stringify(t.logs)
    for (const token of tokens) {
      assert.equal(mirrorConfig.includes(token), false, "the token is not in the mirror's git config")
      assert.equal(logText.includes(token), false, "the token is in no log line")
    }
    assert.equal(/extraheader|x-access-token/i.test(mirrorConfig), false, "no credential setting was stored with the mirror")
  })

  test("another tenant's app for the same private repository waits for its own installation and never fetches", async () => {
    const bob = (await gitHubUser(t, "bob")).id
    const before = t.fake.gitCalls.length
    await t.system.runtime.runPromise(createObject(bob, { kind: "App", name: "copy", spec: { ...appSpec("alice/site"), buildPack: "static" } }))
    const app = await waitForCondition(bob, "copy", "Deployed", "False")
    assert.equal(findCondition(app.status.conditions, "Deployed")?.reason, "WaitingForGitHubApp")
    assert.equal(t.fake.gitCalls.length, before, "no clone was attempted with anyone's credentials")
  })
})
