/** create_github_repo: a new repository on the user's GitHub account (needs the repo scope). */
import { Effect, Schema } from "effect"
import { createGitHubRepoForUser } from "../../github/repo-tools.ts"
import { defineTool, ToolError } from "../tool.ts"

const RepoName = Schema.String.check(
  Schema.isPattern(/^[A-Za-z0-9._-]{1,100}$/u, { message: "repository names use 1-100 letters, digits, '.', '_' or '-' (e.g. \"my-saas\")" })
)


const Input = Schema.Struct({
  name: RepoName,
  description: Schema.optionalKey(Schema.String.check(Schema.isMaxLength(350)).annotate({ description: "Shown on GitHub" })),
  private: Schema.optionalKey(Schema.Boolean.annotate({ default: true }))
})

const Output = Schema.Struct({
  repo: Schema.String.annotate({ description: "owner/name, what create_app's repo takes" }),
  private: Schema.Boolean,
  defaultBranch: Schema.String,
  url: Schema.String.annotate({ description: "The repository's page on GitHub" })
})

/** GitHub's refusals and missing set-up, as messages for the agent. */
const expected = new Set([
  "GitHubNotConfigured",
  "GitHubSignInRequired",
  "GitHubScopeMissing",
  "GitHubRepoAlreadyExists",
  "GitHubForbidden",
  "GitHubInvalidRequest",
  "GitHubNotFound",
  "GitHubUnavailable",
  "GitHubUnauthorized"
])

export const toToolError = <E extends { readonly _tag: string; readonly message: string }>(error: E): E | ToolError =>
  expected.has(error._tag) || error._tag === "GitHubAppNotInstalled" || error._tag === "PushTokenNotAllowed" ? new ToolError({ message: error.message }) : error

export const createGitHubRepo = defineTool({
  name: "create_github_repo",
  title: "Create a GitHub repository",
  description:
    "Create a repository on the user's GitHub account to push an app's code to; its `repo` is what create_app takes. Needs the GitHub \"repo\" scope (the error says where to grant it). Push with a token from get_github_push_token.",
  input: Input,
  output: Output,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  run: (input, context) =>
    createGitHubRepoForUser(context.principal.userId, {
      name: input.name,
      ...(input.description === undefined ? {} : { description: input.description }),
      ...(input.private === undefined ? {} : { private: input.private })
    }).pipe(
      Effect.mapError(toToolError),
      Effect.map((repo) => ({
        structured: { repo: repo.fullName, private: repo.private, defaultBranch: repo.defaultBranch, url: repo.htmlUrl },
        text: `Created ${repo.private ? "private" : "public"} repository ${repo.fullName} (${repo.htmlUrl}), default branch ${repo.defaultBranch}. Push to it with a token from get_github_push_token, then create_app with repo "${repo.fullName}".`
      }))
    )
})
