/** list_apps: the caller's apps with their URL and Ready condition. */
import { Effect, Schema } from "effect"
import { listAll } from "../lookups.ts"
import { defineTool } from "../tool.ts"
import { appSummary, AppSummary } from "../views.ts"
import { ProjectArgument } from "./app-input.ts"

const Input = Schema.Struct({
  project: Schema.optionalKey(ProjectArgument.annotate({ description: "Omit for all projects", default: undefined }))
})

const Output = Schema.Struct({ apps: Schema.Array(AppSummary), count: Schema.Int })

export const listApps = defineTool({
  name: "list_apps",
  title: "List apps",
  description: "List your apps with URL and readiness; get_app_details shows one app's conditions, deployment and events.",
  input: Input,
  output: Output,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  run: (input, context) =>
    Effect.gen(function*() {
      const apps = (yield* listAll(context.principal.userId, "App", input.project)).map(appSummary)
      const where = input.project ? ` in project '${input.project}'` : ""
      const lines = apps.map((app) => `- ${app.project}/${app.name}: Ready=${app.ready.status} (${app.ready.reason})${app.url ? ` ${app.url}` : ""}${app.deleting ? " [deleting]" : ""}`)
      return {
        structured: { apps, count: apps.length },
        text: apps.length ? `${apps.length} app(s)${where}:\n${lines.join("\n")}` : `No apps${where} yet; create one with create_app.`
      }
    })
})
