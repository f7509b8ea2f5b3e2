/** list_resources: the caller's databases with their readiness. */
import { Effect, Schema } from "effect"
import { listAll } from "../lookups.ts"
import { defineTool } from "../tool.ts"
import { resourceView, ResourceView } from "../views.ts"
import { ProjectArgument } from "./app-input.ts"

const Input = Schema.Struct({
  project: Schema.optionalKey(ProjectArgument.annotate({ description: "Omit for all projects", default: undefined }))
})

const Output = Schema.Struct({ resources: Schema.Array(ResourceView), count: Schema.Int })

export const listResources = defineTool({
  name: "list_resources",
  title: "List databases",
  description: "List your databases with type and readiness; get_resource_details shows one with its URL and token.",
  input: Input,
  output: Output,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  run: (input, context) =>
    Effect.gen(function*() {
      const resources = (yield* listAll(context.principal.userId, "Resource", input.project)).map(resourceView)
      const where = input.project ? ` in project '${input.project}'` : ""
      const lines = resources.map((resource) => `- ${resource.project}/${resource.name} (${resource.type}): Ready=${resource.ready.status} (${resource.ready.reason})${resource.deleting ? " [deleting]" : ""}`)
      return {
        structured: { resources, count: resources.length },
        text: resources.length ? `${resources.length} resource(s)${where}:\n${lines.join("\n")}` : `No resources${where} yet; create one with create_resource.`
      }
    })
})
