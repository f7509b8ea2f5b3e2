/** delete_app: mark an App for deletion; controllers clean up at the provider, then it is gone. */
import { Effect, Schema } from "effect"
import { DEFAULT_PROJECT } from "../../../schemas/index.ts"
import { deleteObject } from "../../desired/write.ts"
import { defineTool } from "../tool.ts"
import { AppName, ProjectArgument } from "./app-input.ts"

const Input = Schema.Struct({ name: AppName, project: Schema.optionalKey(ProjectArgument) })

const Output = Schema.Struct({
  name: Schema.String,
  project: Schema.String,
  deleted: Schema.Boolean.annotate({ description: "True when the app is already gone; false while cleanup (finalizers) runs" }),
  deletionTimestamp: Schema.optionalKey(Schema.String),
  finalizers: Schema.Array(Schema.String).annotate({ description: "Cleanup steps still pending, e.g. deploy.mcp/provider (removing it from the provider)" })
})

export const deleteApp = defineTool({
  name: "delete_app",
  title: "Delete an app",
  description:
    "Delete an app: it stops serving and is removed from the provider. Returns at once; the app stays listed (deleting: true) until cleanup finishes. Its resources (databases) are kept; delete them with delete_resource.",
  input: Input,
  output: Output,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  run: (input, context) =>
    Effect.gen(function*() {
      const owner = context.principal.userId
      const project = input.project ?? DEFAULT_PROJECT
      const result = yield* deleteObject(owner, { kind: "App", project, name: input.name })
      const { metadata } = result.object
      const pending = result.deleted ? [] : metadata.finalizers
      return {
        structured: {
          name: metadata.name,
          project: metadata.project,
          deleted: result.deleted,
          ...(metadata.deletionTimestamp ? { deletionTimestamp: metadata.deletionTimestamp } : {}),
          finalizers: pending
        },
        text: result.deleted
          ? `App '${input.name}' is deleted.`
          : `App '${input.name}' is being deleted; pending cleanup: ${pending.join(", ")}. It disappears from list_apps when done.`
      }
    })
})
