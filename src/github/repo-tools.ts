/**
 * The logic behind the MCP tools `create_github_repo` and `get_github_push_token`, scoped to one
 * user. Errors are typed and their messages tell the agent what the person has to do.
 */
import { Effect, Option, Result, Schema } from "effect"
import { AppConfig } from "../config/config.ts"
import { GitHubApi, GitHubAppNotInstalled, GitHubScopeMissing, GitHubUnauthorized, normalizeRepoRef } from "../providers/github/index.ts"
import { UserStore } from "../store/users.ts"
import { requireGitHub } from "./api-layer.ts"
import { GitHubInstallations } from "./installations.ts"
import { GitHubSignInRequired } from "./installation-setup.ts"
import { GitHubTokenStore } from "./tokens.ts"

/** Where people act: the dashboard and the sign-in routes on this server. */
export const publicUrlOf = (config: { readonly PUBLIC_URL?: string | undefined; readonly PORT: number }): string =>
  (config.PUBLIC_URL ?? `http://localhost:${config.PORT}`).replace(/\/+$/, "")

/** Push tokens are minted only for repositories on the user's own GitHub account (see pushTokenForUser). */
export class PushTokenNotAllowed extends Schema.TaggedError<PushTokenNotAllowed>()("PushTokenNotAllowed", {
  repo: Schema.String,
  message: Schema.String
}) {}

export interface CreateRepoRequest {
  readonly name: string
  readonly description?: string
  /** Default true: new repositories are private unless asked otherwise. */
  readonly private?: boolean
}

const userTokenOf = (userId: string, publicUrl: string, scope?: "repo") =>
  Effect.gen(function*() {
    const tokens = yield* GitHubTokenStore
    const token = yield* tokens.get(userId)
    if (Option.isNone(token)) {
      return yield* new GitHubSignInRequired({
        message: `This account has not signed in with GitHub yet. Open ${publicUrl}/auth/github${scope ? "?scope=repo" : ""} in a browser, sign in, then try again.`
      })
    }
    return token.value
  })

const signInAgain = (publicUrl: string, scope?: "repo") => (error: GitHubUnauthorized) =>
  new GitHubSignInRequired({
    message: `GitHub no longer accepts this account's sign-in (${error.message}). Open ${publicUrl}/auth/github${scope ? "?scope=repo" : ""} in a browser to sign in again.`
  })

export const createGitHubRepoForUser = Effect.fn("github.createGitHubRepoForUser")(function*(userId: string, request: CreateRepoRequest) {
  yield* requireGitHub
  const publicUrl = publicUrlOf(yield* AppConfig)
  const token = yield* userTokenOf(userId, publicUrl, "repo")
  const api = yield* GitHubApi
  const repo = yield* api
    .createRepo(token.token, {
      name: request.name,
      private: request.private ?? true,
      ...(request.description === undefined ? {} : { description: request.description })
    })
    .pipe(
      Effect.catchTag("GitHubUnauthorized", (error) => Effect.fail(signInAgain(publicUrl, "repo")(error))),
      Effect.catchTag("GitHubScopeMissing", (error) =>
        Effect.fail(
          new GitHubScopeMissing({
            operation: error.operation,
            requiredScopes: error.requiredScopes,
            grantedScopes: error.grantedScopes,
            message: `Creating a repository needs the GitHub "repo" scope, which this account has not granted (granted: ${error.grantedScopes.join(", ") || "none"}). Open ${publicUrl}/auth/github?scope=repo in a browser to grant it (or use "Grant repo scope" on ${publicUrl}/dashboard), then try again.`
          })
        )
      )
    )
  const config = yield* AppConfig
  return { ...repo, htmlUrl: `${config.GITHUB_URL.replace(/\/+$/, "")}/${repo.fullName}` }
})

/**
 * A one-hour installation token limited to one repository with contents:write.
 *
 * Only repositories on the user's OWN account: an organization installation is visible to every
 * member with read access, and GitHubApi cannot yet tell whether this user may push to an
 * organization repository, so minting write tokens for those would hand out more than the user has.
 */
export const pushTokenForUser = Effect.fn("github.pushTokenForUser")(function*(userId: string, repo: string) {
  yield* requireGitHub
  const config = yield* AppConfig
  const publicUrl = publicUrlOf(config)
  const users = yield* UserStore
  const user = yield* users.byId(userId)
  if (Option.isNone(user) || user.value.githubId === null) {
    return yield* new GitHubSignInRequired({ message: `This account has not signed in with GitHub yet. Open ${publicUrl}/auth/github in a browser, sign in, then try again.` })
  }
  const parsed = normalizeRepoRef(repo, user.value.login, { host: new URL(config.GITHUB_URL).hostname })
  if (Result.isFailure(parsed)) return yield* parsed.failure
  const ref = parsed.success
  if (ref.owner.toLowerCase() !== user.value.login.toLowerCase()) {
    return yield* new PushTokenNotAllowed({
      repo: ref.fullName,
      message: `Push tokens are only issued for repositories on your own GitHub account (${user.value.login}); ${ref.fullName} belongs to ${ref.owner}. Push with your own git credentials instead.`
    })
  }
  const api = yield* GitHubApi
  const installations = yield* GitHubInstallations
  const known = yield* installations.forRepo(userId, ref.fullName)
  const installationId = Option.isSome(known) ? known.value : yield* confirmOwnInstallation(userId, ref.owner, ref.name, user.value.login)
  const token = yield* api.createRepoPushToken(installationId, ref.name)
  return { repo: ref.fullName, token: token.token, expiresAt: token.expiresAt, installationId }
})

/** Not known yet (e.g. the webhook has not arrived): ask GitHub, as the App, and record it when it is the user's own. */
const confirmOwnInstallation = (userId: string, owner: string, name: string, login: string) =>
  Effect.gen(function*() {
    const api = yield* GitHubApi
    const installUrl = api.installUrl()
    const notInstalled = new GitHubAppNotInstalled({
      operation: "get_github_push_token",
      target: `${owner}/${name}`,
      ...Option.match(installUrl, { onNone: () => ({}), onSome: (url) => ({ installUrl: url }) }),
      message: `The GitHub App is not installed on ${owner}/${name}. ${Option.match(installUrl, {
        onNone: () => "Install it from the dashboard",
        onSome: (url) => `Install it at ${url}`
      })} and give it access to ${name}, then try again.`
    })
    const found = yield* api.getRepoInstallation(owner, name)
    if (Option.isNone(found)) return yield* notInstalled
    const installation = yield* api.getInstallation(found.value)
    if (installation.account.login.toLowerCase() !== login.toLowerCase() || installation.suspended) return yield* notInstalled
    const installations = yield* GitHubInstallations
    yield* installations.record({
      installationId: installation.id,
      accountLogin: installation.account.login,
      accountId: installation.account.id,
      accountType: installation.account.type,
      repositorySelection: installation.repositorySelection,
      suspended: installation.suspended
    })
    yield* installations.linkUsers(installation.id, [userId])
    return installation.id
  })
