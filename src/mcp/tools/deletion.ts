/** What delete_app and delete_resource answer: the object, whether it is gone, and the cleanup still pending. */
import { Schema } from "effect"
import type { Kind } from "../../../schemas/index.ts"
import type { StoredObject } from "../../store/objects.ts"

/** The tools' output schema: `deleted` is true once the object is gone, false while `finalizers` (cleanup) run. */
export const DeletionOutput = Schema.Struct({
  name: Schema.String,
  project: Schema.String,
  deleted: Schema.Boolean,
  deletionTimestamp: Schema.optionalKey(Schema.String),
  finalizers: Schema.Array(Schema.String)
})

/** The reply for a markForDeletion result: `noun` names the object in the text, `listTool` is where it stays listed until cleanup ends. */
export const deletionReply = <K extends Kind>(noun: string, name: string, listTool: string, result: { readonly object: StoredObject<K>; readonly deleted: boolean }) => {
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
      ? `${noun} '${name}' is deleted.`
      : `${noun} '${name}' is being deleted; pending cleanup: ${pending.join(", ")}. It disappears from ${listTool} when done.`
  }
}
