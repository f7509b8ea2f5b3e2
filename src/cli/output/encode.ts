/** Machine-readable output (-o json|yaml): the object envelopes, as a kubectl-style List. */
import { stringify } from "yaml"
import type { StoredObject } from "../../store/objects.ts"
import { redactObject } from "./redact.ts"

export type Encoding = "json" | "yaml"

export const encodeList = (objects: ReadonlyArray<StoredObject>, encoding: Encoding): string => {
  const list = { apiVersion: "deploy.mcp/v1", kind: "List", items: objects.map(redactObject) }
  return encoding === "json" ? JSON.stringify(list, null, 2) + "\n" : stringify(list)
}
