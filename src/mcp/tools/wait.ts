/** `wait: true` for tools that change an App: follow it to Ready or failure (wait-for-app.ts). */
import { Effect, Option } from "effect"
import type { StoredObject } from "../../store/objects.ts"
import type { ToolContext } from "../tool.ts"
import { DEFAULT_WAIT_SECONDS, waitForApp } from "../wait-for-app.ts"

export interface WaitArguments {
  readonly wait?: boolean
  readonly wait_timeout_seconds?: number
}

/** Undefined when the caller did not ask to wait; otherwise the outcome and the App as last seen. */
export const waitIfAsked = (args: WaitArguments, app: StoredObject<"App">, context: ToolContext) =>
  args.wait
    ? waitForApp({
        owner: app.metadata.owner,
        uid: app.metadata.uid,
        generation: app.metadata.generation,
        timeoutSeconds: args.wait_timeout_seconds ?? DEFAULT_WAIT_SECONDS,
        progress: context.progress
      }).pipe(Effect.map((result) => ({ outcome: result.outcome, app: Option.getOrElse(result.app, () => app) })))
    : Effect.succeed(undefined)
