/**
 * Cross-tenant matrix over every app/resource tool: user B never reads, changes, or learns of user
 * A's objects. Another user's name behaves exactly like a name that exists nowhere — the same
 * message, word for word — and B's writes under A's names create B's own objects.
 */
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import type { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { startMcpSystem, structured, textOf, type McpTestSystem } from "./support.ts"
import { scriptedAppController } from "./test-controllers.ts"
import { waitFor } from "../support/wait.ts"

let t: McpTestSystem
let a: Client
let b: Client
let aliceId: string

/** What B must never change: A's specs, generations and deletion marks (status is the controllers'). */
const desiredStateOfA = async () =>
  (
    await t.db.pool.query<{ kind: string; project: string; name: string; spec: unknown; generation: string; deleting: boolean }>(
      "SELECT kind, project, name, spec, generation, deletion_timestamp IS NOT NULL AS deleting FROM objects WHERE owner = $1 ORDER BY kind, project, name",
      [aliceId]
    )
  ).rows

/** The message with the object's name replaced, to compare "someone else's" with "nobody's". */
const normalized = (text: string, name: string) => text.replaceAll(`'${name}'`, "'<name>'")

/** Calls by tool on a named object: what B tries against A's names. */
const OBJECT_CALLS: ReadonlyArray<{ tool: string; args: (name: string) => Record<string, unknown>; kind: "app" | "resource" }> = [
  { tool: "get_app_details", kind: "app", args: (name) => ({ name, include_env: true, deploy_log_lines: 5, runtime_log_lines: 5 }) },
  { tool: "update_app", kind: "app", args: (name) => ({ name, port: 9999, env_vars: { STOLEN: "1" } }) },
  { tool: "redeploy", kind: "app", args: (name) => ({ name, wait: true, wait_timeout_seconds: 1 }) },
  { tool: "delete_app", kind: "app", args: (name) => ({ name }) },
  { tool: "get_resource_details", kind: "resource", args: (name) => ({ name }) },
  { tool: "delete_resource", kind: "resource", args: (name) => ({ name }) }
]

describe("tenancy", () => {
  before(async () => {
    t = await startMcpSystem({ controllers: [scriptedAppController] })
    const alice = await t.createUser("alice")
    const bob = await t.createUser("bob")
    aliceId = alice.user.id
    a = await t.connect(alice.key, "alice")
    b = await t.connect(bob.key, "bob")
    for (const [tool, args] of [
      ["create_app", { repo: "alice/shop", name: "shop", env_vars: { SECRET: "alice-only" }, resources: ["shop-db"] }],
      ["create_app", { repo: "alice/api", name: "api", project: "backend" }],
      ["create_resource", { name: "vault", project: "backend" }]
    ] as const) {
      const result = await a.callTool({ name: tool, arguments: args })
      assert.notEqual(result.isError, true, textOf(result))
    }
    const result = await b.callTool({ name: "create_app", arguments: { repo: "bob/blog", name: "blog" } })
    assert.notEqual(result.isError, true, textOf(result))
  })
  after(async () => {
    await t?.stop()
  })

  test("every object tool: A's names answer exactly like names that exist nowhere, and A's objects are untouched", async () => {
    const before = await desiredStateOfA()
    for (const call of OBJECT_CALLS) {
      for (const [name, project] of [
        [call.kind === "app" ? "shop" : "shop-db", undefined],
        [call.kind === "app" ? "api" : "vault", "backend"]
      ] as const) {
        const withProject = project ? { project } : {}
        const theirs = await b.callTool({ name: call.tool, arguments: { ...call.args(name), ...withProject } })
        const nobodys = await b.callTool({ name: call.tool, arguments: { ...call.args("never-existed"), ...withProject } })
        assert.equal(theirs.isError, true, `${call.tool}(${name}) must fail for bob`)
        assert.equal(
          normalized(textOf(theirs), name),
          normalized(textOf(nobodys), "never-existed"),
          `${call.tool}: another tenant's ${call.kind} must look exactly like a missing one`
        )
        for (const secret of ["alice", "alice-only", ...["shop", "shop-db", "api", "vault"].filter((other) => other !== name).map((other) => `'${other}'`)]) {
          assert.equal(textOf(theirs).includes(secret), false, `${call.tool}(${name}) must not mention ${secret}: ${textOf(theirs)}`)
        }
      }
    }
    assert.deepEqual(await desiredStateOfA(), before)
  })

  test("lists and whoami show only the caller's objects", async () => {
    const apps = structured<{ apps: Array<{ name: string }> }>(await b.callTool({ name: "list_apps", arguments: {} })).apps
    assert.deepEqual(apps.map((app) => app.name), ["blog"])
    assert.deepEqual(structured<{ apps: Array<unknown> }>(await b.callTool({ name: "list_apps", arguments: { project: "backend" } })).apps, [])
    assert.deepEqual(structured<{ resources: Array<unknown> }>(await b.callTool({ name: "list_resources", arguments: {} })).resources, [])
    const who = structured<{ user: { login: string }; counts: { apps: number; resources: number } }>(await b.callTool({ name: "whoami", arguments: {} }))
    assert.equal(who.user.login, "bob")
    assert.deepEqual(who.counts, { apps: 1, resources: 0 })
  })

  test("B writing under A's names creates B's own objects; A's stay as they were", async () => {
    const before = await desiredStateOfA()
    const app = await b.callTool({ name: "create_app", arguments: { repo: "bob/shop", name: "shop", resources: ["shop-db"] } })
    assert.notEqual(app.isError, true, textOf(app))
    const created = structured<{ created: boolean; resourcesCreated: Array<string>; app: { repo: string; envVarNames: Array<string> } }>(app)
    assert.equal(created.created, true, "bob's 'shop' is a new app, not alice's")
    assert.deepEqual(created.resourcesCreated, ["shop-db"], "bob cannot attach alice's database by naming it; he gets his own")
    assert.deepEqual(created.app.envVarNames, [])
    const resource = await b.callTool({ name: "create_resource", arguments: { name: "vault", project: "backend" } })
    assert.equal(structured<{ created: boolean }>(resource).created, true)

    // Each sees their own database's connection settings, never the other's.
    const connection = async (client: Client) =>
      waitFor(async () => structured<{ connection?: { url: string } }>(await client.callTool({ name: "get_resource_details", arguments: { name: "shop-db" } })).connection, {
        what: "shop-db to be provisioned"
      })
    const [alices, bobs] = await Promise.all([connection(a), connection(b)])
    assert.notEqual(alices.url, bobs.url)

    const details = structured<{ app: { repo: string; env?: Record<string, string> } }>(
      await a.callTool({ name: "get_app_details", arguments: { name: "shop", include_env: true } })
    )
    assert.equal(details.app.repo, "alice/shop")
    assert.deepEqual(details.app.env, { SECRET: "alice-only" })
    assert.deepEqual(await desiredStateOfA(), before)
  })
})
