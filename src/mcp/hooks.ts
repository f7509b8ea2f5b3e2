/**
 * Seams that other parts of the system fill in, with honest defaults until they do. Each is a
 * Context.Reference, so tools can always read it; an implementation replaces the default by
 * providing a layer (`Layer.succeed(AppLogs, …)`) in src/mcp/runtime.ts (`hookLayers`).
 *
 * - AppLogs: deploy and runtime logs for get_app_details (the App controller / Coolify issue).
 * - GitHubAccount: what whoami reports about GitHub (the GitHub issue: installation, repo scope).
 */
import { Context, Effect } from "effect"
import type { StoredObject } from "../store/objects.ts"
import type { User } from "../store/users.ts"

export interface LogExcerpt {
  readonly available: boolean
  /** The last lines, oldest first. */
  readonly lines: ReadonlyArray<string>
  /** Why there are no lines, or a note about them, for the agent. */
  readonly message?: string
}

/** The most lines one excerpt carries, whatever was asked (get_app_details, describe). */
export const LOG_LINES_MAX = 1000

/** A requested line count as one the implementations serve: 1 to LOG_LINES_MAX. */
export const clampLogLines = (lines: number): number => Math.min(Math.max(Math.floor(lines), 1), LOG_LINES_MAX)

/** Deploy logs of an app whose latest deployment has not started: the same sentence on every runtime. */
export const NO_DEPLOYMENT_YET: LogExcerpt = { available: false, lines: [], message: "No deployment has been started for this app yet; see the Deployed condition for why." }

export interface AppLogsService {
  deployLogs(app: StoredObject<"App">, lines: number): Effect.Effect<LogExcerpt>
  runtimeLogs(app: StoredObject<"App">, lines: number): Effect.Effect<LogExcerpt>
}

const unavailable: LogExcerpt = { available: false, lines: [], message: "logs unavailable: provider not configured" }

export const AppLogs = Context.Reference<AppLogsService>("deploy-mcp/mcp/AppLogs", {
  defaultValue: () => ({ deployLogs: () => Effect.succeed(unavailable), runtimeLogs: () => Effect.succeed(unavailable) })
})

export interface GitHubAccountInfo {
  /** The user signed in with GitHub (so bare repo names resolve to `login`). */
  readonly connected: boolean
  readonly login: string | null
  /** The GitHub App is installed for the user (needed for private repos and push deploys). */
  readonly appInstalled: boolean
  /** The user granted the `repo` OAuth scope (needed by create_github_repo). */
  readonly repoScope: boolean
  /** What the user can do next, e.g. where to sign in or install the App. */
  readonly hint?: string
}

export interface GitHubAccountService {
  describe(user: User): Effect.Effect<GitHubAccountInfo>
}

export const GitHubAccount = Context.Reference<GitHubAccountService>("deploy-mcp/mcp/GitHubAccount", {
  defaultValue: () => ({
    describe: (user) =>
      Effect.succeed({
        connected: user.githubId !== null,
        login: user.githubId !== null ? user.login : null,
        appInstalled: false,
        repoScope: false,
        hint: "GitHub integration is not configured on this server; use repositories as \"owner/name\"."
      })
  })
})
