/**
 * The MCP server end to end: the real system over HTTP, driven by the SDK's own client —
 * initialize, tools/list, every tool's happy path, and the errors agents act on.
 */
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import type { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { McpError } from "@modelcontextprotocol/sdk/types.js"
import { startMcpSystem, structured, textOf, type McpTestSystem, type TestUser } from "./support.ts"
import { scriptedAppController } from "./test-controllers.ts"
import { waitFor } from "../support/wait.ts"

const TOOL_NAMES = [
  "whoami",
  "create_app",
  "update_app",
  "list_apps",
  "get_app_details",
  "redeploy",
  "delete_app",
  "create_resource",
  "list_resources",
  "get_resource_details",
  "delete_resource"
]

interface AppView {
  name: string
  project: string
  repo: string
  branch: string
  revision: string | null
  port?: number
  memory?: string
  envVarNames: Array<string>
  env?: Record<string, string>
  resources: Array<string>
  redeployCount: number
  url?: string
  generation: number
  ready: { status: string; reason: string; current: boolean }
  conditions: Array<{ type: string; status: string; reason: string }>
  deleting: boolean
  finalizers: Array<string>
}

let t: McpTestSystem
let alice: TestUser
let client: Client

const call = (name: string, args: Record<string, unknown> = {}) => client.callTool({ name, arguments: args })

/** Calls a tool that must succeed; fails the test with the tool's message otherwise. */
const ok = async <T>(name: string, args: Record<string, unknown> = {}): Promise<T> => {
  const result = await call(name, args)
  assert.notEqual(result.isError, true, `${name} failed: ${textOf(result)}`)
  return structured<T>(result)
}

/** Calls a tool that must fail; returns its message. */
const fails = async (name: string, args: Record<string, unknown> = {}): Promise<string> => {
  const result = await call(name, args)
  assert.equal(result.isError, true, `${name} should have failed but returned: ${textOf(result)}`)
  assert.equal(result.structuredContent, undefined)
  return textOf(result)
}

describe("MCP tools over Streamable HTTP", () => {
  before(async () => {
    t = await startMcpSystem({ controllers: [scriptedAppController] })
    alice = await t.createUser("alice")
    client = await t.connect(alice.key)
  })
  after(async () => {
    await t?.stop()
  })

  test("initialize: server info, tools capability and instructions for the agent", () => {
    assert.equal(client.getServerVersion()?.name, "deploy-mcp")
    assert.ok(client.getServerCapabilities()?.tools)
    assert.match(client.getInstructions() ?? "", /whoami/)
  })

  test("tools/list: every tool with a title, description, annotations, strict input schema and output schema", async () => {
    const { tools } = await client.listTools()
    // Issue 5's tools first, in this order; other workstreams add theirs after (e.g. GitHub's).
    assert.deepEqual(tools.map((tool) => tool.name).slice(0, TOOL_NAMES.length), TOOL_NAMES)
    for (const tool of tools) {
      assert.ok(tool.title && tool.description && tool.description.length > 40, `${tool.name} needs a title and a real description`)
      const hints = tool.annotations
      for (const hint of ["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"] as const) {
        assert.equal(typeof hints?.[hint], "boolean", `${tool.name}.${hint}`)
      }
      assert.equal(tool.inputSchema.type, "object")
      assert.equal((tool.inputSchema as { additionalProperties?: unknown }).additionalProperties, false, `${tool.name} must refuse unknown arguments`)
      assert.equal(tool.outputSchema?.type, "object", `${tool.name} needs an output schema`)
    }
    const byName = new Map(tools.map((tool) => [tool.name, tool]))
    assert.equal(byName.get("list_apps")?.annotations?.readOnlyHint, true)
    assert.equal(byName.get("delete_app")?.annotations?.destructiveHint, true)
    assert.equal(byName.get("delete_resource")?.annotations?.destructiveHint, true)
    assert.equal(byName.get("create_app")?.annotations?.idempotentHint, true)
    assert.equal(byName.get("redeploy")?.annotations?.idempotentHint, false)
    const createApp = byName.get("create_app")?.inputSchema as { required: Array<string>; properties: Record<string, Record<string, unknown>> }
    assert.deepEqual(createApp.required, ["name"], "without repo the app deploys what is git pushed")
    assert.equal(createApp.properties.name?.pattern, "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
    assert.match(String(createApp.properties.resources?.description), /<NAME>_DATABASE_URL .* the first also as DATABASE_URL/, "the env var naming rule is documented where agents read it")
    assert.equal(createApp.properties.branch?.default, "main")
    assert.ok(createApp.properties.env_vars?.patternProperties, "env var names are constrained in the schema")
  })

  test("whoami: the key's user, GitHub connection and counts", async () => {
    const who = await ok<{ user: { login: string }; apiKey: { prefix: string }; github: { connected: boolean; login: string }; counts: { apps: number } }>("whoami")
    assert.equal(who.user.login, "alice")
    assert.equal(who.apiKey.prefix, alice.prefix)
    assert.equal(who.github.connected, true)
    assert.equal(who.github.login, "alice")
    assert.equal(typeof who.counts.apps, "number")
  })

  test("create_app → get_app_details → list_apps → update_app → redeploy → delete_app", async () => {
    const created = await ok<{ app: AppView; created: boolean }>("create_app", {
      repo: "shop",
      name: "shop",
      port: 3000,
      memory: "512M",
      env_vars: { NODE_ENV: "production", API_SECRET: "s3cret-value" },
      build_command: "npm run build"
    })
    assert.equal(created.created, true)
    assert.equal(created.app.repo, "alice/shop", "a bare repo name is one of the user's repositories")
    assert.equal(created.app.branch, "main")
    assert.equal(created.app.port, 3000)
    assert.deepEqual(created.app.envVarNames, ["API_SECRET", "NODE_ENV"])
    assert.equal(created.app.env, undefined, "env values are not returned unless asked for")
    assert.equal(JSON.stringify(created).includes("s3cret-value"), false)

    const ready = await waitFor(async () => {
      const details = await ok<{ app: AppView }>("get_app_details", { name: "shop" })
      return details.app.ready.status === "True" && details
    }, { what: "shop to become Ready" })
    assert.equal(ready.app.url, "https://shop.apps.test")
    assert.deepEqual(ready.app.conditions.map((condition) => condition.type), ["Ready", "Synced", "Deployed"])

    // Events are recorded just after the status write that caused them.
    const withEnv = await waitFor(async () => {
      const details = await ok<{ app: AppView; events: Array<{ reason: string }>; deployLogs?: { available: boolean; message?: string } }>("get_app_details", {
        name: "shop",
        include_env: true,
        deploy_log_lines: 20
      })
      return details.events.some((event) => event.reason === "Deployed") && details
    }, { what: "the Deployed event in get_app_details" })
    assert.deepEqual(withEnv.app.env, { NODE_ENV: "production", API_SECRET: "s3cret-value" })
    assert.deepEqual(withEnv.deployLogs, { available: false, lines: [], message: "No deployment has been started for this app yet; see the Deployed condition for why." }, "the scripted controller records no deployment: the local runtime's logs say so")

    const listed = await ok<{ apps: Array<{ name: string; url?: string; ready: { status: string } }>; count: number }>("list_apps")
    assert.ok(listed.apps.some((app) => app.name === "shop" && app.url === "https://shop.apps.test" && app.ready.status === "True"))

    const updated = await ok<{ app: AppView; changed: Array<string> }>("update_app", {
      name: "shop",
      branch: "release",
      port: null,
      env_vars: { LOG_LEVEL: "debug", API_SECRET: null }
    })
    assert.deepEqual(updated.changed.sort(), ["branch", "env_vars", "port"])
    assert.equal(updated.app.generation, 2)
    assert.equal(updated.app.port, undefined)
    assert.deepEqual(updated.app.envVarNames, ["LOG_LEVEL", "NODE_ENV"])
    assert.equal(updated.app.memory, "512M", "settings not mentioned are kept")

    const again = await call("update_app", { name: "shop", branch: "release" })
    assert.match(textOf(again), /nothing changed/)
    assert.equal(structured<{ app: AppView }>(again).app.generation, 2)

    const redeployed = await ok<{ app: AppView }>("redeploy", { name: "shop" })
    assert.equal(redeployed.app.redeployCount, 1)
    assert.equal(redeployed.app.generation, 3)

    const deleted = await ok<{ deleted: boolean; finalizers: Array<string> }>("delete_app", { name: "shop" })
    assert.equal(deleted.deleted, false)
    assert.deepEqual(deleted.finalizers, ["deploy.mcp/provider"])
    await waitFor(async () => !(await ok<{ apps: Array<{ name: string }> }>("list_apps")).apps.some((app) => app.name === "shop"), {
      what: "shop to disappear after its finalizer ran"
    })
  })

  test("create_app is idempotent for the same spec and points to update_app for a different one", async () => {
    const args = { repo: "octocat/blog", name: "blog", branch: "main", env_vars: { A: "1" } }
    const first = await ok<{ created: boolean; app: AppView }>("create_app", args)
    const second = await ok<{ created: boolean; app: AppView }>("create_app", args)
    assert.equal(first.created, true)
    assert.equal(second.created, false)
    assert.equal(second.app.generation, 1)
    const message = await fails("create_app", { ...args, branch: "dev", env_vars: { A: "2" } })
    assert.equal(
      message,
      "App 'blog' already exists in project 'default' with different settings (branch, env_vars). Use update_app to change it, or choose another name."
    )
  })

  test("create_app with inline resources creates them in the same transaction and wires them", async () => {
    const created = await ok<{ app: AppView; resourcesCreated: Array<string> }>("create_app", {
      repo: "octocat/api",
      name: "api",
      project: "backend",
      resources: ["api-db", { name: "api-cache", type: "sqlite", size: "small" }]
    })
    assert.deepEqual(created.resourcesCreated, ["api-db", "api-cache"])
    assert.deepEqual(created.app.resources, ["api-db", "api-cache"])
    const resources = await ok<{ resources: Array<{ name: string; project: string }> }>("list_resources", { project: "backend" })
    assert.deepEqual(resources.resources.map((resource) => resource.name).sort(), ["api-cache", "api-db"])

    // A failure after the first resource was written rolls the whole call back.
    const message = await fails("create_app", { repo: "octocat/web", name: "web", project: "backend", resources: ["web-db", { name: "api-db", size: "large" }] })
    assert.match(message, /Resource 'api-db' already exists in project 'backend' and its size is the default, not large/)
    const after = await ok<{ resources: Array<{ name: string }> }>("list_resources", { project: "backend" })
    assert.equal(after.resources.some((resource) => resource.name === "web-db"), false, "the resource of a failed create_app must not exist")
    assert.match(await fails("get_app_details", { name: "web", project: "backend" }), /App 'web' not found in project 'backend'\. Existing apps: api\./)
  })

  test("update_app keeps the order of resources, so DATABASE_URL stays on the first; moving it is said out loud", async () => {
    await ok("create_app", { repo: "octocat/orders", name: "orders", resources: ["orders-db"] })
    const added = await call("update_app", { name: "orders", resources: ["orders-events", "orders-db"] })
    assert.deepEqual(structured<{ app: AppView }>(added).app.resources, ["orders-db", "orders-events"], "a new resource is appended, whatever order it was listed in")
    assert.doesNotMatch(textOf(added), /DATABASE_URL/)
    const removed = await call("update_app", { name: "orders", resources: ["orders-events"] })
    assert.match(textOf(removed), /DATABASE_URL now points to 'orders-events' \(it was 'orders-db', which the app no longer uses\); 'orders-events' is also in ORDERS_EVENTS_DATABASE_URL\./)
    const none = await call("update_app", { name: "orders", resources: [] })
    assert.match(textOf(none), /DATABASE_URL is no longer set: 'orders-events' was the app's only resource\./)
  })

  test("resources: create, list, details with connection settings once Ready, refused delete while used, delete", async () => {
    const created = await ok<{ resource: { name: string; type: string }; created: boolean }>("create_resource", { name: "main-db" })
    assert.equal(created.created, true)
    assert.equal(created.resource.type, "sqlite")
    assert.equal((await ok<{ created: boolean }>("create_resource", { name: "main-db" })).created, false, "same settings again is a no-op")
    assert.equal(
      await fails("create_resource", { name: "main-db", region: "fra" }),
      "Resource 'main-db' already exists in project 'default' with different settings (region: it has the default, not fra). Choose another name, or delete it first with delete_resource.",
      "only the setting that differs is named"
    )

    const details = await waitFor(async () => {
      const found = await ok<{ resource: { ready: { status: string } }; connection?: { url: string; authToken?: string }; usedBy: Array<string> }>(
        "get_resource_details",
        { name: "main-db" }
      )
      return found.resource.ready.status === "True" && found.connection && found
    }, { what: "main-db to be provisioned" })
    assert.ok(details.connection?.url, "the owner sees the connection URL")

    await ok("create_app", { repo: "octocat/one", name: "one", resources: ["main-db"] })
    await ok("create_app", { repo: "octocat/two", name: "two", resources: ["main-db"] })
    assert.deepEqual((await ok<{ usedBy: Array<string> }>("get_resource_details", { name: "main-db" })).usedBy, ["one", "two"])
    assert.equal(
      await fails("delete_resource", { name: "main-db" }),
      "Resource 'main-db' is used by apps 'one', 'two' in project 'default'. Remove it from them first (update_app with resources that leave out 'main-db') or delete those apps, then call delete_resource again."
    )
    await ok("update_app", { name: "one", resources: [] })
    await ok("update_app", { name: "two", resources: [] })
    const deleted = await ok<{ name: string }>("delete_resource", { name: "main-db" })
    assert.equal(deleted.name, "main-db")
    await waitFor(async () => !(await ok<{ resources: Array<{ name: string }> }>("list_resources")).resources.some((r) => r.name === "main-db"), {
      what: "main-db to be gone"
    })
  })

  test("errors say what was wrong and what to do", async () => {
    await ok("create_app", { repo: "octocat/listed", name: "listed" })
    const names = (await ok<{ apps: Array<{ name: string; project: string }> }>("list_apps", { project: "default" })).apps.map((app) => app.name)
    assert.equal(await fails("get_app_details", { name: "nope" }), `App 'nope' not found in project 'default'. Existing apps: ${names.join(", ")}.`)
    assert.equal(await fails("redeploy", { name: "nope", project: "empty" }), "App 'nope' not found in project 'empty'. There are no apps in project 'empty' yet; create one with create_app.")
    assert.match(await fails("get_resource_details", { name: "nope" }), /^Resource 'nope' not found in project 'default'\./)

    const invalid = await fails("create_app", { repo: "octocat/x", name: "Not A Label", port: 70000, colour: "blue", env_vars: { "1BAD": "x" } })
    assert.match(invalid, /^Invalid arguments for create_app:/)
    assert.match(invalid, /- name: must be a DNS label/)
    assert.match(invalid, /- port: port must be a whole number from 1 to 65535/)
    assert.match(invalid, /- colour: is not an argument of create_app \(accepted: repo, name, /)
    assert.match(invalid, /- env_vars\.1BAD: is not a valid environment variable name/)
    assert.match(await fails("create_app", { repo: "https://bob:pw@gitlab.com/a/b", name: "x" }), /repo: the URL contains credentials/)
    assert.match(await fails("create_app", { repo: "http://gitlab.com/a/b", name: "x" }), /only https:\/\/ git URLs can be cloned/)
    assert.match(await fails("create_app", { repo: "github.com/a/b/c", name: "x" }), /points inside a repository/)
    assert.match(await fails("update_app", { name: "listed" }), /update_app needs at least one setting to change/)
    assert.match(await fails("get_app_details", { name: "listed", deploy_log_lines: 5000 }), /deploy_log_lines must be a whole number from 0 to 1000/)

    await ok("delete_app", { name: "listed" })
    const deleting = await call("update_app", { name: "listed", port: 8080 })
    // Gone already (the finalizer ran) or still being deleted: either way it says so.
    assert.equal(deleting.isError, true)
    assert.match(textOf(deleting), /App 'listed' (in project 'default' is being deleted|not found in project 'default')/)

    await assert.rejects(call("no_such_tool"), (error: unknown) => {
      assert.ok(error instanceof McpError)
      assert.equal(error.code, -32602)
      assert.match(error.message, /^MCP error -32602: Unknown tool 'no_such_tool'\. Available tools: whoami, /, "the prefix appears once")
      return true
    })
  })

  test("a bare repo name needs a GitHub identity; owner/name works without one", async () => {
    const local = await t.createUser("local-dev", { github: false })
    const localClient = await t.connect(local.key)
    const bare = await localClient.callTool({ name: "create_app", arguments: { repo: "site", name: "site" } })
    assert.equal(bare.isError, true)
    assert.match(textOf(bare), /has not signed in with GitHub\. Give it as "owner\/name"/)
    const full = await localClient.callTool({ name: "create_app", arguments: { repo: "https://github.com/octocat/site.git", name: "site" } })
    assert.notEqual(full.isError, true, textOf(full))
    assert.equal(structured<{ app: AppView }>(full).app.repo, "octocat/site")
  })

  test("no HTTP 5xx was answered to any request of this file", () => {
    assert.ok(t.statuses.length > 0)
    assert.deepEqual(t.statuses.filter((status) => status >= 500), [])
  })
})
