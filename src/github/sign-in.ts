/**
 * Completing a GitHub sign-in: exchange the code (with the PKCE verifier), read the GitHub user,
 * create or update our user, store the token sealed — without losing a repo-scoped token to a
 * later sign-in that did not ask for the scope — and learn the user's App installations.
 *
 * About "repo scope": the product asks for `scope=repo` through the same OAuth client it signs
 * in with (the GitHub App's client id). GitHub documents that GitHub App user tokens ignore
 * `scope`: their reach is the App's permissions, and X-OAuth-Scopes is empty. So against
 * github.com with a GitHub App client, "repo scope granted" stays false and create_github_repo
 * works only as far as the App's own permissions allow; with an OAuth App client (or the test
 * fake, which follows the OAuth-App model) the scope behaves as described here.
 */
import { Effect, Option } from "effect"
import { GitHubApi } from "../providers/github/index.ts"
import type { ExchangedToken } from "../providers/github/index.ts"
import { inTransaction } from "../desired/write.ts"
import { AppLogger } from "../log/service.ts"
import { UserStore } from "../store/users.ts"
import { GitHubInstallations } from "./installations.ts"
import { GitHubTokenStore, hasRepoScope, type StoredGitHubToken } from "./tokens.ts"

export interface SignInInput {
  readonly code: string
  readonly codeVerifier: string
  readonly redirectUri: string
}

/**
 * Downgrade protection: a fresh token without `repo` does not replace a stored token with
 * `repo` while GitHub still accepts the stored one with that scope. Returns the token kept.
 */
export const storeTokenKeepingRepoScope = Effect.fn("github.storeTokenKeepingRepoScope")(function*(userId: string, fresh: ExchangedToken) {
  const tokens = yield* GitHubTokenStore
  const incoming: StoredGitHubToken = { token: fresh.accessToken, scopes: fresh.scopes }
  if (!hasRepoScope(incoming.scopes)) {
    const stored = yield* tokens.get(userId)
    if (Option.isSome(stored) && hasRepoScope(stored.value.scopes) && stored.value.token !== incoming.token) {
      const api = yield* GitHubApi
      const status = yield* api.checkUserToken(stored.value.token).pipe(Effect.orElseSucceed(() => ({ _tag: "Unknown" as const })))
      if (status._tag === "Valid" && hasRepoScope(status.scopes)) return { kept: stored.value, replaced: false }
      if (status._tag === "Unknown") {
        // GitHub could not say; keeping the stronger token is the safe side (a dead one is replaced at the next sign-in).
        const logger = yield* AppLogger
        logger.warn({ userId }, "GitHub did not answer the token check; keeping the stored repo-scoped token")
        return { kept: stored.value, replaced: false }
      }
    }
  }
  yield* tokens.save(userId, incoming)
  return { kept: incoming, replaced: true }
})

/**
 * Records the installations GitHub lists for the user (their account and organizations) and
 * lets the user use them. Verified by GitHub through the user's own token.
 */
export const syncUserInstallations = Effect.fn("github.syncUserInstallations")(function*(userId: string, userToken: string) {
  const api = yield* GitHubApi
  const listed = yield* api.listUserInstallations(userToken)
  const installations = yield* GitHubInstallations
  yield* inTransaction(
    Effect.forEach(
      listed,
      (installation) =>
        installations
          .record({
            installationId: installation.id,
            accountLogin: installation.account.login,
            accountId: installation.account.id,
            accountType: installation.account.type,
            repositorySelection: installation.repositorySelection,
            suspended: installation.suspended
          })
          .pipe(Effect.flatMap((active) => (active ? installations.linkUsers(installation.id, [userId]) : Effect.void))),
      { discard: true }
    )
  )
  return listed
})

export const completeSignIn = Effect.fn("github.completeSignIn")(function*(input: SignInInput) {
  const api = yield* GitHubApi
  const exchanged = yield* api.exchangeOAuthCode(input)
  const gitHubUser = yield* api.getAuthenticatedUser(exchanged.accessToken)
  const users = yield* UserStore
  const user = yield* users.upsertGitHub(gitHubUser.id, gitHubUser.login)
  const { kept } = yield* storeTokenKeepingRepoScope(user.id, exchanged)
  const logger = yield* AppLogger
  // Installations are a convenience here (the setup callback and webhooks also record them): a failure must not fail the sign-in.
  yield* syncUserInstallations(user.id, kept.token).pipe(
    Effect.catch((error) => Effect.sync(() => logger.warn({ userId: user.id, error: error.message }, "could not read the user's GitHub App installations at sign-in")))
  )
  logger.info({ userId: user.id, login: user.login, repoScope: hasRepoScope(kept.scopes) }, "signed in with GitHub")
  return { user, repoScope: hasRepoScope(kept.scopes) }
})
