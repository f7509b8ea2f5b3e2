/** get_app_details: one app's spec summary, URL, conditions, latest deployment, events and logs. */
import { Effect, Schema } from "effect"
import { repoLabel } from "../../../schemas/index.ts"
import { EventStore } from "../../store/events.ts"
import { AppLogs, LOG_LINES_MAX } from "../hooks.ts"
import { requireObject } from "../lookups.ts"
import { defineTool } from "../tool.ts"
import { appView, AppView, conditionLine, EventView } from "../views.ts"
import { AppName, ProjectArgument } from "./app-input.ts"

const LogLines = (argument: string, logs: string) =>
  Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: LOG_LINES_MAX }, { message: `${argument} must be a whole number from 0 to ${LOG_LINES_MAX}` })).annotate({
    description: `Last lines of the ${logs}`,
    default: 0
  })

const Input = Schema.Struct({
  name: AppName,
  project: Schema.optionalKey(ProjectArgument),
  include_env: Schema.optionalKey(Schema.Boolean.annotate({ description: "Include env values (secrets)", default: false })),
  runtime_log_lines: Schema.optionalKey(LogLines("runtime_log_lines", "app's output")),
  deploy_log_lines: Schema.optionalKey(LogLines("deploy_log_lines", "latest build and deploy"))
})

const Logs = Schema.Struct({ available: Schema.Boolean, lines: Schema.Array(Schema.String), message: Schema.optionalKey(Schema.String) })

const Output = Schema.Struct({
  app: AppView,
  events: Schema.Array(EventView).annotate({ description: "Recent events, newest first" }),
  deployLogs: Schema.optionalKey(Logs),
  runtimeLogs: Schema.optionalKey(Logs)
})

export const getAppDetails = defineTool({
  name: "get_app_details",
  title: "Show an app",
  description:
    "Show one app: settings, URL, conditions (Ready, Synced, Deployed, with reasons and messages), latest deployment, recent events; optionally env values and log lines. Use it to find out why an app is not Ready.",
  input: Input,
  output: Output,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  run: (input, context) =>
    Effect.gen(function*() {
      const owner = context.principal.userId
      const app = yield* requireObject(owner, "App", input.project, input.name)
      const events = yield* (yield* EventStore).list(owner, app.metadata.uid, 10)
      const logs = yield* AppLogs
      const deployLogs = input.deploy_log_lines ? yield* logs.deployLogs(app, input.deploy_log_lines) : undefined
      const runtimeLogs = input.runtime_log_lines ? yield* logs.runtimeLogs(app, input.runtime_log_lines) : undefined
      const view = appView(app, { includeEnv: input.include_env === true })
      const text = [
        `App '${view.name}' (project ${view.project}) from ${repoLabel(view.repo)}@${view.branch}${view.url ? `, ${view.url}` : ""}${view.deleting ? " [being deleted]" : ""}.`,
        ...(view.conditions.length ? view.conditions.map(conditionLine) : [`Ready=${view.ready.status} (${view.ready.reason}): ${view.ready.message}`]),
        ...(view.latestDeployment ? [`Latest deployment: ${view.latestDeployment.state} (revision ${view.latestDeployment.revision ?? "head"})`] : []),
        ...(events.length ? [`Recent events: ${events.slice(0, 3).map((event) => `${event.reason}: ${event.message}`).join(" | ")}`] : []),
        ...(deployLogs && !deployLogs.available ? [`Deploy logs: ${deployLogs.message ?? "unavailable"}`] : []),
        ...(runtimeLogs && !runtimeLogs.available ? [`Runtime logs: ${runtimeLogs.message ?? "unavailable"}`] : [])
      ]
      return {
        structured: { app: view, events, ...(deployLogs ? { deployLogs } : {}), ...(runtimeLogs ? { runtimeLogs } : {}) },
        text: text.join("\n")
      }
    })
})
