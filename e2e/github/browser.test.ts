/**
 * The whole first-run path in a real browser (headless Debian Chromium via playwright-core):
 * sign in with GitHub through the fake's pages, install the App, grant the repo scope, create an
 * API key on the dashboard, and use that key on /mcp. Screenshots go to .artifacts/github-browser/.
 */
import assert from "node:assert/strict"
import { existsSync } from "node:fs"
import { mkdir, mkdtemp, rm } from "node:fs/promises"
import os from "node:os"
import path from "node:path"
import { after, before, describe, test } from "node:test"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { chromium, type BrowserContext, type Page } from "playwright-core"
import { startGitHubTestSystem, type GitHubTestSystem } from "./support.ts"

const CHROMIUM = "/usr/bin/chromium"
const ARTIFACTS = path.resolve(import.meta.dirname, "../../.artifacts/github-browser")

describe("GitHub sign-in in a browser", { skip: existsSync(CHROMIUM) ? false : `no ${CHROMIUM} (apt-get install -y chromium)` }, () => {
  let t: GitHubTestSystem
  let profile: string
  let context: BrowserContext
  let page: Page
  let shot = 0
  const screenshot = async (name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${String(++shot).padStart(2, "0")}-${name}.png`), fullPage: true })

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true })
    t = await startGitHubTestSystem({ fake: { users: [{ login: "alice" }], repos: [{ fullName: "alice/site", private: true }] } })
    t.fake.signIn(undefined) // the fake's pages ask who is signing in, as github.com would
    profile = await mkdtemp(path.join(os.tmpdir(), "deploy-mcp-chromium-"))
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync"
      ]
    })
    page = context.pages()[0] ?? (await context.newPage())
  })
  after(async () => {
    await context?.close()
    if (profile) await rm(profile, { recursive: true, force: true })
    await t?.stop()
  })

  test("sign in, install the App, grant repo scope, create an API key and use it on /mcp", async () => {
    await page.goto(t.system.url)
    await screenshot("landing")
    await page.click("#sign-in")

    // GitHub's authorize page (the fake's): who signs in.
    await page.waitForURL((url) => url.pathname === "/login/oauth/authorize")
    await page.fill('input[name="login"]', "alice")
    await screenshot("github-authorize")
    await page.click('button[name="authorize"]')

    await page.waitForURL(`${t.system.url}/dashboard`)
    assert.equal(await page.textContent("#github-login"), "alice")
    assert.match((await page.textContent("#app-status")) ?? "", /not installed/)
    await screenshot("dashboard-signed-in")

    // Install the App: our redirect → GitHub's install page (alice is signed in there now) → setup URL → confirmed.
    await page.click("#install-app")
    await page.waitForURL((url) => url.pathname === "/dashboard" && url.searchParams.has("installed"))
    assert.match((await page.textContent("#app-status")) ?? "", /installed/)
    assert.match((await page.textContent("#notice")) ?? "", /is confirmed/)
    await screenshot("dashboard-app-installed")

    // Grant the repo scope: a second sign-in that asks for it.
    await page.click("#grant-repo-scope")
    await page.waitForURL(`${t.system.url}/dashboard`)
    assert.match((await page.textContent("#repo-scope")) ?? "", /granted/)
    await screenshot("dashboard-repo-scope")

    // Create an API key; it is shown once with the claude mcp add line.
    await page.fill('input[name="name"]', "browser-test")
    await page.click("#create-key")
    const key = ((await page.textContent("#api-key")) ?? "").trim()
    assert.match(key, /^dk_live_[0-9A-Za-z]{40}$/)
    assert.equal(await page.textContent("#claude-mcp-add"), `claude mcp add --transport http deploy ${t.system.url}/mcp --header "Authorization: Bearer ${key}"`)
    await screenshot("dashboard-api-key")

    // The key works on /mcp, and whoami sees what the browser did.
    const client = new Client({ name: "browser-test", version: "1.0.0" })
    await client.connect(new StreamableHTTPClientTransport(new URL(`${t.system.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${key}` } } }))
    try {
      const who = await client.callTool({ name: "whoami", arguments: {} })
      assert.notEqual(who.isError, true)
      assert.deepEqual((who.structuredContent as { github: unknown }).github, { connected: true, login: "alice", appInstalled: true, repoScope: true })
      const created = await client.callTool({ name: "create_app", arguments: { repo: "site", name: "site" } })
      assert.notEqual(created.isError, true, JSON.stringify(created.content))
    } finally {
      await client.close()
    }

    // The dashboard lists the app the agent created (no controller runs here: no conditions yet).
    await page.goto(`${t.system.url}/dashboard`)
    assert.match((await page.textContent('tr[data-app="site"]')) ?? "", /alice\/site@main/)
    await screenshot("dashboard-app")

    // Sign out through the form (CSRF token included by the page).
    await page.click("#sign-out")
    await page.waitForURL(`${t.system.url}/`)
    assert.ok(await page.isVisible("#sign-in"))
    await screenshot("signed-out")
    assert.deepEqual(t.fake.violations, [])
  })
})
