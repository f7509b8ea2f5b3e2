import assert from "node:assert/strict"
import { test } from "node:test"
import { Result } from "effect"
import { decodeConfig } from "../config/config.ts"
import { deployBlocker, serverCapabilities } from "./capabilities.ts"

const configOf = (env: Record<string, string>) => {
  const decoded = decodeConfig(env)
  assert.ok(Result.isSuccess(decoded))
  return decoded.success
}

const GITHUB = { GITHUB_APP_ID: "1", GITHUB_APP_PRIVATE_KEY: "key", GITHUB_CLIENT_ID: "Iv1.x", GITHUB_CLIENT_SECRET: "secret" }

test("the embedded default: the local runtime deploys, local sqlite files, no GitHub, and what each missing piece is for", () => {
  const capabilities = serverCapabilities(configOf({}))
  assert.deepEqual({ ...capabilities, missing: capabilities.missing.length }, {
    appRuntime: "local",
    canDeploy: true,
    databaseProvider: "local-sqlite",
    githubConfigured: false,
    missing: 2
  })
  assert.match(capabilities.missing[0] ?? "", /^Databases are local libSQL files on this server; Turso databases need the operator to set TURSO_ORG and TURSO_API_TOKEN\.$/)
  assert.match(capabilities.missing[1] ?? "", /need the operator to set GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY, GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET; until then give public repositories as "owner\/name"\.$/)
})

test("coolify chosen without its credentials cannot deploy, and says which variable is missing", () => {
  const blocked = serverCapabilities(configOf({ APP_RUNTIME: "coolify", TURSO_ORG: "org", TURSO_API_TOKEN: "token", ...GITHUB }))
  assert.equal(blocked.appRuntime, "coolify")
  assert.equal(blocked.canDeploy, false)
  assert.equal(blocked.databaseProvider, "turso")
  assert.equal(blocked.githubConfigured, true)
  assert.deepEqual(blocked.missing, [
    "Apps cannot deploy: the coolify runtime needs COOLIFY_URL and COOLIFY_TOKEN, and COOLIFY_URL and COOLIFY_TOKEN are not set; apps are saved and deploy once the operator sets them."
  ])
  assert.match(deployBlocker(configOf({ COOLIFY_URL: "https://coolify.example.com" })) ?? "", /and COOLIFY_TOKEN is not set; .* sets it\.$/)
  assert.equal(deployBlocker(configOf({ COOLIFY_URL: "https://coolify.example.com", COOLIFY_TOKEN: "1|x" })), undefined)
  assert.equal(deployBlocker(configOf({ APP_RUNTIME: "local", COOLIFY_URL: "https://coolify.example.com" })), undefined, "the local runtime needs no Coolify")
})
