/** update_app: patch an App's spec (generation +1 when something changed); optionally wait. */
import { Effect, Schema } from "effect"
import { DEFAULT_PROJECT } from "../../../schemas/index.ts"
import { inTransaction, updateObjectSpec } from "../../desired/write.ts"
import { ToolError } from "../errors.ts"
import { requireLiveObject } from "../lookups.ts"
import { defineTool } from "../tool.ts"
import { appView, AppView, readinessLine } from "../views.ts"
import { WaitOutcome } from "../wait-for-app.ts"
import {
  AppName,
  applyAppFields,
  Branch,
  BuildPackArgument,
  Command,
  CpuArgument,
  differingArguments,
  EnvVarPatch,
  HostHint,
  MemoryArgument,
  PortArgument,
  ProjectArgument,
  ResourceRequests,
  RuntimeModeArgument,
  Wait,
  WaitTimeoutSeconds
} from "./app-input.ts"
import { ensureResources } from "./inline-resources.ts"
import { orderedResourceRefs, primaryResourceNotice } from "./resource-refs.ts"
import { waitIfAsked } from "./wait.ts"

/** null clears the setting (update_app's description says so once, for all of them). */
const clearable = <S extends Schema.Top>(schema: S) => Schema.NullOr(schema)

const Input = Schema.Struct({
  name: AppName,
  project: Schema.optionalKey(ProjectArgument),
  branch: Schema.optionalKey(Branch),
  host: Schema.optionalKey(clearable(HostHint)),
  build_pack: Schema.optionalKey(BuildPackArgument),
  port: Schema.optionalKey(clearable(PortArgument)),
  env_vars: Schema.optionalKey(EnvVarPatch),
  runtime_mode: Schema.optionalKey(RuntimeModeArgument),
  memory: Schema.optionalKey(clearable(MemoryArgument)),
  cpu: Schema.optionalKey(clearable(CpuArgument)),
  install_command: Schema.optionalKey(clearable(Command("install_command"))),
  build_command: Schema.optionalKey(clearable(Command("build_command"))),
  start_command: Schema.optionalKey(clearable(Command("start_command"))),
  resources: Schema.optionalKey(
    ResourceRequests.annotate({ description: "The app's resources from now on, as in create_app ([] removes all); ones it had keep their place, new ones go after them" })
  ),
  wait: Schema.optionalKey(Wait),
  wait_timeout_seconds: Schema.optionalKey(WaitTimeoutSeconds)
})

const Output = Schema.Struct({
  app: AppView,
  changed: Schema.Array(Schema.String),
  resourcesCreated: Schema.Array(Schema.String),
  wait: Schema.optionalKey(WaitOutcome)
})

const SETTINGS = ["branch", "host", "build_pack", "port", "env_vars", "runtime_mode", "memory", "cpu", "install_command", "build_command", "start_command", "resources"] as const

export const updateApp = defineTool({
  name: "update_app",
  title: "Change an app",
  description:
    "Change an app's settings (create_app's but repo and name). Only the arguments you pass change; null clears a setting; env_vars are merged. " +
    "A real change bumps the generation and rolls out (`changed` lists it); wait: true follows it.",
  input: Input,
  output: Output,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  run: (input, context) =>
    Effect.gen(function*() {
      const owner = context.principal.userId
      const project = input.project ?? DEFAULT_PROJECT
      if (!SETTINGS.some((key) => input[key] !== undefined)) {
        return yield* new ToolError({ message: `update_app needs at least one setting to change (${SETTINGS.join(", ")}); to redeploy unchanged settings use redeploy.` })
      }
      const result = yield* inTransaction(
        Effect.gen(function*() {
          const before = yield* requireLiveObject(owner, "App", input.project, input.name)
          const resources = input.resources === undefined ? undefined : yield* ensureResources(owner, project, input.resources)
          const update = yield* updateObjectSpec(owner, { kind: "App", project, name: input.name }, (spec) => {
            const env = { ...spec.env }
            for (const [name, value] of Object.entries(input.env_vars ?? {})) {
              if (value === null) delete env[name]
              else env[name] = value
            }
            return { ...applyAppFields(spec, input), env, ...(resources ? { resourceRefs: [...orderedResourceRefs(spec.resourceRefs, resources.names)] } : {}) }
          })
          return { before, update, resourcesCreated: resources?.created ?? [] }
        })
      )
      const changed = differingArguments(result.before.spec, result.update.object.spec)
      const notice = primaryResourceNotice(result.before.spec.resourceRefs, result.update.object.spec.resourceRefs)
      const waited = result.update.changed ? yield* waitIfAsked(input, result.update.object, context) : undefined
      const app = waited?.app ?? result.update.object
      return {
        structured: { app: appView(app), changed, resourcesCreated: result.resourcesCreated, ...(waited ? { wait: waited.outcome } : {}) },
        text: result.update.changed
          ? `Updated app '${input.name}' (${changed.join(", ") || "spec"}); generation is now ${app.metadata.generation}.${notice ? ` ${notice}` : ""} ${waited ? waited.outcome.message : readinessLine(app)}`
          : `App '${input.name}' already has these settings; nothing changed. ${readinessLine(app)}`
      }
    })
})
