/** get_resource_details: one database with its connection URL and token — the only place they appear. */
import { Effect, Option, Schema } from "effect"
import { DEFAULT_PROJECT } from "../../../schemas/index.ts"
import { CredentialStore } from "../../store/credentials.ts"
import { appsReferencing, requireObject } from "../lookups.ts"
import { defineTool } from "../tool.ts"
import { conditionLine, resourceView, ResourceView } from "../views.ts"
import { ProjectArgument } from "./app-input.ts"
import { ResourceName } from "./resource-input.ts"

const Input = Schema.Struct({ name: ResourceName, project: Schema.optionalKey(ProjectArgument) })

const Output = Schema.Struct({
  resource: ResourceView,
  connection: Schema.optionalKey(
    Schema.Struct({
      url: Schema.String,
      authToken: Schema.optionalKey(Schema.String.annotate({ description: "Secret: treat like a password" }))
    }).annotate({ description: "How to connect; absent until the resource is provisioned" })
  ),
  usedBy: Schema.Array(Schema.String).annotate({ description: "Apps in the same project that use this resource" })
})

export const getResourceDetails = defineTool({
  name: "get_resource_details",
  title: "Show a database",
  description:
    "Show one database: conditions, the apps using it, and once provisioned its URL and auth token (a secret; apps with it in `resources` get both as env vars).",
  input: Input,
  output: Output,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  run: (input, context) =>
    Effect.gen(function*() {
      const owner = context.principal.userId
      const resource = yield* requireObject(owner, "Resource", input.project, input.name)
      const credentials = yield* (yield* CredentialStore).get(owner, resource.metadata.uid)
      const usedBy = yield* appsReferencing(owner, input.project ?? DEFAULT_PROJECT, input.name)
      const view = resourceView(resource)
      const connection = Option.map(credentials, (stored) => ({ url: stored.url, ...(stored.authToken ? { authToken: stored.authToken } : {}) }))
      return {
        structured: { resource: view, ...(Option.isSome(connection) ? { connection: connection.value } : {}), usedBy },
        text: [
          `Resource '${view.name}' (${view.type}, project ${view.project})${view.deleting ? " [being deleted]" : ""}.`,
          ...(view.conditions.length ? view.conditions.map(conditionLine) : [`Ready=${view.ready.status} (${view.ready.reason}): ${view.ready.message}`]),
          Option.isSome(connection)
            ? `Connection URL: ${connection.value.url}${connection.value.authToken ? " (auth token in the structured result)" : ""}.`
            : "No connection settings yet: they appear once the resource is provisioned.",
          usedBy.length ? `Used by: ${usedBy.join(", ")}.` : "Not used by any app."
        ].join("\n")
      }
    })
})
