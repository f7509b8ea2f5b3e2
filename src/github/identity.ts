/**
 * A user's GitHub standing, for whoami and the dashboard: login, whether the App is installed
 * (an active installation linked to them), whether they granted the repo scope, and where to go
 * to change that. Reads only our database — no GitHub call.
 */
import { Effect, Option } from "effect"
import { AppConfig } from "../config/config.ts"
import { UserStore } from "../store/users.ts"
import { GitHubInstallations } from "./installations.ts"
import { publicUrlOf } from "./repo-tools.ts"
import { GitHubTokenStore, hasRepoScope } from "./tokens.ts"

export interface GitHubIdentity {
  /** None until the user signs in with GitHub. */
  readonly login: string | null
  readonly appInstalled: boolean
  readonly installations: ReadonlyArray<{ readonly id: number; readonly account: string; readonly repositorySelection: "all" | "selected"; readonly suspended: boolean }>
  readonly repoScope: boolean
  /** Where a person signs in, installs the App, or grants the repo scope. */
  readonly links: { readonly dashboard: string; readonly signIn: string; readonly installApp: string; readonly grantRepoScope: string }
}

export const gitHubIdentityOf = Effect.fn("github.gitHubIdentityOf")(function*(userId: string) {
  const publicUrl = publicUrlOf(yield* AppConfig)
  const user = yield* (yield* UserStore).byId(userId)
  const scopes = yield* (yield* GitHubTokenStore).scopes(userId)
  const installations = yield* (yield* GitHubInstallations).listForUser(userId)
  const linked = Option.isSome(user) && user.value.githubId !== null
  return {
    login: linked && Option.isSome(user) ? user.value.login : null,
    appInstalled: installations.some((installation) => !installation.suspended),
    installations: installations.map((installation) => ({
      id: installation.installationId,
      account: installation.accountLogin,
      repositorySelection: installation.repositorySelection,
      suspended: installation.suspended
    })),
    repoScope: Option.match(scopes, { onNone: () => false, onSome: hasRepoScope }),
    links: {
      dashboard: `${publicUrl}/dashboard`,
      signIn: `${publicUrl}/auth/github`,
      installApp: `${publicUrl}/auth/githubapp/install`,
      grantRepoScope: `${publicUrl}/auth/github?scope=repo`
    }
  } satisfies GitHubIdentity
})
