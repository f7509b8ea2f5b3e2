/** get_github_push_token: a one-hour token that can push to exactly one of the user's repositories. */
import { Effect, Schema } from "effect"
import { AppConfig } from "../../config/config.ts"
import { pushTokenForUser } from "../../github/repo-tools.ts"
import { defineTool } from "../tool.ts"
import { toToolError } from "./create-github-repo.ts"

const Input = Schema.Struct({
  repo: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(300)).annotate({ description: "A name of yours, \"owner/name\", or a github.com URL" })
})

const Output = Schema.Struct({
  repo: Schema.String.annotate({ description: "owner/name" }),
  token: Schema.String.annotate({ description: "GitHub App installation token (ghs_…) with contents:write on this repository only" }),
  expiresAt: Schema.String.annotate({ description: "ISO 8601; the token stops working after this (one hour)" }),
  remoteUrl: Schema.String.annotate({ description: "An https git remote with the token in it, for git push" })
})

export const getGitHubPushToken = defineTool({
  name: "get_github_push_token",
  title: "Get a GitHub push token",
  description:
    "A one-hour token that can push to one of the user's GitHub repositories (via the Deploy MCP GitHub App); `remoteUrl` is an https remote with it for git push. If the App is not installed there, the error says where to install it.",
  input: Input,
  output: Output,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  run: (input, context) =>
    Effect.gen(function*() {
      const pushed = yield* pushTokenForUser(context.principal.userId, input.repo).pipe(Effect.mapError(toToolError))
      const host = new URL((yield* AppConfig).GITHUB_URL).host
      const remoteUrl = `https://x-access-token:${pushed.token}@${host}/${pushed.repo}.git`
      return {
        structured: { repo: pushed.repo, token: pushed.token, expiresAt: pushed.expiresAt, remoteUrl },
        text: `Token for ${pushed.repo}, valid until ${pushed.expiresAt}: push with \`git push ${remoteUrl} HEAD:main\` (or set it as the remote's password, user x-access-token).`
      }
    })
})
