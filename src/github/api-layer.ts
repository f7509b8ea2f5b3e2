/**
 * GitHubApi for the server, whether or not GitHub is configured: the real client when the App's
 * four credentials are set, otherwise one that dies on use — callers check `gitHubConfigured`
 * first (routes are not registered, tools answer with GitHubNotConfigured), so reaching it is a bug.
 */
import { Effect, Layer, Option, Schema } from "effect"
import { AppConfig, type AppConfigValues } from "../config/config.ts"
import { GitHubApi, makeGitHubApi } from "../providers/github/index.ts"

export const GITHUB_APP_VARIABLES = ["GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY", "GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET"] as const

export const missingGitHubVariables = (config: AppConfigValues): ReadonlyArray<string> => GITHUB_APP_VARIABLES.filter((name) => config[name] === undefined)

export const gitHubConfigured = (config: AppConfigValues): boolean => missingGitHubVariables(config).length === 0

/** The server has no GitHub App configured: sign-in and the repo tools are unavailable. */
export class GitHubNotConfigured extends Schema.TaggedError<GitHubNotConfigured>()("GitHubNotConfigured", {
  message: Schema.String
}) {}

export const requireGitHub = Effect.gen(function*() {
  const config = yield* AppConfig
  const missing = missingGitHubVariables(config)
  if (missing.length > 0) {
    return yield* new GitHubNotConfigured({
      message: `GitHub is not configured on this server (${missing.join(", ")} not set), so this is unavailable. Ask the operator to configure the GitHub App.`
    })
  }
})

const notConfigured = () => Effect.die(new Error(`GitHub is not configured: ${GITHUB_APP_VARIABLES.join(", ")} are needed`))

export const unconfiguredGitHubApi = GitHubApi.of({
  oauthAuthorizeUrl: () => {
    throw new Error(`GitHub is not configured: ${GITHUB_APP_VARIABLES.join(", ")} are needed`)
  },
  installUrl: () => Option.none(),
  exchangeOAuthCode: notConfigured,
  getAuthenticatedUser: notConfigured,
  checkUserToken: notConfigured,
  listUserInstallations: notConfigured,
  getInstallation: notConfigured,
  getRepoInstallation: notConfigured,
  getRepo: notConfigured,
  createRepo: notConfigured,
  createRepoPushToken: notConfigured,
  createRepoReadToken: notConfigured
})

/** None when not configured; fails with the ConfigError when a credential is present but unusable (a bad PEM). */
export const makeConfiguredGitHubApi = (config: AppConfigValues) =>
  gitHubConfigured(config)
    ? makeGitHubApi({
        webUrl: config.GITHUB_URL,
        apiUrl: config.GITHUB_API_URL,
        appId: config.GITHUB_APP_ID ?? "",
        appPrivateKey: config.GITHUB_APP_PRIVATE_KEY ?? "",
        clientId: config.GITHUB_CLIENT_ID ?? "",
        clientSecret: config.GITHUB_CLIENT_SECRET ?? "",
        ...(config.GITHUB_APP_SLUG === undefined ? {} : { appSlug: config.GITHUB_APP_SLUG })
      }).pipe(Effect.map(Option.some))
    : Effect.succeed(Option.none<GitHubApi["Service"]>())

/** The real GitHubApi when configured, the dying stand-in otherwise. A bad private key fails the layer. */
export const gitHubApiLayer = Layer.effect(
  GitHubApi,
  Effect.gen(function*() {
    const api = yield* makeConfiguredGitHubApi(yield* AppConfig)
    return Option.getOrElse(api, () => unconfiguredGitHubApi)
  })
)
