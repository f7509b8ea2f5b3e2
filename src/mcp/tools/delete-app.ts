/** delete_app: mark an App for deletion; controllers clean up at the provider, then it is gone. */
import { Effect, Schema } from "effect"
import { DEFAULT_PROJECT } from "../../../schemas/index.ts"
import { deleteObject } from "../../desired/write.ts"
import { defineTool } from "../tool.ts"
import { DeletionOutput, deletionReply } from "./deletion.ts"
import { AppName, ProjectArgument } from "./app-input.ts"

const Input = Schema.Struct({ name: AppName, project: Schema.optionalKey(ProjectArgument) })

const Output = DeletionOutput

export const deleteApp = defineTool({
  name: "delete_app",
  title: "Delete an app",
  description:
    "Delete an app: it stops serving and is removed from the provider. It stays listed (deleting: true) until cleanup finishes. Its databases are kept (delete_resource deletes them).",
  input: Input,
  output: Output,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  run: (input, context) =>
    Effect.gen(function*() {
      const owner = context.principal.userId
      const project = input.project ?? DEFAULT_PROJECT
      const result = yield* deleteObject(owner, { kind: "App", project, name: input.name })
      return deletionReply("App", input.name, "list_apps", result)
    })
})
