/** whoami: who the key belongs to, the GitHub connection, and how much the user has. */
import { Effect, Option, Schema } from "effect"
import { AppConfig } from "../../config/config.ts"
import { ObjectStore } from "../../store/objects.ts"
import { UserStore } from "../../store/users.ts"
import { ToolError } from "../errors.ts"
import { serverCapabilities, ServerCapabilities } from "../capabilities.ts"
import { GitHubAccount } from "../hooks.ts"
import { defineTool } from "../tool.ts"
import { NoArguments } from "../tool-schema.ts"

const Output = Schema.Struct({
  user: Schema.Struct({ login: Schema.String, createdAt: Schema.String }),
  apiKey: Schema.Struct({ prefix: Schema.String.annotate({ description: "Public prefix of the key in use (to revoke it)" }) }),
  github: Schema.Struct({
    connected: Schema.Boolean,
    login: Schema.NullOr(Schema.String),
    appInstalled: Schema.Boolean,
    repoScope: Schema.Boolean,
    hint: Schema.optionalKey(Schema.String)
  }),
  counts: Schema.Struct({ apps: Schema.Int, resources: Schema.Int }),
  server: ServerCapabilities
})

export const whoami = defineTool({
  name: "whoami",
  title: "Who am I",
  description:
    "A good first call: who this API key belongs to, their GitHub connection (App and repo scope, for private repos, push deploys and create_github_repo), app and resource counts, and what this server can do now (app runtime, can it deploy, database provider, what is missing).",
  input: NoArguments,
  output: Output,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  run: (_input, context) =>
    Effect.gen(function*() {
      const { principal } = context
      const found = yield* (yield* UserStore).byId(principal.userId)
      if (Option.isNone(found)) return yield* new ToolError({ message: "The user of this API key no longer exists; create a new key." })
      const user = found.value
      const github = yield* (yield* GitHubAccount).describe(user)
      const store = yield* ObjectStore
      const apps = yield* store.count(user.id, "App")
      const resources = yield* store.count(user.id, "Resource")
      const server = serverCapabilities(yield* AppConfig)
      const serverText = `Apps run on the ${server.appRuntime} runtime and ${server.canDeploy ? "can" : "cannot"} deploy; databases: ${server.databaseProvider === "turso" ? "Turso" : "local libSQL files"}; GitHub ${server.githubConfigured ? "is" : "is not"} configured.${server.missing.map((sentence) => ` ${sentence}`).join("")}`
      const githubText = github.connected
        ? `GitHub: ${github.login}; App ${github.appInstalled ? "installed" : "not installed"}; repo scope ${github.repoScope ? "granted" : "not granted"}.`
        : "GitHub: not connected."
      return {
        structured: { user: { login: user.login, createdAt: user.createdAt }, apiKey: { prefix: principal.keyPrefix }, github, counts: { apps, resources }, server },
        text: `You are '${user.login}' (key ${principal.keyPrefix}). ${githubText}${github.hint ? ` ${github.hint}` : ""} ${apps} app(s), ${resources} resource(s). ${serverText}`
      }
    })
})
