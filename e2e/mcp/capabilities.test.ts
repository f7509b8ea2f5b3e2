/**
 * The first calls tell the truth: whoami reports what this server can do with its configuration,
 * and create_app says at once when nothing can deploy the app it saved.
 */
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import type { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { startMcpSystem, structured, textOf, type McpTestSystem } from "./support.ts"

interface Who {
  server: { appRuntime: string; canDeploy: boolean; databaseProvider: string; githubConfigured: boolean; missing: Array<string> }
}

describe("whoami and create_app on a server that cannot deploy", () => {
  let t: McpTestSystem
  let client: Client
  before(async () => {
    // Coolify chosen but its token missing; Turso configured (nothing reaches it: no controllers).
    t = await startMcpSystem({
      env: { APP_RUNTIME: "coolify", COOLIFY_URL: "https://coolify.invalid", TURSO_ORG: "acme", TURSO_API_TOKEN: "token", CONTROLLERS: "off" }
    })
    client = await t.connect((await t.createUser("blocked")).key)
  })
  after(async () => {
    await t?.stop()
  })

  test("whoami: the coolify runtime cannot deploy without COOLIFY_TOKEN; databases on Turso; GitHub missing", async () => {
    const result = await client.callTool({ name: "whoami", arguments: {} })
    const { server } = structured<Who>(result)
    assert.deepEqual({ ...server, missing: server.missing.length }, { appRuntime: "coolify", canDeploy: false, databaseProvider: "turso", githubConfigured: false, missing: 2 })
    assert.match(server.missing[0] ?? "", /^Apps cannot deploy: .*COOLIFY_TOKEN is not set/)
    assert.match(server.missing[1] ?? "", /^GitHub sign-in, .* need the operator to set GITHUB_APP_ID/)
    assert.match(textOf(result), /Apps run on the coolify runtime and cannot deploy; databases: Turso; GitHub is not configured\. Apps cannot deploy: /)
  })

  test("create_app saves the app and says right away that it cannot deploy, even with wait: true", async () => {
    const result = await client.callTool({ name: "create_app", arguments: { repo: "octocat/site", name: "site", wait: true } })
    assert.notEqual(result.isError, true, textOf(result))
    assert.equal(structured<{ created: boolean }>(result).created, true)
    assert.match(textOf(result), /^Created app 'site' .* Apps cannot deploy: the coolify runtime needs COOLIFY_URL and COOLIFY_TOKEN, and COOLIFY_TOKEN is not set; apps are saved and deploy once the operator sets it\.$/)
    assert.doesNotMatch(textOf(result), /picks it up shortly|Pass wait: true/)
    assert.equal(structured<{ wait?: unknown }>(result).wait, undefined, "no wait for a deployment that cannot happen")
  })
})

describe("whoami on the embedded default", () => {
  let t: McpTestSystem
  let client: Client
  before(async () => {
    t = await startMcpSystem({ env: { CONTROLLERS: "off" } })
    client = await t.connect((await t.createUser("local")).key)
  })
  after(async () => {
    await t?.stop()
  })

  test("the local runtime deploys, databases are local files, and create_app promises a deployment", async () => {
    const { server } = structured<Who>(await client.callTool({ name: "whoami", arguments: {} }))
    assert.equal(server.appRuntime, "local")
    assert.equal(server.canDeploy, true)
    assert.equal(server.databaseProvider, "local-sqlite")
    assert.equal(server.missing.some((sentence) => sentence.startsWith("Apps cannot deploy")), false)
    const created = await client.callTool({ name: "create_app", arguments: { repo: "octocat/site", name: "site" } })
    assert.match(textOf(created), /Pass wait: true, or call get_app_details, to follow the deployment\.$/)
  })
})
