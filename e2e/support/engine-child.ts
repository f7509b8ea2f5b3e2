/**
 * An engine replica in its own process, for crash tests: its controller announces each reconcile
 * on stdout and then hangs, so the parent can SIGKILL it mid-reconcile.
 */
import { Effect } from "effect"
import type { Controller } from "../../controllers/engine/controller.ts"
import { Done } from "../../controllers/engine/result.ts"
import { startEngine } from "./engine.ts"

const url = process.env.ENGINE_CHILD_DATABASE_URL
const key = process.env.ENGINE_CHILD_KEY
if (!url || !key) throw new Error("ENGINE_CHILD_DATABASE_URL and ENGINE_CHILD_KEY are required")

/** Hangs on objects named "crash-*" (other keys left over by earlier tests just complete). */
const hangingController: Controller<"Resource", never, never> = {
  kind: "Resource",
  reconcile: (object) =>
    object.metadata.name.startsWith("crash-")
      ? Effect.sync(() => process.stdout.write(`RECONCILING ${object.metadata.uid}\n`)).pipe(Effect.andThen(Effect.never))
      : Effect.succeed(Done)
}

await startEngine({ url, key: Buffer.from(key, "base64") }, [hangingController])
process.stdout.write("READY\n")
