/** delete_resource: mark a database for deletion — refused while an app still uses it. */
import { Effect, Schema } from "effect"
import { DEFAULT_PROJECT } from "../../../schemas/index.ts"
import { deleteObject, inTransaction } from "../../desired/write.ts"
import { ToolError } from "../errors.ts"
import { appsReferencing, lockResourceNames, requireObject } from "../lookups.ts"
import { defineTool } from "../tool.ts"
import { DeletionOutput, deletionReply } from "./deletion.ts"
import { ProjectArgument } from "./app-input.ts"
import { ResourceName } from "./resource-input.ts"

const Input = Schema.Struct({ name: ResourceName, project: Schema.optionalKey(ProjectArgument) })

const Output = DeletionOutput

export const deleteResource = defineTool({
  name: "delete_resource",
  title: "Delete a database",
  description:
    "Delete a database and its data. Refused while an app uses it: first take it out of those apps' resources (update_app) or delete them.",
  input: Input,
  output: Output,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  run: (input, context) =>
    Effect.gen(function*() {
      const owner = context.principal.userId
      const project = input.project ?? DEFAULT_PROJECT
      const result = yield* inTransaction(
        Effect.gen(function*() {
          yield* lockResourceNames(owner, project, [input.name])
          yield* requireObject(owner, "Resource", input.project, input.name)
          const users = yield* appsReferencing(owner, project, input.name)
          if (users.length > 0) {
            const apps = users.map((name) => `'${name}'`).join(", ")
            return yield* new ToolError({
              message: `Resource '${input.name}' is used by app${users.length > 1 ? "s" : ""} ${apps} in project '${project}'. Remove it from ${users.length > 1 ? "them" : "it"} first (update_app with resources that leave out '${input.name}') or delete ${users.length > 1 ? "those apps" : "that app"}, then call delete_resource again.`
            })
          }
          return yield* deleteObject(owner, { kind: "Resource", project, name: input.name })
        })
      )
      return deletionReply("Resource", input.name, "list_resources", result)
    })
})
