/**
 * The whole story an agent lives, through the MCP SDK's own client against the real server
 * (startSystem: MCP, controllers, webhooks) with the Coolify, Turso and GitHub fakes behind it:
 *
 *   whoami → create_app with an inline sqlite resource, waiting (progress notifications seen)
 *   → Ready with its URL → a signed push webhook → the new revision deployed → get_app_details
 *   with logs and events → what an operator sees with `describe` → delete_app and delete_resource
 *   → everything gone in the fakes — and /metrics, scraped and parsed, tells the same story.
 *
 * The steps share one system and run in order; each is a test so a failure names its step.
 */
import assert from "node:assert/strict"
import { randomBytes } from "node:crypto"
import { after, before, describe, test } from "node:test"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { Effect } from "effect"
import { ApiKeyStore } from "../src/auth/api-key-store.ts"
import { UserStore } from "../src/store/users.ts"
import { startSystem, type RunningSystem } from "../src/system/boot.ts"
import { coolifyAppName } from "../controllers/app/names.ts"
import { startCoolifyFake, type CoolifyFake } from "./fakes/coolify/index.ts"
import { pushEvent, randomSha, sendWebhook, startGitHubFake, type GitHubFake } from "./fakes/github/index.ts"
import { startTursoFake, type TursoFake } from "./fakes/turso/index.ts"
import { runCli } from "./operator/cli.ts"
import { scrape } from "./operator/prometheus.ts"
import { createTestDatabase, type TestDatabase } from "./support/postgres.ts"
import { waitFor } from "./support/wait.ts"

const DNS_SUFFIX = "apps.journey.test"
const METRICS_TOKEN = "journey-metrics-token"
const WEBHOOK_SECRET = randomBytes(20).toString("hex")
const KEY = randomBytes(32).toString("base64")
const APP_SECRET = "journey-secret-value-never-printed"

interface Condition {
  readonly type: string
  readonly status: string
  readonly reason: string
  readonly message: string
}
interface AppView {
  readonly name: string
  readonly url?: string
  readonly revision: string | null
  readonly deployedRevision?: string | null
  readonly resources: ReadonlyArray<string>
  readonly envVarNames: ReadonlyArray<string>
  readonly ready: { readonly status: string; readonly reason: string }
  readonly conditions: ReadonlyArray<Condition>
  readonly deleting: boolean
}
interface LogExcerpt {
  readonly available: boolean
  readonly lines: ReadonlyArray<string>
}
interface Details {
  readonly app: AppView
  readonly events: ReadonlyArray<{ readonly type: string; readonly reason: string; readonly message: string }>
  readonly deployLogs?: LogExcerpt
  readonly runtimeLogs?: LogExcerpt
}

let db: TestDatabase
let coolify: CoolifyFake
let turso: TursoFake
let github: GitHubFake
let system: RunningSystem
let client: Client
let ownerId: string
const pushedSha = randomSha()

const structured = <T>(result: { readonly [key: string]: unknown }): T => result.structuredContent as T
const textOf = (result: { readonly [key: string]: unknown }): string =>
  (result.content as ReadonlyArray<{ readonly text?: string }> | undefined)?.[0]?.text ?? ""

/** A tool call that must succeed; its structured content. */
const call = async <T>(name: string, args: Record<string, unknown> = {}): Promise<T> => {
  const result = await client.callTool({ name, arguments: args })
  assert.notEqual(result.isError, true, `${name}: ${textOf(result)}`)
  return structured<T>(result)
}

const details = (lines = 0) => call<Details>("get_app_details", { name: "shop", ...(lines ? { deploy_log_lines: lines, runtime_log_lines: lines } : {}) })

const coolifyApps = () => coolify.state.applications.filter((app) => app.fields["name"] === coolifyAppName(ownerId, "default", "shop"))

before(async () => {
  coolify = await startCoolifyFake()
  turso = await startTursoFake({ org: "journey" })
  github = await startGitHubFake({ users: [{ login: "alice" }], repos: [{ fullName: "alice/shop", private: false }] })
  db = await createTestDatabase()
  system = await startSystem({
    env: {
      DATABASE_URL: db.url,
      DATA_ENCRYPTION_KEY: KEY,
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "silent",
      APP_DNS_SUFFIX: DNS_SUFFIX,
      METRICS_TOKEN,
      COOLIFY_URL: coolify.url,
      COOLIFY_TOKEN: coolify.token,
      TURSO_API_URL: turso.url,
      TURSO_ORG: "journey",
      TURSO_API_TOKEN: turso.token,
      GITHUB_URL: github.url,
      GITHUB_API_URL: github.apiUrl,
      GITHUB_APP_ID: String(github.appId),
      GITHUB_APP_SLUG: github.appSlug,
      GITHUB_APP_PRIVATE_KEY: github.appPrivateKey,
      GITHUB_CLIENT_ID: github.clientId,
      GITHUB_CLIENT_SECRET: github.clientSecret,
      GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET,
      SESSION_SECRET: randomBytes(32).toString("hex")
    },
    engine: { pollingIntervalSeconds: 0.5 }
  })
  github.configure({
    callbackUrl: `${system.url}/auth/github`,
    setupUrl: `${system.url}/auth/githubapp/callback`,
    webhook: { url: `${system.url}/webhooks/github`, secret: WEBHOOK_SECRET }
  })
  // Alice as GitHub sign-in makes her, with an API key as the dashboard hands it out.
  const account = github.state.account("alice")
  assert.ok(account)
  const key = await system.runtime.runPromise(
    Effect.gen(function*() {
      const user = yield* (yield* UserStore).upsertGitHub(account.id, "alice")
      ownerId = user.id
      return (yield* (yield* ApiKeyStore).create(user.id, "journey")).key
    }).pipe(Effect.provide(ApiKeyStore.layer))
  )
  client = new Client({ name: "journey-agent", version: "1.0.0" })
  await client.connect(new StreamableHTTPClientTransport(new URL(`${system.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${key}` } } }))
})

after(async () => {
  await client?.close().catch(() => undefined)
  await system?.stop()
  await github?.close()
  await turso?.close()
  await coolify?.close()
  await db?.drop()
})

describe("the agent's journey", () => {
  test("whoami: who the key belongs to, with nothing deployed yet", async () => {
    const me = await call<{ user: { login: string }; counts: { apps: number; resources: number } }>("whoami")
    assert.equal(me.user.login, "alice")
    assert.deepEqual(me.counts, { apps: 0, resources: 0 })
  })

  test("create_app with an inline sqlite resource waits, with progress, until Ready at its URL", async () => {
    const progress: Array<string> = []
    const result = await client.callTool(
      { name: "create_app", arguments: { name: "shop", repo: "alice/shop", env_vars: { SHOP_SECRET: APP_SECRET }, resources: [{ name: "shopdb", type: "sqlite" }], wait: true } },
      undefined,
      { resetTimeoutOnProgress: true, onprogress: (note) => void progress.push(note.message ?? "") }
    )
    assert.notEqual(result.isError, true, textOf(result))
    const created = structured<{ app: AppView; resourcesCreated: ReadonlyArray<string>; wait: { outcome: string } }>(result)
    assert.equal(created.wait.outcome, "ready", textOf(result))
    assert.deepEqual(created.resourcesCreated, ["shopdb"])
    assert.equal(created.app.ready.status, "True")
    assert.equal(created.app.url, `https://shop.${DNS_SUFFIX}`)
    assert.ok(progress.length >= 2, `progress notifications: ${JSON.stringify(progress)}`)
    assert.ok(progress.some((line) => /Ready=True/.test(line)), `a progress line announces Ready: ${JSON.stringify(progress)}`)

    // The resource is a real (fake) Turso database, and the app got its connection settings.
    assert.equal(turso.state.databases.size, 1)
    const [app] = coolifyApps()
    assert.ok(app, "one Coolify application for the App")
    assert.equal(coolifyApps().length, 1)
    const envKeys = app.envs.map((env) => env.key)
    assert.ok(envKeys.includes("DATABASE_URL") && envKeys.includes("DATABASE_AUTH_TOKEN") && envKeys.includes("SHOP_SECRET"), `env: ${envKeys.join(", ")}`)
    assert.match(app.envs.find((env) => env.key === "DATABASE_URL")?.value ?? "", /^libsql:\/\/.+-journey\.turso\.io$/)
  })

  test("a signed push webhook deploys the new revision, once", async () => {
    const before = coolify.state.deployments.filter((deployment) => deployment.applicationId === coolifyApps()[0]?.id).length
    const delivery = await sendWebhook({
      url: `${system.url}/webhooks/github`,
      secret: WEBHOOK_SECRET,
      event: "push",
      payload: pushEvent({ repoFullName: "alice/shop", ref: "main", after: pushedSha })
    })
    assert.ok(delivery.status >= 200 && delivery.status < 300, `webhook answered ${delivery.status}: ${delivery.body}`)
    const deployed = await waitFor(
      async () => {
        const view = (await details()).app
        return view.deployedRevision === pushedSha && view.ready.status === "True" ? view : undefined
      },
      { timeoutMs: 60_000, what: "the pushed revision deployed and Ready" }
    )
    assert.equal(deployed.revision, pushedSha)
    const deployments = coolify.state.deployments.filter((deployment) => deployment.applicationId === coolifyApps()[0]?.id)
    assert.equal(deployments.length, before + 1)
    assert.equal(deployments.at(-1)?.commit, pushedSha)
  })

  test("get_app_details shows deploy and runtime logs and the events of the story", async () => {
    const seen = await details(5)
    assert.equal(seen.deployLogs?.available, true)
    assert.ok((seen.deployLogs?.lines.length ?? 0) > 0 && (seen.deployLogs?.lines.length ?? 0) <= 5)
    assert.equal(seen.runtimeLogs?.available, true)
    assert.ok((seen.runtimeLogs?.lines.length ?? 0) > 0)
    const reasons = seen.events.map((event) => event.reason)
    assert.ok(reasons.includes("Created"), `events: ${reasons.join(", ")}`)
    assert.ok(
      seen.events.some((event) => event.message.includes(pushedSha.slice(0, 7))),
      `an event names the pushed revision: ${seen.events.map((event) => event.message).join(" | ")}`
    )
    assert.deepEqual(
      seen.app.conditions.map((condition) => [condition.type, condition.status]).sort(),
      [["Deployed", "True"], ["Ready", "True"], ["Synced", "True"]]
    )
  })

  test("the operator's describe shows the same conditions, with ages, and the events", async () => {
    const described = await runCli(["describe", "app", "shop"], { DATABASE_URL: db.url, DATA_ENCRYPTION_KEY: KEY })
    assert.equal(described.code, 0, described.stderr)
    const out = described.stdout
    assert.match(out, /^Name: +shop$/m)
    assert.match(out, /^User: +alice$/m)
    assert.match(out, /^Finalizers: +deploy\.mcp\/provider$/m)
    assert.match(out, /^ {4}SHOP_SECRET: \(redacted\)$/m)
    assert.ok(!out.includes(APP_SECRET), "env values never reach the terminal")
    const conditions = out.slice(out.indexOf("Conditions:"), out.indexOf("Events:")).split("\n").slice(2).filter(Boolean)
    const table = conditions.map((line) => line.trim().split(/\s{3,}/))
    assert.deepEqual(table.map((row) => [row[0], row[1]]).sort(), [["Deployed", "True"], ["Ready", "True"], ["Synced", "True"]])
    for (const row of table) assert.match(row[3] ?? "", /^\d+(s|m\d*s?)$/, `condition age: ${row.join(" | ")}`)
    assert.match(out.slice(out.indexOf("Events:")), new RegExp(pushedSha.slice(0, 7)))
    const listed = await runCli(["get", "apps", "-o", "wide"], { DATABASE_URL: db.url, DATA_ENCRYPTION_KEY: KEY })
    assert.equal(listed.code, 0, listed.stderr)
    assert.match(listed.stdout, new RegExp(`^shop\\s+True\\s+\\w+\\s+True\\s+True\\s+alice/shop@main\\s+${pushedSha.slice(0, 7)}`, "m"))
  })

  test("delete_app and delete_resource: the app, its database and every provider object are gone", async () => {
    const deleting = await call<{ deleted: boolean; finalizers: ReadonlyArray<string> }>("delete_app", { name: "shop" })
    assert.equal(deleting.deleted, false)
    assert.deepEqual(deleting.finalizers, ["deploy.mcp/provider"])
    await waitFor(
      async () => {
        const listed = await call<{ apps: ReadonlyArray<unknown> }>("list_apps")
        return listed.apps.length === 0
      },
      { timeoutMs: 60_000, what: "the app gone from list_apps" }
    )
    assert.equal(coolifyApps().length, 0, "the Coolify application is deleted")

    await call("delete_resource", { name: "shopdb" })
    await waitFor(async () => (await call<{ resources: ReadonlyArray<unknown> }>("list_resources")).resources.length === 0, {
      timeoutMs: 60_000,
      what: "the resource gone from list_resources"
    })
    assert.equal(turso.state.databases.size, 0, "the Turso database is deleted")
    const me = await call<{ counts: { apps: number; resources: number } }>("whoami")
    assert.deepEqual(me.counts, { apps: 0, resources: 0 })
    const rows = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM objects WHERE owner = $1`, [ownerId])
    assert.equal(rows.rows[0]?.n, 0)

    const missing = await runCli(["describe", "app", "shop"], { DATABASE_URL: db.url, DATA_ENCRYPTION_KEY: KEY })
    assert.equal(missing.code, 1)
    assert.equal(missing.stderr, "error: app 'shop' not found for user 'alice'; there are no apps\n")
    assert.deepEqual(coolify.violations, [])
    assert.deepEqual(turso.violations, [])
  })

  test("/metrics tells the same story", async () => {
    const metrics = await scrape(system.url, METRICS_TOKEN)
    assert.equal(metrics.value("deploy_mcp_tool_calls_total", { tool: "create_app", outcome: "ok" }), 1)
    assert.ok(metrics.value("deploy_mcp_tool_calls_total", { tool: "get_app_details", outcome: "ok" }) >= 2)
    assert.equal(metrics.value("deploy_mcp_tool_calls_total", { tool: "delete_app", outcome: "ok" }), 1)
    assert.ok(metrics.value("deploy_http_requests_total", { method: "POST", route: "/webhooks/github" }) >= 1)
    assert.ok(metrics.value("deploy_reconcile_total", { kind: "App", outcome: "finalized" }) >= 1)
    assert.ok(metrics.value("deploy_reconcile_total", { kind: "Resource", outcome: "finalized" }) >= 1)
    assert.ok(metrics.value("deploy_provider_requests_total", { provider: "coolify", endpoint: "POST /applications/public" }) >= 1)
    assert.ok(metrics.value("deploy_provider_requests_total", { provider: "coolify", endpoint: "DELETE /applications/{uuid}" }) >= 1)
    assert.ok(metrics.value("deploy_provider_requests_total", { provider: "turso", endpoint: "createDatabase", status: "ok" }) >= 1)
    assert.equal(metrics.value("deploy_objects", { kind: "App", ready: "True" }), 0)
    assert.ok(metrics.has("deploy_queue_depth", { queue: "reconcile-app", state: "queued" }))
  })
})
