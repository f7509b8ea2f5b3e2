/** redeploy: deploy the same spec again (bumps redeployNonce); optionally wait. */
import { Effect, Schema } from "effect"
import { DEFAULT_PROJECT } from "../../../schemas/index.ts"
import { inTransaction, updateObjectSpec } from "../../desired/write.ts"
import { requireLiveObject } from "../lookups.ts"
import { defineTool } from "../tool.ts"
import { appView, AppView, readinessLine } from "../views.ts"
import { WaitOutcome } from "../wait-for-app.ts"
import { AppName, ProjectArgument, Wait, WaitTimeoutSeconds } from "./app-input.ts"
import { waitIfAsked } from "./wait.ts"

const Input = Schema.Struct({
  name: AppName,
  project: Schema.optionalKey(ProjectArgument),
  wait: Schema.optionalKey(Wait),
  wait_timeout_seconds: Schema.optionalKey(WaitTimeoutSeconds)
})

const Output = Schema.Struct({ app: AppView, wait: Schema.optionalKey(WaitOutcome) })

export const redeploy = defineTool({
  name: "redeploy",
  title: "Redeploy an app",
  description:
    "Build and deploy an app again with its current settings and the head of its branch, e.g. after a failed build or to pick up its resources' new secrets. Pass wait: true to follow it to Ready.",
  input: Input,
  output: Output,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  run: (input, context) =>
    Effect.gen(function*() {
      const owner = context.principal.userId
      const project = input.project ?? DEFAULT_PROJECT
      const update = yield* inTransaction(
        Effect.gen(function*() {
          yield* requireLiveObject(owner, "App", input.project, input.name)
          return yield* updateObjectSpec(owner, { kind: "App", project, name: input.name }, (spec) => ({ ...spec, redeployNonce: spec.redeployNonce + 1 }))
        })
      )
      const waited = yield* waitIfAsked(input, update.object, context)
      const app = waited?.app ?? update.object
      return {
        structured: { app: appView(app), ...(waited ? { wait: waited.outcome } : {}) },
        text: `Redeploy of app '${input.name}' requested (generation ${update.object.metadata.generation}). ${waited ? waited.outcome.message : readinessLine(app)}`
      }
    })
})
