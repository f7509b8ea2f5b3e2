/**
 * The operator CLI against a real database: `get`, `describe`, `events` (with --watch) and
 * `reconcile` run as child processes; tables, JSON/YAML and exit codes are asserted.
 */
import assert from "node:assert/strict"
import { execFile } from "node:child_process"
import path from "node:path"
import { promisify } from "node:util"
import { after, before, describe, test } from "node:test"
import { Effect, ManagedRuntime } from "effect"
import { parse as parseYaml } from "yaml"
import { writeStatus } from "../../controllers/engine/conditions.ts"
import type { StoredObject } from "../../src/store/objects.ts"
import { EventStore } from "../../src/store/events.ts"
import { ObjectStore, PLATFORM_OWNER } from "../../src/store/objects.ts"
import { UserStore } from "../../src/store/users.ts"
import { createTestDatabase, type TestDatabase } from "../support/postgres.ts"
import { newKey } from "../support/engine.ts"
import { storeLayer, type StoreServices } from "../support/layers.ts"
import { runCli, startCli } from "./cli.ts"

const SECRET = "s3cr3t-value-never-printed"

let db: TestDatabase
let runtime: ManagedRuntime.ManagedRuntime<StoreServices, never>
let env: Record<string, string>
let alice: string
let shop: StoredObject<"App">

const appSpec = (repo: string) => ({
  repo,
  branch: "main",
  revision: null,
  buildPack: "nixpacks" as const,
  runtimeMode: "on_demand" as const,
  env: { SECRET_TOKEN: SECRET, PUBLIC_NAME: "shop" },
  resourceRefs: [],
  redeployNonce: 0
})

before(async () => {
  db = await createTestDatabase()
  const key = newKey()
  runtime = ManagedRuntime.make(storeLayer(db.pool, key))
  env = { DATABASE_URL: db.url, DATA_ENCRYPTION_KEY: key.toString("base64") }
  await runtime.runPromise(
    Effect.gen(function*() {
      const users = yield* UserStore
      const store = yield* ObjectStore
      alice = (yield* users.ensure("alice")).id
      const bob = (yield* users.ensure("bob")).id
      const created = yield* store.create(alice, { kind: "App", name: "shop", spec: appSpec("alice/shop") })
      shop = yield* writeStatus(created, (status) => ({ ...status, url: "https://shop.apps.example.com", deployedRevision: "a".repeat(40) }), {
        conditions: [
          { type: "Synced", status: "True", reason: "Created", message: "The app exists in the provider." },
          { type: "Deployed", status: "True", reason: "Deployed", message: "Revision aaaaaaa is running." },
          { type: "Ready", status: "True", reason: "Deployed", message: "The app serves traffic." }
        ]
      })
      yield* store.create(alice, { kind: "App", name: "blog", spec: appSpec("alice/blog") })
      yield* store.create(bob, { kind: "App", name: "api", spec: appSpec("bob/api") })
      const resource = yield* store.create(alice, { kind: "Resource", name: "db1", spec: { type: "sqlite", size: "small" } })
      yield* writeStatus(resource, (status) => status, {
        conditions: [
          { type: "Synced", status: "False", reason: "ProviderError", message: "Turso answered 500." },
          { type: "Ready", status: "False", reason: "ProviderError", message: "Turso answered 500." }
        ]
      })
      yield* store.create(PLATFORM_OWNER, {
        kind: "Host",
        name: "h1",
        spec: { address: "10.0.0.5", port: 22, user: "deploy", role: "run", dnsSuffix: "s1.example.com", capacity: { cpu: "4", memory: "8G" } }
      })
    })
  )
})

after(async () => {
  await runtime.dispose()
  await db.drop()
})

const lines = (text: string) => text.trimEnd().split("\n")
const columns = (line: string) => line.trim().split(/\s{3,}/)

describe("get", () => {
  test("lists one user's apps as a table with Ready and URL", async () => {
    const result = await runCli(["get", "apps", "--user", "alice"], env)
    assert.equal(result.code, 0, result.stderr)
    const [header, ...rows] = lines(result.stdout)
    assert.deepEqual(columns(header ?? ""), ["NAME", "READY", "STATUS", "URL", "AGE"])
    assert.deepEqual(rows.map((row) => columns(row).slice(0, 4)), [
      ["blog", "Unknown", "Pending", "<none>"],
      ["shop", "True", "Deployed", "https://shop.apps.example.com"]
    ])
    assert.match(columns(rows[1] ?? "")[4] ?? "", /^\d+s$/)
  })

  test("-o wide adds the sub-conditions, repo and deployed revision", async () => {
    const result = await runCli(["get", "app", "shop", "-o", "wide", "--user", "alice"], env)
    assert.equal(result.code, 0, result.stderr)
    const [header, row] = lines(result.stdout)
    const names = columns(header ?? "")
    const cells = columns(row ?? "")
    assert.deepEqual(names.slice(0, 8), ["NAME", "READY", "STATUS", "SYNCED", "DEPLOYED", "REPO", "REVISION", "HOST"])
    assert.equal(cells[names.indexOf("REPO")], "alice/shop@main")
    assert.equal(cells[names.indexOf("REVISION")], "aaaaaaa")
  })

  test("with several users an operator sees everyone's apps with an OWNER column (logins), and --user narrows", async () => {
    for (const args of [["get", "apps"], ["get", "apps", "--all-users"]]) {
      const all = await runCli(args, env)
      assert.equal(all.code, 0, all.stderr)
      assert.equal(columns(lines(all.stdout)[0] ?? "")[0], "OWNER")
      assert.deepEqual(lines(all.stdout).slice(1).map((row) => columns(row).slice(0, 2)), [["alice", "blog"], ["alice", "shop"], ["bob", "api"]])
    }
    const events = await runCli(["events"], env)
    assert.equal(events.code, 0, events.stderr)
    assert.ok(columns(lines(events.stdout)[0] ?? "").includes("OWNER"), events.stdout)
    const narrowed = await runCli(["get", "apps", "--user", "bob"], env)
    assert.equal(narrowed.code, 0, narrowed.stderr)
    assert.equal(columns(lines(narrowed.stdout)[0] ?? "").includes("OWNER"), false)
    assert.deepEqual(lines(narrowed.stdout).slice(1).map((row) => columns(row)[0]), ["api"])
  })

  test("host add names every missing required flag at once, and its help marks them", async () => {
    const missing = await runCli(["host", "add", "--name", "s1"], env)
    assert.equal(missing.code, 2)
    assert.match(missing.stderr, /missing required flags: --address, --dns-suffix, --capacity-cpu, --capacity-memory \(see deploy-mcp host --help\)/)
    const help = await runCli(["host", "--help"], env)
    for (const flag of ["--name", "--address", "--dns-suffix", "--capacity-cpu", "--capacity-memory"]) {
      assert.match(help.stdout + help.stderr, new RegExp(`\\* ${flag} `), `${flag} is marked required`)
    }
    assert.doesNotMatch(help.stdout + help.stderr, /\* --port /)
  })

  test("-o json and -o yaml print the objects with env values redacted", async () => {
    const json = await runCli(["get", "apps", "-o", "json", "--user", "alice"], env)
    assert.equal(json.code, 0, json.stderr)
    const list = JSON.parse(json.stdout) as { kind: string; items: Array<StoredObject<"App">> }
    assert.equal(list.kind, "List")
    const item = list.items.find((candidate) => candidate.metadata.name === "shop")
    assert.deepEqual(item?.spec.env, { PUBLIC_NAME: "(redacted)", SECRET_TOKEN: "(redacted)" })
    assert.equal(item?.status.conditions?.find((condition) => condition.type === "Ready")?.status, "True")
    assert.ok(!json.stdout.includes(SECRET))
    const yaml = await runCli(["get", "apps", "-o", "yaml", "--user", "alice"], env)
    assert.equal(yaml.code, 0, yaml.stderr)
    assert.deepEqual((parseYaml(yaml.stdout) as typeof list).items.map((candidate) => candidate.metadata.name), ["blog", "shop"])
  })

  test("resources and hosts have their own columns", async () => {
    const resources = await runCli(["get", "resources", "--user", "alice"], env)
    assert.equal(resources.code, 0, resources.stderr)
    assert.deepEqual(lines(resources.stdout).map((line) => columns(line).slice(0, 5)), [
      ["NAME", "READY", "STATUS", "TYPE", "SIZE"],
      ["db1", "False", "ProviderError", "sqlite", "small"]
    ])
    const hosts = await runCli(["get", "hosts"], env)
    assert.equal(hosts.code, 0, hosts.stderr)
    assert.deepEqual(lines(hosts.stdout).map((line) => columns(line).slice(0, 6)), [
      ["NAME", "READY", "STATUS", "ADDRESS", "ROLE", "DNS-SUFFIX"],
      ["h1", "Unknown", "Pending", "10.0.0.5:22", "run", "s1.example.com"]
    ])
  })

  test("an unknown kind or flag is a usage error with exit code 2", async () => {
    const kind = await runCli(["get", "pods"], env)
    assert.equal(kind.code, 2)
    assert.match(kind.stderr, /unknown kind 'pods'; choose one of: apps, resources, hosts/)
    assert.match(kind.stderr, /Usage: deploy-mcp get/)
    const flag = await runCli(["get", "apps", "--bogus"], env)
    assert.equal(flag.code, 2)
    assert.match(flag.stderr, /--bogus/)
  })

  test("without the encryption key it refuses with one line saying which variable to set", async () => {
    const result = await runCli(["get", "apps", "--user", "alice"], { DATABASE_URL: db.url })
    assert.equal(result.code, 1)
    assert.equal(lines(result.stderr).length, 1)
    assert.match(result.stderr, /DATA_ENCRYPTION_KEY is required with DATABASE_URL/)
  })
})

describe("the installable bin", () => {
  test("src/cli/bin.js runs the same CLI as npm run cli", async () => {
    const bin = path.resolve(import.meta.dirname, "../../src/cli/bin.js")
    // The bin's shebang finds node on PATH: put this Node (24, with type stripping) first.
    const { stdout } = await promisify(execFile)(bin, ["get", "apps", "--user", "alice", "-o", "json"], {
      env: { ...env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ""}` }
    })
    assert.deepEqual((JSON.parse(stdout) as { items: Array<StoredObject> }).items.map((item) => item.metadata.name), ["blog", "shop"])
  })
})

describe("describe", () => {
  test("shows spec with env redacted, status, conditions with ages and events", async () => {
    const result = await runCli(["describe", "app", "shop"], env)
    assert.equal(result.code, 0, result.stderr)
    const out = result.stdout
    assert.match(out, /^Name: +shop$/m)
    assert.match(out, /^User: +alice$/m)
    assert.match(out, /^Finalizers: +<none>$/m)
    assert.match(out, /^ {2}repo: alice\/shop$/m)
    assert.match(out, /^ {4}SECRET_TOKEN: \(redacted\)$/m)
    assert.ok(!out.includes(SECRET))
    assert.match(out, /^ {2}url: https:\/\/shop\.apps\.example\.com$/m)
    const conditions = out.slice(out.indexOf("Conditions:"), out.indexOf("Events:"))
    const rows = lines(conditions).slice(1).map(columns)
    assert.deepEqual(rows[0]?.slice(0, 3), ["TYPE", "STATUS", "REASON"])
    assert.deepEqual(rows.slice(1).map((row) => row.slice(0, 3)), [
      ["Ready", "True", "Deployed"],
      ["Synced", "True", "Created"],
      ["Deployed", "True", "Deployed"]
    ])
    assert.match(rows[1]?.[3] ?? "", /^\d+s$/)
    const events = lines(out.slice(out.indexOf("Events:"))).slice(1).map(columns)
    // writeStatus records them in condition order: Ready, Synced, Deployed.
    assert.deepEqual(events.slice(1).map((row) => [row[0], row[1], row[3]]), [
      ["Normal", "Deployed", "The app serves traffic."],
      ["Normal", "Created", "The app exists in the provider."],
      ["Normal", "Deployed", "Revision aaaaaaa is running."]
    ])
  })

  test("an unknown name fails with the names that do exist", async () => {
    const result = await runCli(["describe", "app", "nope", "--user", "alice"], env)
    assert.equal(result.code, 1)
    assert.equal(result.stderr, "error: app 'nope' not found for user 'alice'; apps: blog, shop\n")
    const unknownUser = await runCli(["describe", "app", "shop", "--user", "carol"], env)
    assert.equal(unknownUser.code, 1)
    assert.equal(unknownUser.stderr, "error: user 'carol' not found; users: alice, bob\n")
  })
})

describe("events", () => {
  test("lists a user's events oldest first with the object they are about", async () => {
    const result = await runCli(["events", "--user", "alice"], env)
    assert.equal(result.code, 0, result.stderr)
    const [header, ...rows] = lines(result.stdout)
    assert.deepEqual(columns(header ?? ""), ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"])
    assert.ok(rows.some((row) => /Warning\s+ProviderError\s+resource\/db1\s+Turso answered 500\./.test(row)))
    assert.ok(rows.some((row) => /Normal\s+Created\s+app\/shop/.test(row)))
    const only = await runCli(["events", "--for", "resource/db1", "--user", "alice"], env)
    assert.equal(only.code, 0, only.stderr)
    assert.equal(lines(only.stdout).length, 2)
    const missing = await runCli(["events", "--for", "nope", "--user", "alice"], env)
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /no app, resource or host named 'nope' for user 'alice'/)
  })

  test("--watch prints events as they are recorded and repeated, and exits 0 on SIGTERM", async () => {
    const watch = startCli(["events", "--watch", "--for", "app/shop", "--user", "alice"], env)
    await watch.waitForOutput((out) => out.startsWith("LAST SEEN"), "the header")
    const record = (message: string) =>
      runtime.runPromise(EventStore.use((events) => events.record(alice, shop.metadata.uid, { type: "Warning", reason: "BuildFailed", message })))
    await record("Build 7 failed: npm ERR! missing script: build")
    await watch.waitForOutput((out) => /Warning\s+BuildFailed\s+app\/shop\s+Build 7 failed/.test(out), "the new event")
    await record("Build 7 failed: npm ERR! missing script: build")
    await watch.waitForOutput((out) => /\(x2 over \d+s\)\s+Warning\s+BuildFailed/.test(out), "the repeated event with its count")
    const result = await watch.stop("SIGTERM")
    assert.equal(result.code, 0, result.stderr)
    assert.equal(result.stdout.match(/BuildFailed/g)?.length, 2)
  })
})

describe("reconcile", () => {
  test("enqueues the app's key on its reconcile queue now", async () => {
    const result = await runCli(["reconcile", "app", "shop"], env)
    assert.equal(result.code, 0, result.stderr)
    assert.equal(result.stdout, "app 'shop' (user 'alice', project 'default') queued for reconcile\n")
    const jobs = await db.pool.query<{ data: { uid: string; owner: string } }>(
      `SELECT data FROM pgboss.job WHERE name = 'reconcile-app' AND singleton_key = $1 AND state = 'created'`,
      [shop.metadata.uid]
    )
    assert.deepEqual(jobs.rows.map((row) => row.data), [{ owner: alice, uid: shop.metadata.uid }])
    const missing = await runCli(["reconcile", "app", "nope"], env)
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /app 'nope' not found for any user; apps: api, blog, shop/)
  })
})
