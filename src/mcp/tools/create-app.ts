/** create_app: write an App (and its missing Resources) in one transaction; optionally wait. */
import { Effect, Schema } from "effect"
import { DEFAULT_PROJECT, MAX_REPO_LENGTH, repoLabel } from "../../../schemas/index.ts"
import { AppConfig } from "../../config/config.ts"
import { gitRemoteUrl, pushCommands } from "../../git-remote/urls.ts"
import { publicUrlOf } from "../../github/repo-tools.ts"
import { createObject, inTransaction } from "../../desired/write.ts"
import { NameTaken } from "../../store/errors.ts"
import { ObjectStore, type StoredObject } from "../../store/objects.ts"
import { deployBlocker } from "../capabilities.ts"
import { ToolError } from "../errors.ts"
import { beingDeletedMessage } from "../lookups.ts"
import { defineTool } from "../tool.ts"
import { appView, AppView, readinessLine } from "../views.ts"
import { WaitOutcome } from "../wait-for-app.ts"
import {
  Branch,
  BuildPackArgument,
  Command,
  CpuArgument,
  differingArguments,
  EnvVars,
  HostHint,
  MemoryArgument,
  newAppSpec,
  NewAppName,
  PortArgument,
  ProjectArgument,
  resolveRepo,
  ResourceRequests,
  RuntimeModeArgument,
  Wait,
  WaitTimeoutSeconds
} from "./app-input.ts"
import { ensureResources } from "./inline-resources.ts"
import { waitIfAsked } from "./wait.ts"

const Input = Schema.Struct({
  repo: Schema.optionalKey(
    Schema.String.check(Schema.isMaxLength(MAX_REPO_LENGTH, { message: `repo must be at most ${MAX_REPO_LENGTH} characters` })).annotate({
      description: "GitHub \"owner/name\" (bare = yours) or URL, public https git URL, local path (if allowed); omit to git push code",
      examples: ["my-saas", "octocat/hello-world"]
    })
  ),
  name: NewAppName,
  branch: Schema.optionalKey(Branch),
  project: Schema.optionalKey(ProjectArgument),
  host: Schema.optionalKey(HostHint),
  build_pack: Schema.optionalKey(BuildPackArgument),
  port: Schema.optionalKey(PortArgument),
  env_vars: Schema.optionalKey(EnvVars),
  runtime_mode: Schema.optionalKey(RuntimeModeArgument),
  memory: Schema.optionalKey(MemoryArgument),
  cpu: Schema.optionalKey(CpuArgument),
  install_command: Schema.optionalKey(Command("install_command")),
  build_command: Schema.optionalKey(Command("build_command")),
  start_command: Schema.optionalKey(Command("start_command")),
  resources: Schema.optionalKey(ResourceRequests),
  wait: Schema.optionalKey(Wait),
  wait_timeout_seconds: Schema.optionalKey(WaitTimeoutSeconds)
})

const Output = Schema.Struct({
  app: AppView,
  created: Schema.Boolean,
  resourcesCreated: Schema.Array(Schema.String),
  gitRemote: Schema.optionalKey(
    Schema.Struct({
      url: Schema.String,
      commands: Schema.Array(Schema.String)
    }).annotate({ description: "Apps without repo: push here to deploy (git asks for a password: give an API key, any username)" })
  ),
  wait: Schema.optionalKey(WaitOutcome)
})

export const createApp = defineTool({
  name: "create_app",
  title: "Create an app",
  description:
    "Deploy a repository (or, without repo, code you git push) as an app. Returns at once with its conditions while it builds and starts (follow Ready, or pass wait: true). " +
    "Same name and settings again: the existing app (created: false); change apps with update_app. Omitted commands are the build pack's.",
  input: Input,
  output: Output,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  run: (input, context) =>
    Effect.gen(function*() {
      const owner = context.principal.userId
      const project = input.project ?? DEFAULT_PROJECT
      const repo = yield* resolveRepo(context.principal, input.repo)
      const resourceNames = (input.resources ?? []).map((request) => (typeof request === "string" ? request : request.name))
      const spec = newAppSpec(repo, input, input.env_vars ?? {}, [...new Set(resourceNames)])
      const store = yield* ObjectStore

      /** Same name again: identical settings → the existing app; otherwise say what differs. */
      const existingOutcome = (existing: StoredObject<"App">) =>
        Effect.gen(function*() {
          if (existing.metadata.deletionTimestamp) return yield* new ToolError({ message: beingDeletedMessage(existing) })
          const different = differingArguments(existing.spec, spec)
          if (different.length > 0) {
            return yield* new ToolError({
              message: `App '${input.name}' already exists in project '${project}' with different settings (${different.join(", ")}). Use update_app to change it, or choose another name.`
            })
          }
          return { app: existing, created: false, resourcesCreated: [] as ReadonlyArray<string> }
        })

      // Insert first: the common case costs no extra read. The unique name index turns a repeat
      // (or a concurrent identical call) into NameTaken, and the whole transaction — including
      // any resources it created — rolls back before the existing app is compared.
      const written = yield* inTransaction(
        Effect.gen(function*() {
          const resources = yield* ensureResources(owner, project, input.resources ?? [])
          const app = yield* createObject(owner, { kind: "App", project, name: input.name, spec: { ...spec, resourceRefs: [...resources.names] } })
          return { app, created: true, resourcesCreated: resources.created }
        })
      ).pipe(
        Effect.catchTag("NameTaken", (error: NameTaken) =>
          Effect.gen(function*() {
            if (error.kind !== "App") return yield* error
            return yield* existingOutcome(yield* store.get(owner, { kind: "App", project, name: input.name }))
          })
        )
      )

      // Nothing here can deploy it: say so now, instead of "a controller picks it up shortly" or a wait that only ends in failure.
      const blocker = deployBlocker(yield* AppConfig)
      const remote = repo === undefined ? gitRemoteUrl(publicUrlOf(yield* AppConfig), project, input.name) : undefined
      const gitRemote = remote === undefined ? undefined : { url: remote, commands: pushCommands(remote, spec.branch) }
      const waited = blocker === undefined ? yield* waitIfAsked(input, written.app, context) : undefined
      const app = waited?.app ?? written.app
      const summary = written.created
        ? `Created app '${input.name}' in project '${project}'${repo === undefined ? "" : ` from ${repoLabel(repo)}@${spec.branch}`}${written.resourcesCreated.length ? ` with new resources ${written.resourcesCreated.join(", ")}` : ""}.`
        : `App '${input.name}' already exists in project '${project}' with these settings; nothing changed.`
      return {
        structured: {
          app: appView(app),
          created: written.created,
          resourcesCreated: written.resourcesCreated,
          ...(gitRemote ? { gitRemote } : {}),
          ...(waited ? { wait: waited.outcome } : {})
        },
        text: [
          summary,
          gitRemote
            ? `It deploys what you git push to its branch ${spec.branch}: \`${gitRemote.commands.join(" && ")}\`. git asks for a password: give an API key (dk_live_…), any username.`
            : "",
          blocker ?? (waited ? waited.outcome.message : readinessLine(app)),
          blocker || waited ? "" : "Pass wait: true, or call get_app_details, to follow the deployment."
        ]
          .filter(Boolean)
          .join(" ")
      }
    })
})
