/**
 * API keys from the operator CLI (`npm run cli -- apikey …`, run as a child process) against the
 * real server: create prints only the key and the key works on /mcp; list; revoke is effective
 * at once.
 */
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import { runCli } from "../operator/cli.ts"
import { initializeRequest, rawPost, startMcpSystem, structured, type McpTestSystem } from "./support.ts"
import { waitFor } from "../support/wait.ts"

const KEY_LINE = /^dk_live_[0-9A-Za-z]{40}\n$/

describe("apikey CLI", () => {
  let t: McpTestSystem
  let env: Record<string, string>
  before(async () => {
    t = await startMcpSystem()
    await t.createUser("alice")
    env = { DATABASE_URL: t.env.DATABASE_URL ?? "", DATA_ENCRYPTION_KEY: t.env.DATA_ENCRYPTION_KEY ?? "", DATA_DIR: t.env.DATA_DIR ?? "" }
  })
  after(async () => {
    await t?.stop()
  })

  test("create prints only the key; the key works on /mcp", async () => {
    const created = await runCli(["apikey", "create", "--user", "alice", "--name", "laptop"], env)
    assert.equal(created.code, 0, created.stderr)
    assert.match(created.stdout, KEY_LINE)
    assert.match(created.stderr, /^Created API key dk_live_\w{8} for 'alice'\. It is shown only this once/)
    const client = await t.connect(created.stdout.trim())
    const who = structured<{ user: { login: string } }>(await client.callTool({ name: "whoami", arguments: {} }))
    assert.equal(who.user.login, "alice")
  })

  test("create for an unknown login fails with what to do; --create-user creates the user", async () => {
    const missing = await runCli(["apikey", "create", "--user", "ghost"], env)
    assert.equal(missing.code, 1)
    assert.equal(missing.stdout, "")
    assert.match(missing.stderr, /^error: no user 'ghost'\. .*add --create-user\./)
    const created = await runCli(["apikey", "create", "--user", "ghost", "--create-user"], env)
    assert.equal(created.code, 0, created.stderr)
    assert.match(created.stdout, KEY_LINE)
  })

  test("list shows prefixes, users, labels and status; --user filters", async () => {
    const listed = await runCli(["apikey", "list"], env)
    assert.equal(listed.code, 0, listed.stderr)
    const [header, ...rows] = listed.stdout.trimEnd().split("\n")
    assert.match(header ?? "", /^PREFIX\s+USER\s+NAME\s+AGE\s+LAST-USED\s+STATUS$/)
    assert.ok(rows.some((row) => /^dk_live_\w{8}\s+alice\s+laptop\s+\S+\s+.+\s+active$/.test(row)), listed.stdout)
    assert.ok(rows.some((row) => /\sghost\s/.test(row)))
    const onlyAlice = await runCli(["apikey", "list", "--user", "alice"], env)
    assert.equal(onlyAlice.stdout.includes("ghost"), false)
    assert.equal(listed.stdout.includes("dk_live_") && /dk_live_\w{40}/.test(listed.stdout), false, "whole keys are never listed")
  })

  test("revoke takes effect at once; bad prefixes are usage errors", async () => {
    const key = (await runCli(["apikey", "create", "--user", "alice"], env)).stdout.trim()
    assert.equal((await rawPost(t.mcpUrl, initializeRequest, { authorization: `Bearer ${key}` })).status, 200)
    const revoked = await runCli(["apikey", "revoke", key.slice(0, 16)], env)
    assert.equal(revoked.code, 0, revoked.stderr)
    assert.match(revoked.stdout, /^Revoked dk_live_\w{8} of 'alice'/)
    await waitFor(async () => (await rawPost(t.mcpUrl, initializeRequest, { authorization: `Bearer ${key}` })).status === 401, { what: "the revoked key to be refused" })
    assert.match((await runCli(["apikey", "list", "--user", "alice"], env)).stdout, new RegExp(`${key.slice(0, 16)}.*revoked`))

    const malformed = await runCli(["apikey", "revoke", "-x"], env)
    assert.equal(malformed.code, 2)
    const unknown = await runCli(["apikey", "revoke", "dk_live_ZZZZZZZZ"], env)
    assert.equal(unknown.code, 1)
    assert.match(unknown.stderr, /no API key with prefix dk_live_ZZZZZZZZ/)
  })

  test("usage: no command, --help, unknown commands", async () => {
    const none = await runCli([], env)
    assert.equal(none.code, 2)
    assert.match(none.stderr, /^Usage: deploy-mcp <command>/)
    assert.match(none.stderr, /apikey/)
    const help = await runCli(["apikey", "--help"], env)
    assert.equal(help.code, 0)
    assert.match(help.stdout, /deploy-mcp apikey create --user LOGIN/)
    const unknown = await runCli(["frobnicate"], env)
    assert.equal(unknown.code, 2)
    assert.match(unknown.stderr, /unknown command 'frobnicate'/)
  })
})
