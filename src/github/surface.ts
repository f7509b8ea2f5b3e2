/**
 * Everything the GitHub and dashboard routes run on: the platform's services plus the GitHub
 * stores and sessions, in one runtime built on the platform's, and the GitHubApi when the App's
 * credentials are configured.
 */
import { Effect, Layer, ManagedRuntime, Option } from "effect"
import { ApiKeyStore } from "../auth/api-key-store.ts"
import { GitHubApi } from "../providers/github/index.ts"
import { GITHUB_APP_VARIABLES, makeConfiguredGitHubApi, missingGitHubVariables, unconfiguredGitHubApi } from "./api-layer.ts"
import type { ServerContext } from "../server/context.ts"
import type { Platform } from "../system/platform.ts"
import { GitHubInstallations } from "./installations.ts"
import { deriveBrowserKeys, ephemeralSessionSecret, type BrowserKeys } from "./keys.ts"
import { Sessions } from "./sessions.ts"
import { GitHubTokenStore } from "./tokens.ts"

export type GitHubServices = Platform | GitHubInstallations | GitHubTokenStore | Sessions | ApiKeyStore | GitHubApi

export interface GitHubSurface {
  readonly context: ServerContext
  readonly keys: BrowserKeys
  /** Runs route effects (GitHubApi in it is the dying stand-in unless `signInEnabled`). */
  readonly runtime: ManagedRuntime.ManagedRuntime<GitHubServices, unknown>
  /** The GitHub client; one that dies on use when `signInEnabled` is false. */
  readonly api: GitHubApi["Service"]
  /** True when GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY, GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET are all set. */
  readonly signInEnabled: boolean
  /** Where people go to install the App (None without GITHUB_APP_SLUG). */
  readonly installUrl: (state?: string) => Option.Option<string>
  readonly dispose: () => Promise<void>
}

/** Throws (stopping start-up) only when the App's credentials are present but unusable. */
export const buildGitHubSurface = async (context: ServerContext): Promise<GitHubSurface> => {
  const { config, logger } = context
  const missing = missingGitHubVariables(config)
  if (missing.length > 0 && missing.length < GITHUB_APP_VARIABLES.length) {
    logger.warn({ missing }, `GitHub sign-in is off: ${missing.join(", ")} not set (all of ${GITHUB_APP_VARIABLES.join(", ")} are needed)`)
  }
  const api = await Effect.runPromise(makeConfiguredGitHubApi(config).pipe(Effect.mapError((error) => new Error(error.message))))

  let secret = config.SESSION_SECRET
  if (secret === undefined && Option.isSome(api)) {
    logger.warn("SESSION_SECRET is not set: using a random one, so dashboard sessions end when this process restarts and do not work across replicas")
    secret = ephemeralSessionSecret()
  }
  const keys = deriveBrowserKeys(secret ?? ephemeralSessionSecret())

  const platform = await context.runtime.context()
  const services = Layer.mergeAll(GitHubInstallations.layer, GitHubTokenStore.layer, Sessions.layer(keys.session), ApiKeyStore.layer).pipe(
    Layer.provideMerge(Layer.succeedContext(platform))
  )
  const client = Option.getOrElse(api, () => unconfiguredGitHubApi)
  const runtime = ManagedRuntime.make(Layer.merge(services, Layer.succeed(GitHubApi, client)))
  await runtime.context()
  return {
    context,
    keys,
    runtime,
    api: client,
    signInEnabled: Option.isSome(api),
    installUrl: (state) => Option.flatMap(api, (service) => service.installUrl(state)),
    dispose: () => runtime.dispose()
  }
}
