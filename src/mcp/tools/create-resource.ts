/** create_resource: write a Resource (a database); the Resource controller provisions it. */
import { Effect, Option, Schema } from "effect"
import { DEFAULT_PROJECT, ResourceSize, type ResourceSpec } from "../../../schemas/index.ts"
import { createObject, inTransaction } from "../../desired/write.ts"
import { ObjectStore } from "../../store/objects.ts"
import { ToolError } from "../errors.ts"
import { beingDeletedMessage, lockResourceNames } from "../lookups.ts"
import { defineTool } from "../tool.ts"
import { readinessLine, resourceView, ResourceView } from "../views.ts"
import { ProjectArgument, Region, ResourceTypeArgument } from "./app-input.ts"
import { ResourceName } from "./resource-input.ts"

const Input = Schema.Struct({
  name: ResourceName,
  type: Schema.optionalKey(ResourceTypeArgument),
  size: Schema.optionalKey(ResourceSize.annotate({ default: "small" })),
  region: Schema.optionalKey(Region),
  project: Schema.optionalKey(ProjectArgument)
})

const Output = Schema.Struct({
  resource: ResourceView,
  created: Schema.Boolean
})

const shown = (value: string | undefined) => value ?? "the default"

/** The arguments whose values differ from the existing resource's, each with both values (none is secret). */
const differingSettings = (existing: ResourceSpec, asked: ResourceSpec): ReadonlyArray<string> =>
  (["type", "size", "region"] as const)
    .filter((key) => existing[key] !== asked[key])
    .map((key) => `${key}: it has ${shown(existing[key])}, not ${shown(asked[key])}`)

export const createResource = defineTool({
  name: "create_resource",
  title: "Create a database",
  description:
    "Create a database. It becomes Ready once provisioned; apps use it through create_app/update_app `resources`, and get_resource_details shows its URL and token.",
  input: Input,
  output: Output,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  run: (input, context) =>
    Effect.gen(function*() {
      const owner = context.principal.userId
      const project = input.project ?? DEFAULT_PROJECT
      const spec: ResourceSpec = { type: input.type ?? "sqlite", ...(input.size ? { size: input.size } : {}), ...(input.region ? { region: input.region } : {}) }
      const result = yield* inTransaction(
        Effect.gen(function*() {
          yield* lockResourceNames(owner, project, [input.name])
          const existing = yield* (yield* ObjectStore).find(owner, { kind: "Resource", project, name: input.name })
          if (Option.isNone(existing)) return { resource: yield* createObject(owner, { kind: "Resource", project, name: input.name, spec }), created: true }
          const resource = existing.value
          if (resource.metadata.deletionTimestamp) return yield* new ToolError({ message: beingDeletedMessage(resource) })
          const different = differingSettings(resource.spec, spec)
          if (different.length > 0) {
            return yield* new ToolError({
              message: `Resource '${input.name}' already exists in project '${project}' with different settings (${different.join("; ")}). Choose another name, or delete it first with delete_resource.`
            })
          }
          return { resource, created: false }
        })
      )
      return {
        structured: { resource: resourceView(result.resource), created: result.created },
        text: `${result.created ? "Created" : "Already exists:"} resource '${input.name}' (${spec.type}) in project '${project}'. ${readinessLine(result.resource)}`
      }
    })
})
