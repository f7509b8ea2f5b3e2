/**
 * Which way Coolify may fetch an App's repository (DESIGN.md §5): through the user's GitHub App
 * installation when the App is installed on the repo, as a public clone when GitHub says the repo
 * is public, otherwise not at all until someone installs the App. Asked only before a create.
 */
import { Context, Effect, Layer, Option, Schema } from "effect"
import { GitHubInstallations } from "../../src/github/installations.ts"
import { GitHubApi } from "../../src/providers/github/index.ts"
import type { Owner } from "../../src/store/objects.ts"
import type { GitHubError } from "../../src/providers/github/index.ts"

export type RepoAccessDecision =
  | { readonly _tag: "GitHubApp"; readonly installationId: number }
  | { readonly _tag: "Public" }
  /** Private (or missing) and the App is not installed on it: `message` says how to install it. */
  | { readonly _tag: "NotInstalled"; readonly message: string }

/** GitHub could not be asked (down, credentials refused): retried with backoff. */
export class RepoAccessUnavailable extends Schema.TaggedError<RepoAccessUnavailable>()("RepoAccessUnavailable", {
  repo: Schema.String,
  message: Schema.String
}) {}

export class RepoAccess extends Context.Service<RepoAccess, {
  /** `owner` is the App's tenant: only an installation that tenant made (or may use) counts. */
  decide(owner: Owner, repo: string): Effect.Effect<RepoAccessDecision, RepoAccessUnavailable>
  /**
   * A short-lived token that can only read `repo` (contents: read, that one repository), for a
   * runtime that clones it itself. Asked per fetch, never stored.
   */
  readToken(installationId: number, repo: string): Effect.Effect<string, RepoAccessUnavailable>
}>()("deploy-mcp/controllers/app/RepoAccess") {
  /**
   * Without GitHub configuration there is no App to install and nobody to ask: every repository
   * is treated as public and Coolify clones it anonymously (a private one then fails its build
   * with git's own error in the deploy log). The GitHub workstream wires installations in.
   */
  static readonly layerAssumePublic = Layer.succeed(
    RepoAccess,
    RepoAccess.of({
      decide: () => Effect.succeed({ _tag: "Public" }),
      // decide never answers GitHubApp here, so nobody has an installation to ask about.
      readToken: (installationId, repo) =>
        Effect.fail(new RepoAccessUnavailable({ repo, message: `GitHub is not configured on this server, so installation ${installationId} cannot give a token for ${repo}.` }))
    })
  )

  /**
   * The tenant's own recorded installation (src/github/installations.ts, kept true by the install
   * callback and webhooks) decides private access — never GitHub's answer to "is the App installed
   * on this repo?", which would let any tenant build another tenant's private repository through
   * that tenant's installation. Otherwise GitHub says whether the repo is public.
   */
  static readonly layerFromGitHub: Layer.Layer<RepoAccess, never, GitHubApi | GitHubInstallations> = Layer.effect(
    RepoAccess,
    Effect.gen(function*() {
      const github = yield* GitHubApi
      const installations = yield* GitHubInstallations
      const unavailable = (repo: string) => (error: GitHubError) =>
        new RepoAccessUnavailable({ repo, message: `Could not ask GitHub about ${repo}: ${error.message}` })
      const decide = (tenant: Owner, repo: string) =>
        Effect.gen(function*() {
          const [owner = "", name = ""] = repo.split("/")
          const installation = yield* installations
            .forRepo(tenant, repo)
            .pipe(Effect.mapError((error) => new RepoAccessUnavailable({ repo, message: `Could not read GitHub installations for ${repo}: ${error.message}` })))
          if (Option.isSome(installation)) return { _tag: "GitHubApp", installationId: installation.value } as const
          const found = yield* github.getRepo(owner, name).pipe(Effect.mapError(unavailable(repo)))
          if (Option.isSome(found) && !found.value.private) return { _tag: "Public" } as const
          const where = Option.match(github.installUrl(), {
            onNone: () => "Install the Deploy MCP GitHub App on it (GitHub → Settings → Applications → Configure → Repository access)",
            onSome: (url) => `Install the Deploy MCP GitHub App on it at ${url} and grant it access to ${repo}`
          })
          const what = Option.isSome(found) ? "is private" : "is private or does not exist"
          return {
            _tag: "NotInstalled",
            message: `The repository ${repo} ${what} and the Deploy MCP GitHub App is not installed on it, so it cannot be cloned. ${where}; the app deploys on its own once it is.`
          } as const
        })
      const readToken = (installationId: number, repo: string) =>
        github.createRepoReadToken(installationId, repo).pipe(
          Effect.map((minted) => minted.token),
          Effect.mapError((error) => new RepoAccessUnavailable({ repo, message: `Could not get a token to clone ${repo}: ${error.message}` }))
        )
      return RepoAccess.of({ decide, readToken })
    })
  )
}
