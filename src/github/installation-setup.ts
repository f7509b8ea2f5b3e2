/**
 * The GitHub App's setup callback (/auth/githubapp/callback?installation_id=…): the query string
 * is only a hint. The installation is accepted when GitHub itself lists it among the
 * installations the signed-in user can access (asked with the user's own token).
 *
 * NOT DONE HERE (issue 8, item 3): "on install, the user's Coolify GitHub-App source is ensured
 * through desired state and a reconciler". That needs a desired-state kind for the Coolify
 * source (schemas/ has none yet) and a controller that creates it with CoolifyApi. Until then the
 * installation is recorded here and the affected Apps are enqueued, so the App controller can
 * observe the installation (GitHubInstallations.forRepo) and ensure the source itself.
 */
import { Effect, Option, Schema } from "effect"
import { ReconcileQueue } from "../../controllers/engine/queue.ts"
import { enqueueGitHubSource } from "../../controllers/github-source/queue.ts"
import { inTransaction } from "../desired/write.ts"
import { GitHubApi } from "../providers/github/index.ts"
import type { GitHubInstallation } from "../providers/github/index.ts"
import { GitHubInstallations } from "./installations.ts"
import { GitHubTokenStore } from "./tokens.ts"

/** The user has no GitHub token with us (never signed in with GitHub, or it was lost). */
export class GitHubSignInRequired extends Schema.TaggedError<GitHubSignInRequired>()("GitHubSignInRequired", {
  message: Schema.String
}) {}

/** GitHub does not list the installation for this user: it does not exist, or it is not theirs. */
export class InstallationNotConfirmed extends Schema.TaggedError<InstallationNotConfirmed>()("InstallationNotConfirmed", {
  installationId: Schema.Number,
  message: Schema.String
}) {}

export const confirmInstallation = Effect.fn("github.confirmInstallation")(function*(userId: string, installationId: number) {
  const tokens = yield* GitHubTokenStore
  const token = yield* tokens.get(userId)
  if (Option.isNone(token)) {
    return yield* new GitHubSignInRequired({ message: "Sign in with GitHub first, then install the App again." })
  }
  const api = yield* GitHubApi
  const listed = yield* api.listUserInstallations(token.value.token)
  const found: GitHubInstallation | undefined = listed.find((installation) => installation.id === installationId)
  if (found === undefined) {
    return yield* new InstallationNotConfirmed({
      installationId,
      message: `GitHub does not list installation ${installationId} among the installations your account can access. Install the App from the dashboard and try again.`
    })
  }
  const installations = yield* GitHubInstallations
  const queue = yield* ReconcileQueue
  const apps = yield* inTransaction(
    Effect.gen(function*() {
      const active = yield* installations.record({
        installationId: found.id,
        accountLogin: found.account.login,
        accountId: found.account.id,
        accountType: found.account.type,
        repositorySelection: found.repositorySelection,
        suspended: found.suspended
      })
      if (!active) return 0
      yield* installations.linkUsers(found.id, [userId])
      yield* enqueueGitHubSource(found.id)
      const affected = yield* installations.appsAffectedBy(found.id)
      yield* Effect.forEach(affected, (key) => queue.enqueue("App", key), { discard: true })
      return affected.length
    })
  )
  return { installation: found, appsEnqueued: apps }
})
