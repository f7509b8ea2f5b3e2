/**
 * Ensures the Coolify GitHub App source for one installation of our GitHub App, so Coolify can
 * clone the installation's private repositories (/applications/private-github-app).
 *
 * Creating is not idempotent in Coolify, so every step observes before it creates (the crossplane
 * guard): the private key and the source have deterministic names, and an existing one (ours by
 * name, or any source already bound to the installation) is adopted instead of created again. A
 * crash between the key and the source, or after the source, leaves nothing a rerun duplicates.
 */
import { Effect } from "effect"
import { CoolifyApi } from "../../src/providers/coolify/index.ts"

/** What Coolify needs to act as our GitHub App (from GITHUB_* configuration). */
export interface GitHubAppCredentials {
  readonly htmlUrl: string
  readonly apiUrl: string
  readonly appId: number
  readonly clientId: string
  readonly clientSecret: string
  readonly privateKey: string
  readonly webhookSecret?: string
}

export const sourceName = (installationId: number) => `deploy-mcp-${installationId}`
export const privateKeyName = (appId: number) => `deploy-mcp-github-app-${appId}`

/** The uuid of the installation's Coolify source, created (with its private key) when missing. */
export const ensureGitHubSource = (installationId: number, app: GitHubAppCredentials) =>
  Effect.gen(function*() {
    const api = yield* CoolifyApi
    const name = sourceName(installationId)
    const existing = (yield* api.listGithubApps()).find((source) => source.installation_id === installationId || source.name === name)
    if (existing) return { uuid: existing.uuid, created: false }

    // One key per GitHub App, shared by all its installations' sources.
    const keyName = privateKeyName(app.appId)
    const key = (yield* api.listPrivateKeys()).find((candidate) => candidate.name === keyName)
    const privateKeyUuid = key?.uuid ?? (yield* api.createPrivateKey({ name: keyName, description: "The Deploy MCP GitHub App's private key", private_key: app.privateKey }))

    const created = yield* api.createGithubApp({
      name,
      html_url: app.htmlUrl,
      api_url: app.apiUrl,
      app_id: app.appId,
      installation_id: installationId,
      client_id: app.clientId,
      client_secret: app.clientSecret,
      ...(app.webhookSecret === undefined ? {} : { webhook_secret: app.webhookSecret }),
      private_key_uuid: privateKeyUuid,
      custom_user: "git",
      custom_port: 22
    })
    return { uuid: created.uuid, created: true }
  })
