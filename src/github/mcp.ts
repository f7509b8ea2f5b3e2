/**
 * What the MCP server needs from GitHub: the services behind create_github_repo and
 * get_github_push_token, and the GitHubAccount hook whoami reports (src/mcp/hooks.ts).
 */
import { Context, Effect, Layer } from "effect"
import { AppConfig } from "../config/config.ts"
import type { SecretBox } from "../crypto/secret-box.ts"
import type { Database } from "../db/database.ts"
import { GitHubAccount, type GitHubAccountInfo } from "../mcp/hooks.ts"
import type { GitHubApi } from "../providers/github/index.ts"
import type { User } from "../store/users.ts"
import type { UserStore } from "../store/users.ts"
import { gitHubApiLayer, missingGitHubVariables } from "./api-layer.ts"
import { gitHubIdentityOf, type GitHubIdentity } from "./identity.ts"
import { GitHubInstallations } from "./installations.ts"
import { GitHubTokenStore } from "./tokens.ts"

export type GitHubToolServices = GitHubApi | GitHubInstallations | GitHubTokenStore

/** GitHubApi (or its not-configured stand-in), installations and tokens. A bad App private key stops start-up. */
export const gitHubToolsLayer: Layer.Layer<GitHubToolServices, never, AppConfig | Database | SecretBox> = Layer.mergeAll(
  gitHubApiLayer.pipe(Layer.orDie),
  GitHubInstallations.layer,
  GitHubTokenStore.layer
)

/** What to tell the agent to do next, with the links a person opens. */
const hintOf = (identity: GitHubIdentity): string | undefined => {
  if (identity.login === null) return `Sign in with GitHub at ${identity.links.signIn} so bare repository names resolve to your account.`
  if (!identity.appInstalled) return `Install the GitHub App at ${identity.links.installApp} so private repositories deploy and pushes redeploy.`
  if (!identity.repoScope) return `To let me create repositories, grant the repo scope at ${identity.links.grantRepoScope}.`
  return undefined
}

export const toGitHubAccountInfo = (identity: GitHubIdentity): GitHubAccountInfo => {
  const hint = hintOf(identity)
  return {
    connected: identity.login !== null,
    login: identity.login,
    appInstalled: identity.appInstalled,
    repoScope: identity.repoScope,
    ...(hint === undefined ? {} : { hint })
  }
}

/** What the user row alone says (a GitHub account linked earlier stays linked), with a hint why nothing more is known. */
const fromUserRecord = (user: User, hint: string): GitHubAccountInfo => ({
  connected: user.githubId !== null,
  login: user.githubId !== null ? user.login : null,
  appInstalled: false,
  repoScope: false,
  hint
})

/** whoami's GitHub fields from our database (no GitHub call). */
export const gitHubAccountLayer: Layer.Layer<never, never, AppConfig | Database | SecretBox | UserStore> = Layer.effect(
  GitHubAccount,
  Effect.gen(function*() {
    const context = yield* Effect.context<AppConfig | Database | SecretBox | UserStore>()
    const services = yield* Layer.build(Layer.mergeAll(GitHubInstallations.layer, GitHubTokenStore.layer))
    const all = Context.merge(context, services)
    const missing = missingGitHubVariables(yield* AppConfig)
    const notConfigured = `GitHub is not configured on this server (the operator sets ${missing.join(", ")}): give public repositories as "owner/name" or https URLs, or create_app without repo and git push the code.`
    return {
      describe: (user: User) =>
        // Without GitHub: no link to sign-in or install routes this server does not serve.
        missing.length > 0
          ? Effect.succeed(fromUserRecord(user, notConfigured))
          : gitHubIdentityOf(user.id).pipe(
              Effect.map(toGitHubAccountInfo),
              Effect.provideContext(all),
              // whoami must answer even when the database hiccups; the rest of whoami shows the same user.
              Effect.orElseSucceed(() => fromUserRecord(user, "GitHub status could not be read just now; try again."))
            )
    }
  })
)
